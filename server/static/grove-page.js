/* Page commands for every participant page (server/web/page_routes.py): a WebSocket that
 * reconnects by itself and obeys what the admin sends to this participant's open page:
 * "reload" (the participant's page is loaded again, with a GET), "message" (the text is
 * shown, as text, in a banner the participant can close), "redirect" (the page goes to an
 * absolute http(s) URL). A page that cannot connect (a proxy without WebSocket support)
 * works as before; commands sent meanwhile reach a later page within a minute.
 */
(function () {
  "use strict";
  var script = document.getElementById("grove-page");
  if (!script || !("WebSocket" in window)) { return; }
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + script.dataset.url;
  var delay = 500;

  function showMessage(text) {
    var banner = document.createElement("div");
    banner.className = "alert alert-info alert-dismissible grove-page-message";
    banner.setAttribute("role", "alert");
    var body = document.createElement("span");
    body.className = "grove-page-message-text";
    body.textContent = text;  // text, never HTML
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", "Close");
    close.addEventListener("click", function () { banner.remove(); });
    banner.appendChild(body);
    banner.appendChild(close);
    document.body.insertBefore(banner, document.body.firstChild);
  }

  function obey(command) {
    if (command.command === "reload") {
      // A GET of this page's URL (never a form sent again): the server shows the page the
      // participant is on now.
      window.location.replace(window.location.href.split("#")[0]);
    } else if (command.command === "message" && typeof command.text === "string") {
      showMessage(command.text);
    } else if (command.command === "redirect" && /^https?:\/\//i.test(command.url || "")) {
      window.location.assign(command.url);
    }
  }

  function connect() {
    var ws = new WebSocket(url);
    ws.onopen = function () { delay = 500; };
    ws.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "command") { obey(message); }
    };
    ws.onclose = function (event) {
      if (event.code === 4404) { return; }
      // 1013: the server's database could not be read; not sooner than in a second.
      if (event.code === 1013) { delay = Math.max(delay, 1000); }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }

  connect();
})();
