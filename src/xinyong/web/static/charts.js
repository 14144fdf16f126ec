// Draws the charts described by <div class="chart" data-chart="ID"> with their data in
// <script type="application/json" id="ID">: no inline script, so the page keeps a strict CSP.
// Category labels are never clipped or dropped: every label is shown (interval 0), Chinese labels that do
// not fit their slot wrap onto up to three lines, other long labels (dates) turn 40°, and the grid makes room
// for them (containLabel).
(function () {
  var FONT = 12;

  function textWidth(text) {
    var width = 0;
    for (var i = 0; i < text.length; i++) width += text.charCodeAt(i) > 255 ? FONT : FONT * 0.6;
    return width;
  }

  function wrap(text, perLine) {
    var lines = [];
    for (var i = 0; i < text.length; i += perLine) lines.push(text.slice(i, i + perLine));
    return lines.join("\n");
  }

  function categoryLabels(labels, width) {
    var texts = labels.map(function (l) { return String(l); });
    var slot = Math.max(width / Math.max(texts.length, 1) - 8, FONT);
    var widest = Math.max.apply(null, texts.map(textWidth).concat([0]));
    var label = { interval: 0, fontSize: FONT, rotate: 0 };
    if (widest <= slot) return label;
    var chinese = texts.some(function (t) { return /[^\x00-\xff]/.test(t); });
    var perLine = Math.max(Math.floor(slot / FONT), 2);
    var longest = Math.max.apply(null, texts.map(function (t) { return t.length; }));
    if (chinese && Math.ceil(longest / perLine) <= 3) {
      label.formatter = function (value) { return wrap(String(value), perLine); };
      label.lineHeight = FONT + 3;
    } else {
      label.rotate = 40;
    }
    return label;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts) return;
    document.querySelectorAll("div.chart[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var chart = window.echarts.init(el);
      var draw = function () {
        chart.setOption({
          tooltip: { trigger: "axis" },
          legend: { top: 0, type: "scroll" },
          grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
          xAxis: { type: "category", data: spec.labels, axisLabel: categoryLabels(spec.labels, el.clientWidth || 600) },
          yAxis: { type: "value", axisLabel: spec.percent ? { formatter: function (v) { return (v * 100).toFixed(2) + "%"; } } : {} },
          series: spec.series.map(function (s) { return { name: s.name, type: spec.type || "bar", data: s.data, smooth: true }; })
        });
      };
      draw();
      window.addEventListener("resize", function () { chart.resize(); draw(); });
    });
  });
})();
