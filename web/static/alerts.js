// Adds new alerts to the alerts table as the server streams them
// (Server-Sent Events), and announces each in a live region. Rows are built
// from DOM nodes with textContent only: alert fields are data, never markup.
// No inline script is allowed by the CSP, so this is an external file.
(function () {
  "use strict";
  var body = document.getElementById("alert-rows");
  if (!body || !window.EventSource) return;
  var live = document.getElementById("alert-live");
  var filter = {
    status: body.getAttribute("data-status") || "",
    severity: body.getAttribute("data-severity") || "",
    user: body.getAttribute("data-user") || "",
    rule: body.getAttribute("data-rule") || ""
  };

  function matches(a) {
    return (!filter.status || a.status === filter.status) &&
      (!filter.severity || a.severity === filter.severity) &&
      (!filter.user || a.user === filter.user) &&
      (!filter.rule || a.rule === filter.rule);
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function link(row, href, text) {
    var td = document.createElement("td");
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    td.appendChild(a);
    row.appendChild(td);
    return td;
  }

  function when(iso) {
    return String(iso || "").replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
  }

  function row(a) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-id", a.id);
    tr.className = "new";
    link(tr, "/alerts/" + encodeURIComponent(a.id), a.ref);
    cell(tr, a.rule_name);
    var sev = document.createElement("span");
    sev.className = "label severity-" + String(a.severity).replace(/[^a-z]/g, "");
    sev.textContent = a.severity;
    cell(tr, "").appendChild(sev);
    cell(tr, a.host);
    if (a.user) link(tr, "/people/" + encodeURIComponent(a.user) + "/risk", a.user);
    else cell(tr, "—");
    cell(tr, a.status);
    cell(tr, String(a.occurrences));
    cell(tr, when(a.created_at)).className = "nowrap";
    return tr;
  }

  function add(a) {
    if (!a || !a.id || !matches(a)) return;
    var rows = body.querySelectorAll("tr[data-id]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-id") === a.id) return;
    }
    var empty = body.querySelector("tr.empty");
    if (empty) empty.remove();
    body.insertBefore(row(a), body.firstChild);
    if (live) {
      live.textContent = "New " + a.severity + " alert " + a.ref + ": " + a.rule_name +
        (a.user ? " by " + a.user : "") + (a.host ? " on " + a.host : "") + ".";
    }
  }

  var es = new EventSource(body.getAttribute("data-stream"));
  es.addEventListener("alert", function (e) {
    var a;
    try { a = JSON.parse(e.data); } catch (err) { return; }
    add(a);
  });
  body.setAttribute("data-streaming", "true");
  es.addEventListener("open", function () { body.setAttribute("data-connected", "true"); });
})();
