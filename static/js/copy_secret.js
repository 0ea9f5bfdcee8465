/* The "Copy" button beside a secret that is shown once (a new API key, a new calendar link).
   Progressive enhancement: the button is rendered `hidden` and shown only where the Clipboard
   API exists; without it the read-only field can still be selected and copied by hand.

   Markup: <button data-copy-target="FIELD-ID" data-copy-status="STATUS-ID"
   data-copy-done="What to say once copied">. A file, not an inline script: the pages'
   Content-Security-Policy allows no inline script. */
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) { status.textContent = button.dataset.copyDone; }
      });
    });
    input.addEventListener("focus", function () { input.select(); });
  });
})();
