/* The room's waiting page: poll the room's status; when a session exists, join it. */
(function () {
  "use strict";
  var form = document.getElementById("grove-room-form");
  var count = document.getElementById("grove-waiting-count");
  var poll = function () {
    fetch(form.dataset.statusUrl, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (count) { count.textContent = data.waiting; }
        if (data.ready) { form.submit(); } else { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  };
  setTimeout(poll, 1000);
})();
