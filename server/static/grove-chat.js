/* Chat boxes: poll for new messages every second; Enter or the Send button sends. Messages
 * carry oTree's class names (otree-chat__msg, __nickname, __body), which experimenters'
 * CSS and scripts written for oTree use. */
(function () {
  "use strict";
  document.querySelectorAll(".grove-chat").forEach(function (box) {
    if (box.dataset.started) { return; }
    box.dataset.started = "1";
    var list = box.querySelector(".grove-chat-messages");
    var input = box.querySelector(".grove-chat-input");
    var last = 0;
    var show = function (message) {
      var line = document.createElement("div");
      line.className = "otree-chat__msg";
      var who = document.createElement("strong");
      who.className = "otree-chat__nickname";
      // oTree's nickname_i_see_for_myself: "Ann (Me)" on one's own messages.
      who.textContent = message.mine ? message.nickname + " " + box.dataset.me : message.nickname;
      var body = document.createElement("span");
      body.className = "otree-chat__body";
      body.textContent = message.body;
      line.appendChild(who);
      line.appendChild(document.createTextNode(": "));
      line.appendChild(body);
      list.appendChild(line);
      last = Math.max(last, message.id);
    };
    var poll = function () {
      var url = box.dataset.url + "?token=" + encodeURIComponent(box.dataset.token) + "&after=" + last;
      fetch(url, { cache: "no-store" }).then(function (r) { return r.json(); })
        .then(function (data) { (data.messages || []).forEach(show); })
        .catch(function () { /* offline for a moment: the next poll tries again */ })
        .finally(function () { setTimeout(poll, 1000); });
    };
    var send = function () {
      var body = input.value.trim();
      if (!body) { return; }
      input.value = "";
      // A refused message (errors are JSON: {"ok": false, "error": ...}) goes back into the
      // input with the reason, so nothing typed is lost.
      var refused = function (reason) {
        if (!input.value) { input.value = body; }
        input.title = reason;
        input.classList.add("is-invalid");
      };
      fetch(box.dataset.url, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: box.dataset.token, body: body }) })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.ok) { input.classList.remove("is-invalid"); input.title = ""; }
          else { refused(data.error || "not sent"); }
        })
        .catch(function () { refused("not sent: no connection"); });
    };
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") { return; }
      event.preventDefault();
      send();
    });
    var button = box.querySelector(".otree-chat__btn-send");
    if (button) { button.addEventListener("click", send); }
    poll();
  });
})();
