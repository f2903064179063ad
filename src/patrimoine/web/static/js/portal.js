/* Public portal: draws charts (Vega-Lite) and maps (Leaflet) over content the server has
   already rendered as tables, and enables "copy" buttons. Nothing here is required to read
   the pages. */
(function () {
  "use strict";

  var FORMAT_LOCALE = {decimal: ",", thousands: "\u202f", grouping: [3], currency: ["", "\u00a0€"]};
  var TIME_LOCALE = {
    dateTime: "%A %e %B %Y à %X", date: "%d/%m/%Y", time: "%H:%M:%S", periods: ["AM", "PM"],
    days: ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
    shortDays: ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
    months: ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"],
    shortMonths: ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                  "oct.", "nov.", "déc."]
  };

  function fail(el, message) {
    el.removeAttribute("aria-hidden");
    el.classList.add("viz-error");
    el.textContent = message;
  }

  function drawCharts() {
    var charts = document.querySelectorAll("[data-vega-spec]");
    if (!charts.length || typeof window.vegaEmbed !== "function" || !window.vegaInterpreter) {
      return;
    }
    charts.forEach(function (el) {
      fetch(el.getAttribute("data-vega-spec"), {headers: {Accept: "application/json"}})
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        })
        .then(function (spec) {
          // Expressions interpreted, not compiled: the CSP forbids eval.
          return window.vegaEmbed(el, spec, {
            renderer: "svg", actions: false, formatLocale: FORMAT_LOCALE,
            timeFormatLocale: TIME_LOCALE, ast: true,
            expr: window.vegaInterpreter.expressionInterpreter
          });
        })
        .then(function () { el.setAttribute("data-rendered", "true"); })
        .catch(function () {
          fail(el, "Le graphique n'a pas pu être dessiné ; ses valeurs sont dans le tableau ci-dessous.");
        });
    });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function popup(properties, labelColumn) {
    var keys = Object.keys(properties || {}).filter(function (k) { return k !== "_row"; });
    var rows = keys.slice(0, 12).map(function (k) {
      var v = properties[k];
      return "<tr><th scope=\"row\">" + escapeHtml(k) + "</th><td>" +
        escapeHtml(v === null || v === undefined ? "" : v) + "</td></tr>";
    }).join("");
    var title = labelColumn && properties[labelColumn] ? "<strong>" +
      escapeHtml(properties[labelColumn]) + "</strong>" : "";
    return title + "<table class=\"popup-table\">" + rows + "</table>";
  }

  function drawMaps() {
    var maps = document.querySelectorAll("[data-geojson]");
    if (!maps.length || typeof window.L === "undefined") { return; }
    maps.forEach(function (el) {
      var map = window.L.map(el, {preferCanvas: true, attributionControl: true, zoomSnap: 0.25});
      map.attributionControl.setPrefix("");
      var tiles = el.getAttribute("data-tiles");
      if (tiles) {
        window.L.tileLayer(tiles, {maxZoom: 19,
          attribution: el.getAttribute("data-attribution") || ""}).addTo(map);
      } else {
        el.classList.add("map-no-tiles");
      }
      map.setView([46.6, 2.4], 5);
      var labelColumn = el.getAttribute("data-label");
      fetch(el.getAttribute("data-geojson"), {headers: {Accept: "application/geo+json"}})
        .then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        })
        .then(function (data) {
          // Smaller, lighter points when there are many, so that dense areas stay readable.
          var count = (data.features || []).length;
          var radius = count > 3000 ? 1.8 : count > 500 ? 3.5 : 6;
          var layer = window.L.geoJSON(data, {
            pointToLayer: function (feature, latlng) {
              return window.L.circleMarker(latlng, {radius: radius, color: "#fff",
                weight: count > 3000 ? 0 : 1.5, fillColor: "#000091",
                fillOpacity: count > 3000 ? 0.6 : 0.85});
            },
            style: function () { return {color: "#000091", weight: 2}; },
            onEachFeature: function (feature, lyr) {
              lyr.bindPopup(popup(feature.properties, labelColumn));
            }
          }).addTo(map);
          var bounds = layer.getBounds();
          if (bounds.isValid()) { map.fitBounds(bounds, {padding: [20, 20], maxZoom: 16}); }
          el.setAttribute("data-rendered", String(layer.getLayers().length));
        })
        .catch(function () {
          fail(el, "La carte n'a pas pu être affichée ; la liste des points est ci-dessous.");
        });
    });
  }

  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      if (!navigator.clipboard) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy"));
        navigator.clipboard.writeText(source.textContent).then(function () {
          button.textContent = "Copié";
          setTimeout(function () { button.textContent = "Copier"; }, 2000);
        });
      });
    });
  }

  function start() { drawCharts(); drawMaps(); copyButtons(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
