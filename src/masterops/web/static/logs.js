// The live log tail: new lines arrive as server-sent events and are added to the table
// (as text, never markup). EventSource reconnects by itself, resuming after the last id.
(function () {
  "use strict";
  var table = document.getElementById("log");
  var state = document.getElementById("tail-state");
  if (!table || typeof EventSource === "undefined") { return; }
  var body = table.tBodies[0];
  var zone = table.dataset.zone || "UTC";
  var MAX_ROWS = 500;
  var absolute = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZoneName: "short"
  });

  function cell(row, text, cls) {
    var td = row.insertCell();
    td.textContent = text == null ? "" : String(text);
    if (cls) { td.className = cls; }
    return td;
  }

  function add(line) {
    var row = document.createElement("tr");
    row.className = "lv-" + line.level + " fresh";
    var when = row.insertCell();
    var t = document.createElement("time");
    t.dateTime = line.at || "";
    t.title = line.at ? absolute.format(new Date(line.at)) : "";
    t.textContent = "just now";
    when.appendChild(t);
    cell(row, line.level);
    cell(row, line.business);
    cell(row, line.service);
    cell(row, line.message, "msg");
    body.appendChild(row);
    while (body.rows.length > MAX_ROWS) { body.deleteRow(0); }
    var empty = document.getElementById("log-empty");
    if (empty) { empty.remove(); }
  }

  var source = new EventSource(table.dataset.stream);
  source.addEventListener("open", function () { state.textContent = "live"; });
  source.addEventListener("error", function () { state.textContent = "reconnecting…"; });
  source.addEventListener("log", function (event) { add(JSON.parse(event.data)); });
})();
