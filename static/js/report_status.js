/* The dashboard's patient page: reports render in a worker, so ask for each unfinished one's
   status every few seconds and show the download link once it is ready. Without JavaScript the
   "Refresh" link does this. The interval comes from this script tag's data-poll-ms. */
(function () {
  "use strict";
  var pollMs = Number(document.currentScript.dataset.pollMs) || 4000;
  var unfinished = ["pending", "rendering"];
  document.querySelectorAll("[data-status-url]").forEach(function (status) {
    if (unfinished.indexOf(status.dataset.status) === -1) { return; }
    var tries = 0;
    var timer = setInterval(function () {
      if (++tries > 150) { return clearInterval(timer); }
      fetch(status.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (data) {
          status.textContent = data.status_display;
          if (unfinished.indexOf(data.status) !== -1) { return; }
          clearInterval(timer);
          if (!data.download_url) { return; }
          var cell = status.closest("tr").querySelector(".report-download");
          var link = document.createElement("a");
          link.href = data.download_url;
          link.textContent = "Download PDF";
          cell.replaceChildren(link);
        })
        .catch(function () { clearInterval(timer); });
    }, pollMs);
  });
})();
