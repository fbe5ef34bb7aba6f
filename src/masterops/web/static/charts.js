// The integrations page: one chart per service (calls and errors per hour or day, p95 latency
// on a second axis), drawn with the vendored uPlot from /integrations/series.json.
(function () {
  "use strict";
  var box = document.getElementById("charts");
  if (!box || typeof uPlot === "undefined") { return; }
  var plots = [];

  function width() { return Math.max(280, Math.min(box.clientWidth - 20, 1300)); }

  function draw(data) {
    plots.forEach(function (p) { p.destroy(); });
    plots = [];
    Array.prototype.slice.call(box.querySelectorAll(".chart")).forEach(function (n) { n.remove(); });
    var names = Object.keys(data.services);
    document.getElementById("charts-empty").hidden = names.length > 0;
    names.forEach(function (service) {
      var s = data.services[service];
      var card = document.createElement("section");
      card.className = "chart";
      card.dataset.service = service;
      var title = document.createElement("h2");
      var total = s.calls.reduce(function (a, b) { return a + b; }, 0);
      var errors = s.errors.reduce(function (a, b) { return a + b; }, 0);
      title.textContent = service + " · " + total + (total === 1 ? " call, " : " calls, ") +
        errors + (errors === 1 ? " error" : " errors");
      card.appendChild(title);
      box.appendChild(card);
      var opts = {
        width: width(),
        height: 220,
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), box.dataset.zone || "UTC"); },
        scales: { ms: { auto: true } },
        series: [
          {},
          { label: "calls", stroke: "#2271b1", fill: "rgba(34,113,177,.12)", width: 2 },
          { label: "errors", stroke: "#b32d2e", fill: "rgba(179,45,46,.15)", width: 2 },
          { label: "p95 ms", stroke: "#996800", scale: "ms", width: 2, dash: [6, 4], spanGaps: true }
        ],
        axes: [{}, { label: "calls / " + (data.unit || "h") }, { scale: "ms", side: 1, label: "p95 ms", grid: { show: false } }]
      };
      plots.push(new uPlot(opts, [data.x, s.calls, s.errors, s.p95_ms], card));
    });
    box.dataset.drawn = String(names.length);
  }

  function load() {
    fetch(box.dataset.source, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(draw)
      .catch(function (e) {
        box.dataset.drawn = "error";
        var empty = document.getElementById("charts-empty");
        empty.textContent = "The charts could not be drawn: " + e;
        empty.hidden = false;
      });
  }

  load();
  setInterval(load, 60000);
  window.addEventListener("resize", function () {
    plots.forEach(function (p) { p.setSize({ width: width(), height: 220 }); });
  });
})();
