/* The room's waiting page: hold the room's status URL (?wait=1), which answers as soon as a
 * session is created in the room or the room is closed, and at the latest after about 10 s
 * (the heartbeat that keeps this visitor counted as waiting). When a session exists, join it
 * (the form's POST). When the room was closed, this visitor is no longer on the waiting
 * list: arrive again (the same POST), so the admin sees them waiting for the next session.
 */
(function () {
  "use strict";
  var form = document.getElementById("grove-room-form");
  var count = document.getElementById("grove-waiting-count");
  var waitUrl = form.dataset.statusUrl + (form.dataset.statusUrl.indexOf("?") < 0 ? "?" : "&") + "wait=1";
  var wasListed = false;  // re-arrive only after the server has counted this visitor
  var poll = function () {
    fetch(waitUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (count) { count.textContent = data.waiting; }
        if (data.ready || (wasListed && !data.listed)) { form.submit(); return; }
        wasListed = wasListed || data.listed;
        poll();
      })
      .catch(function () { setTimeout(poll, 2000); });
  };
  poll();
})();
