// Follows a background import (web/import_jobs.py): asks its state every second, moves the
// progress bar, and when it ends loads the follow-up page, which says how it ended. Without
// JavaScript the page's link does the same by hand.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  function poll() {
    fetch(box.getAttribute("data-import-progress"), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.state === "running") {
          if (state.total) {
            bar.max = state.total;
            bar.value = state.done;
            text.textContent = state.done + " sur " + state.total + " lignes traitées.";
          }
          window.setTimeout(poll, 1000);
        } else {
          window.location.assign(box.getAttribute("data-import-done"));
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
