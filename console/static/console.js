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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
