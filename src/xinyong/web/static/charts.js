// Draws the charts described by <div class="chart" data-chart="ID"> with their data in
// <script type="application/json" id="ID">: no inline script, so the page keeps a strict CSP.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.echarts) return;
  document.querySelectorAll("div.chart[data-chart]").forEach(function (el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 40 },
      xAxis: { type: "category", data: spec.labels, axisLabel: { rotate: spec.labels.length > 8 ? 45 : 0 } },
      yAxis: { type: "value", axisLabel: spec.percent ? { formatter: function (v) { return (v * 100).toFixed(2) + "%"; } } : {} },
      series: spec.series.map(function (s) { return { name: s.name, type: spec.type || "bar", data: s.data, smooth: true }; })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
});
