/* Keeps a patient's sign-in alive while the guided timer runs (a walk of 25-30 minutes is as long
   as the idle limit). session_timer.js says "running", "paused" or "finished" on the timer box;
   while it runs, this asks the server every data-seconds seconds (POST data-url, with the page's
   CSRF token), and once more when the walk ends, so the patient has the whole idle time to fill
   in the log. A paused timer does not keep a forgotten phone signed in. If the sign-in has ended
   anyway (401), it stops asking: the log is then kept for the patient to sign in again. */
(function () {
  "use strict";

  var script = document.currentScript;
  var box = document.getElementById("session-timer");
  if (!script || !box || !window.fetch) return;

  var url = script.dataset.url;
  var every = Math.max(1, Number(script.dataset.seconds) || 300) * 1000;
  var ticker = null;
  var ended = false;

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function ping() {
    if (ended) return;
    window.fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        ended = true;
        stop();
      }
    }).catch(function () { /* offline for a moment: the next ping tries again */ });
  }

  function stop() {
    if (ticker !== null) {
      window.clearInterval(ticker);
      ticker = null;
    }
  }

  box.addEventListener("retrowalk:timer", function (event) {
    var state = event.detail && event.detail.state;
    if (state === "running") {
      ping();
      stop();
      ticker = window.setInterval(ping, every);
    } else {
      stop();
      if (state === "finished") ping();
    }
  });
})();
