// Draws the page's charts with the bundled Chart.js from the JSON the server rendered.
// Each chart repeats a table on the page: without JavaScript nothing is lost.
(function () {
  "use strict";
  var palette = ["#0b5cad", "#d9480f", "#2b8a3e", "#7048e8", "#c2255c", "#1098ad", "#e67700", "#495057"];

  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof Chart === "undefined") { return; }
    var charts = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.dataset.chart];
      if (!spec) { return; }
      var line = spec.type === "line";
      var datasets = spec.datasets.map(function (dataset, index) {
        var colour = palette[index % palette.length];
        return { label: dataset.label, data: dataset.data, borderColor: colour,
                 backgroundColor: line ? colour : colour + "cc", tension: 0.2, pointRadius: 2 };
      });
      new Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: datasets },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          indexAxis: spec.horizontal ? "y" : "x",
          plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
          scales: {
            x: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } },
            y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { precision: 0 } }
          }
        }
      });
    });
  }

  // On a phone a table's rows become stacked cards (console.css): each cell is labelled
  // with its column's heading, and the table keeps its roles for screen readers.
  function label() {
    document.querySelectorAll("main table").forEach(function (table) {
      var head = table.tHead && table.tHead.rows[0];
      if (!head) { return; }
      var names = [];
      Array.prototype.forEach.call(head.cells, function (cell) {
        for (var i = 0; i < (cell.colSpan || 1); i += 1) { names.push(cell.textContent.trim()); }
      });
      table.setAttribute("role", "table");
      Array.prototype.forEach.call(table.rows, function (row) {
        row.setAttribute("role", "row");
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var inHead = row.parentNode === table.tHead;
          cell.setAttribute("role", inHead ? "columnheader" : (cell.tagName === "TH" ? "rowheader" : "cell"));
          if (!inHead && (cell.colSpan || 1) === 1 && names[column]) {
            cell.setAttribute("data-label", names[column]);
            if (!cell.textContent.trim()) { cell.classList.add("blank"); }
          }
          column += cell.colSpan || 1;
        });
      });
      table.classList.add("stacks");
    });
  }

  function ready() { label(); draw(); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
