/* Grove's page behaviour: the countdown of timed pages and the polling of wait pages. */
(function () {
  "use strict";
  var timer = document.getElementById("grove-timer");
  if (timer) {
    var deadline = Date.now() + parseFloat(timer.dataset.secondsLeft) * 1000;
    var shown = timer.querySelector(".grove-timer-value");
    var submitted = false;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      shown.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      if (left <= 0 && !submitted) {
        submitted = true;
        var form = document.getElementById("form");
        document.getElementById("grove-timeout-happened").value = "1";
        form.submit();
      }
    };
    tick();
    setInterval(tick, 500);
  }
  var wait = document.getElementById("grove-wait");
  if (wait && wait.dataset.statusUrl) {
    // Long polling: the server answers as soon as the wait page is complete (or after
    // about 20 seconds, when we simply ask again). An error answer is not a "no": a 404 (the
    // participant is gone) shows the page's own answer, anything else is asked again later.
    var poll = function () {
      fetch(wait.dataset.statusUrl + "?wait=1", { cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 404) { window.location.reload(); return null; }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (data === null) { return; }
          // The server moved the participant on and says where to: one request, as the
          // reload's redirect would have replaced this page in the history.
          if (data.ready && data.url) { window.location.replace(data.url); }
          else if (data.ready) { window.location.reload(); } else { poll(); }
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    poll();
  }
})();
