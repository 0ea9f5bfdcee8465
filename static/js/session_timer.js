/* The guided session timer on the portal's Today page. Progressive enhancement: the timer block
   is rendered `hidden` and this script shows it; without JavaScript the plain log form works.

   Counts down the prescribed minutes; with intervals, says "Walk backwards" / "Walk forwards" and
   the seconds left in each. At each change and at the end: a short beep (Web Audio, created on
   the Start press so autoplay rules allow it), a vibration where supported, and a spoken-out
   announcement (aria-live). Keeps the screen awake where the browser allows. When finished or
   stopped, it fills the log form's minutes and moves focus to the form.

   Tests may set window.RETROWALK_TIMER_SCALE (e.g. 60: one minute passes per second). */
(function () {
  "use strict";

  var box = document.getElementById("session-timer");
  if (!box) return;

  var scale = Number(window.RETROWALK_TIMER_SCALE) > 0 ? Number(window.RETROWALK_TIMER_SCALE) : 1;
  var totalSeconds = Math.max(1, Math.round(Number(box.dataset.minutes) * 60));
  var backward = Number(box.dataset.backwardSeconds) || 0;
  var forward = Number(box.dataset.forwardSeconds) || 0;
  var hasIntervals = backward > 0 && forward > 0;

  var startButton = document.getElementById("timer-start");
  var pauseButton = document.getElementById("timer-pause");
  var stopButton = document.getElementById("timer-stop");
  var phaseText = document.getElementById("timer-phase");
  var phaseRemaining = document.getElementById("timer-phase-remaining");
  var remainingText = document.getElementById("timer-remaining");
  var announcer = document.getElementById("timer-announce");

  var audio = null;
  var wakeLock = null;
  var ticker = null;
  var startedAt = null; // performance.now() of the current running stretch
  var banked = 0; // seconds walked before the current stretch (pauses split stretches)
  var running = false;
  var finished = false;
  var lastPhase = null;

  // Tells other scripts (keepalive.js) whether the timer runs: "running", "paused", "finished".
  function signal(state) {
    try {
      box.dispatchEvent(new CustomEvent("retrowalk:timer", { detail: { state: state } }));
    } catch (e) { /* an old browser without CustomEvent: nothing listens there either */ }
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.ceil(seconds));
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function elapsed() {
    var now = running ? ((performance.now() - startedAt) / 1000) * scale : 0;
    return Math.min(totalSeconds, banked + now);
  }

  function phaseAt(seconds) {
    if (!hasIntervals) return { name: "Walk backwards", left: totalSeconds - seconds };
    var at = seconds % (backward + forward);
    if (at < backward) return { name: "Walk backwards", left: backward - at };
    return { name: "Walk forwards", left: backward + forward - at };
  }

  function announce(text) {
    // Clear first so the same words twice in a row are still read out.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function beep(times) {
    if (!audio) return;
    try {
      for (var i = 0; i < times; i++) {
        var start = audio.currentTime + i * 0.35;
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.25, start);
        gain.gain.exponentialRampToValueAtTime(0.001, start + 0.25);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(start);
        osc.stop(start + 0.3);
      }
    } catch (e) { /* no sound is fine: the words and the vibration still come */ }
  }

  function vibrate(pattern) {
    if (navigator.vibrate) {
      try { navigator.vibrate(pattern); } catch (e) { /* not allowed here */ }
    }
  }

  function cue(text, times) {
    beep(times);
    vibrate(times > 1 ? [300, 150, 300, 150, 300] : [300]);
    announce(text);
  }

  function keepAwake() {
    if (!("wakeLock" in navigator) || wakeLock) return;
    navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      lock.addEventListener("release", function () { wakeLock = null; });
    }).catch(function () { /* refused: the timer still runs */ });
  }

  function letSleep() {
    if (wakeLock) {
      wakeLock.release().catch(function () {});
      wakeLock = null;
    }
  }

  function render() {
    var done = elapsed();
    remainingText.textContent = clock(totalSeconds - done);
    var phase = phaseAt(done);
    phaseText.textContent = phase.name;
    if (hasIntervals) {
      phaseRemaining.textContent = Math.ceil(phase.left) + " seconds until you change";
    }
    return { done: done, phase: phase };
  }

  function tick() {
    var state = render();
    if (state.done >= totalSeconds) {
      cue("Time is up. Well done! You can stop walking now.", 3);
      finish();
      return;
    }
    if (lastPhase !== null && state.phase.name !== lastPhase) {
      cue("Turn round carefully. " + state.phase.name + " now.", 1);
    }
    lastPhase = state.phase.name;
  }

  function start() {
    if (finished) return;
    if (!audio) {
      var AudioContext = window.AudioContext || window.webkitAudioContext;
      if (AudioContext) {
        try { audio = new AudioContext(); } catch (e) { audio = null; }
      }
    }
    if (audio && audio.state === "suspended") audio.resume();
    startedAt = performance.now();
    running = true;
    keepAwake();
    startButton.disabled = true;
    pauseButton.disabled = false;
    pauseButton.textContent = "Pause";
    stopButton.disabled = false;
    if (lastPhase === null) {
      lastPhase = phaseAt(0).name;
      announce("Started. " + lastPhase + ".");
    } else {
      announce("Carrying on. " + phaseAt(elapsed()).name + ".");
    }
    ticker = window.setInterval(tick, 250);
    render();
    signal("running");
  }

  function pause() {
    if (!running) {
      start();
      return;
    }
    banked = elapsed();
    running = false;
    window.clearInterval(ticker);
    pauseButton.textContent = "Carry on";
    announce("Paused.");
    render();
    signal("paused");
  }

  function finish() {
    if (finished) return;
    banked = elapsed();
    running = false;
    finished = true;
    window.clearInterval(ticker);
    letSleep();
    startButton.disabled = true;
    pauseButton.disabled = true;
    stopButton.disabled = true;
    render();
    signal("finished");
    var minutes = Math.max(1, Math.ceil(banked / 60 - 1e-9));
    var field = document.getElementById("id_minutes_done");
    if (field) field.value = String(minutes);
    var message = document.getElementById("log-form-message");
    if (message) {
      message.textContent = "Now tell us how it went. You walked for " + minutes +
        (minutes === 1 ? " minute." : " minutes.");
      message.hidden = false;
      message.focus();
      if (message.scrollIntoView) message.scrollIntoView({ block: "start" });
    }
  }

  startButton.addEventListener("click", start);
  pauseButton.addEventListener("click", pause);
  stopButton.addEventListener("click", function () {
    announce("Stopped.");
    finish();
  });
  document.addEventListener("visibilitychange", function () {
    // The browser drops the wake lock when the page is hidden; take it again on return.
    if (document.visibilityState === "visible" && running) keepAwake();
  });

  render();
  box.hidden = false;
})();
