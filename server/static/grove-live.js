/* Live pages (oTree's liveSend/liveRecv) over a WebSocket that reconnects by itself.
 *
 * liveSend(data) sends data to the page's live_method; the page's own liveRecv(data) gets
 * every message the live method addresses to this player. Each message sent has an id and
 * stays queued until the server acknowledges it: sent while the connection is down, it goes
 * out after the reconnect, and the server runs it once even if it arrives twice. Messages
 * for this page that came while it was disconnected are sent again on reconnect (the server
 * keeps them for a minute); their ids keep liveRecv from seeing one twice.
 */
(function () {
  "use strict";
  var script = document.getElementById("grove-live");
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + window.location.host + script.dataset.url;
  var since = parseFloat(script.dataset.since);
  var pageLoad = Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
  var nextNumber = 0;
  var unacknowledged = [];  // [{id, text}], in the order liveSend was called
  var received = {};        // message id -> when it arrived (ms)
  var socket = null;
  var delay = 250;
  var KEEP_IDS_MS = 120000; // longer than the server keeps messages

  function receivedIds() {
    var now = Date.now();
    var ids = [];
    Object.keys(received).forEach(function (id) {
      if (now - received[id] > KEEP_IDS_MS) { delete received[id]; } else { ids.push(Number(id)); }
    });
    return ids;
  }

  function resend(id) {
    unacknowledged.forEach(function (m) {
      if (m.id === id && socket && socket.readyState === WebSocket.OPEN) { socket.send(m.text); }
    });
  }

  function handle(event) {
    var message = JSON.parse(event.data);
    if (message.type === "ack") {
      if (message.retry) {
        // The server's database was busy and nothing ran: send it again in a moment.
        setTimeout(function () { resend(message.id); }, 1000);
        return;
      }
      unacknowledged = unacknowledged.filter(function (m) { return m.id !== message.id; });
      if (!message.ok) { console.error(message.error || "Error in live_method; see the server log."); }
      return;
    }
    if (message.type === "message") {
      if (received[message.id]) { return; }
      received[message.id] = Date.now();
      if (typeof liveRecv === "function") {
        liveRecv(message.data); // eslint-disable-line no-undef
      }
    }
  }

  function connect() {
    var ws = new WebSocket(url);
    socket = ws;
    ws.onopen = function () {
      delay = 250;
      ws.send(JSON.stringify({ type: "hello", since: since, seen: receivedIds() }));
      unacknowledged.forEach(function (m) { ws.send(m.text); });
    };
    ws.onmessage = handle;
    ws.onclose = function (event) {
      if (socket === ws) { socket = null; }
      if (event.code === 4404 || event.code === 4400) {
        console.error("The live connection was refused (" + event.code + ").");
        return;
      }
      // 1013: the server's database could not be read; not sooner than in a second.
      if (event.code === 1013) { delay = Math.max(delay, 1000); }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    };
  }

  window.liveSend = function (data) {
    var id = pageLoad + "-" + nextNumber++;
    var text = JSON.stringify({ type: "send", id: id, data: data === undefined ? null : data });
    unacknowledged.push({ id: id, text: text });
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(text); }
  };

  // As oTree's live pages: Enter in an input does not submit the page.
  document.addEventListener("keypress", function (event) {
    if (event.key === "Enter" && event.target && event.target.tagName === "INPUT") {
      event.preventDefault();
    }
  });

  connect();
})();
