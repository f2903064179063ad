// Progressive enhancement of upload forms marked data-upload-progress: the file is sent with
// XMLHttpRequest so that a progress bar shows how much has been sent; the page the server
// answers (preview or error) then replaces this one. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  function size(bytes) {
    if (bytes < 1048576) { return Math.max(1, Math.round(bytes / 1024)) + " Ko"; }
    return (bytes / 1048576).toFixed(1).replace(".", ",") + " Mo";
  }
  function enhance(form) {
    var box = form.querySelector(".upload-progress");
    var bar = box && box.querySelector("progress");
    var text = box && box.querySelector("[data-progress-text]");
    if (!box || !bar || !window.FormData || !window.XMLHttpRequest) { return; }
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files || !input.files.length) { return; }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      box.hidden = false;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.round((e.loaded / e.total) * 100);
        bar.value = percent;
        text.textContent = percent < 100
          ? "Envoi : " + percent + " % (" + size(e.loaded) + " sur " + size(e.total) + ")"
          : "Fichier envoyé ; lecture et aperçu en cours…";
      });
      xhr.addEventListener("load", function () {
        var url = xhr.responseURL || form.action;
        if (url !== window.location.href) { window.history.pushState(null, "", url); }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.addEventListener("error", function () {
        if (button) { button.disabled = false; }
        text.textContent = "L'envoi a échoué (connexion interrompue ?). Réessayez.";
      });
      xhr.send(new FormData(form));
    });
  }
  var forms = document.querySelectorAll("form[data-upload-progress]");
  for (var i = 0; i < forms.length; i++) { enhance(forms[i]); }
})();
