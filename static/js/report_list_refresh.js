/* The portal's Reports page while a report is being made: checks every few seconds whether it
   is ready and updates the list in place. Without JavaScript the "Refresh this page" link does
   the same. */
(function () {
  "use strict";
  var tries = 0;
  function check() {
    tries += 1;
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("report-list");
        var here = document.getElementById("report-list");
        if (!fresh || !here) { return; }
        if (fresh.innerHTML !== here.innerHTML) { here.innerHTML = fresh.innerHTML; }
        if (fresh.dataset.preparing === "true" && tries < 24) { setTimeout(check, 5000); }
      });
  }
  setTimeout(check, 5000);
})();
