// Keeps the live-sessions table current by polling a small JSON list.
// No inline script is allowed by the CSP, so this is an external file.
(function () {
  "use strict";
  var body = document.getElementById("live-sessions");
  if (!body) return;
  var url = body.getAttribute("data-poll");

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function render(items) {
    var rows = [];
    items.forEach(function (s) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      var a = document.createElement("a");
      a.href = "/sessions/" + encodeURIComponent(s.id);
      a.textContent = s.user;
      td.appendChild(a);
      tr.appendChild(td);
      cell(tr, s.host);
      cell(tr, s.source_ip);
      cell(tr, s.started_at.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC")).className = "nowrap";
      rows.push(tr);
    });
    if (rows.length === 0) {
      var tr = document.createElement("tr");
      cell(tr, "No session is live.").colSpan = 4;
      rows.push(tr);
    }
    body.replaceChildren.apply(body, rows);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (list) { if (list && list.items) render(list.items); })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 5000);
})();
