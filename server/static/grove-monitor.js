// The Monitor tab (grove/admin/session_monitor.html): polls the monitor's JSON about once a
// second and rewrites the participants' rows and the group matrix in place, keeping the
// ticks of the "advance" form. Text only (textContent): nothing from the server is HTML.
(function () {
  var root = document.querySelector("[data-grove-monitor]");
  if (!root) { return; }
  var url = root.getAttribute("data-grove-monitor");
  var interval = parseInt(root.getAttribute("data-grove-poll-ms"), 10) || 1000;
  var rowsBody = root.querySelector("[data-grove-monitor-rows]");
  var matricesBox = root.querySelector("[data-grove-monitor-matrices]");
  var finished = root.querySelector("[data-grove-monitor-finished]");
  var status = root.querySelector("[data-grove-monitor-status]");
  var tickAll = root.querySelector("[data-grove-tick-all]");

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function ticked() {
    var codes = {};
    rowsBody.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      codes[box.name] = true;
    });
    return codes;
  }

  function participantRow(p, keep) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-code", p.code);
    var td = document.createElement("td");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "advance:" + p.code;
    box.value = "1";
    box.checked = !!keep[box.name];
    box.setAttribute("aria-label", "Advance P" + p.id_in_session);
    td.appendChild(box);
    tr.appendChild(td);
    cell(tr, "P" + p.id_in_session);
    cell(tr, p.label || "");
    var code = document.createElement("code");
    code.textContent = p.code;
    cell(tr, "").appendChild(code);
    cell(tr, p.app || "");
    cell(tr, p.round_number ? String(p.round_number) : "");
    var page = p.page_name || (p.started ? "" : "not started");
    cell(tr, page + (p.on_wait_page ? " (waiting)" : "") + (p.is_dropout ? " (dropped out)" : ""));
    cell(tr, p.page_index + "/" + p.num_pages);
    cell(tr, p.seconds_on_page === null ? "" : p.seconds_on_page + " s");
    cell(tr, p.last_activity);
    cell(tr, p.finished ? "yes" : "no");
    cell(tr, p.status || "");
    return tr;
  }

  function matrixTable(m) {
    var table = document.createElement("table");
    table.className = "grove-table grove-group-matrix";
    var caption = document.createElement("caption");
    caption.textContent = m.app + ", round " + m.round_number;
    table.appendChild(caption);
    var body = document.createElement("tbody");
    m.groups.forEach(function (members, i) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = "Group " + (i + 1);
      tr.appendChild(th);
      members.forEach(function (member) { cell(tr, "P" + member); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  function show(data) {
    var keep = ticked();
    var rows = document.createDocumentFragment();
    data.participants.forEach(function (p) { rows.appendChild(participantRow(p, keep)); });
    rowsBody.replaceChildren(rows);
    var matrices = document.createDocumentFragment();
    data.matrices.forEach(function (m) { matrices.appendChild(matrixTable(m)); });
    if (!data.matrices.length) {
      var none = document.createElement("p");
      none.textContent = "No one has started yet.";
      matrices.appendChild(none);
    }
    matricesBox.replaceChildren(matrices);
    finished.textContent = String(data.num_finished);
    status.textContent = "Updated " + new Date().toLocaleTimeString() + ".";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(show)
      .catch(function (error) { status.textContent = "Not updated (" + error.message + ")."; })
      .then(function () { window.setTimeout(poll, interval); });
  }

  if (tickAll) {
    tickAll.addEventListener("change", function () {
      rowsBody.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        box.checked = tickAll.checked;
      });
    });
  }
  window.setTimeout(poll, interval);
})();
