// Every page's behaviour, from a file: the Content-Security-Policy allows no inline
// script (core/middleware.py), so nothing here may move back into a template.
(function () {
  "use strict";

  // Charts: <div data-chart="id-of-json-script" [data-click="rfm|customer"]
  // [data-href="/customers/"] [data-modebar="off"]>, drawn when the page or an htmx
  // swap brings them in. plotly.js is loaded (deferred) by the pages that draw.
  function drawCharts(root) {
    if (!root.querySelector("[data-chart]:not([data-rendered])")) return;
    if (typeof Plotly === "undefined") {
      // Swapped in by htmx with its plotly.js tag: draw once that has loaded.
      var tag = document.querySelector("script[src*='plotly']");
      if (tag) tag.addEventListener("load", function () { drawCharts(root); }, {once: true});
      return;
    }
    // One chart per frame, in page order: the first chart paints while the rest are
    // still to be built, instead of every chart being built before anything shows.
    var pending = Array.prototype.slice.call(root.querySelectorAll("[data-chart]:not([data-rendered])"));
    pending.forEach(function (el) { el.dataset.rendered = "0"; });
    function afterPaint() { requestAnimationFrame(function () { setTimeout(next, 0); }); }
    function next() {
      var el = pending.shift();
      if (!el) return;
      try {
        drawChart(el).then(afterPaint, afterPaint);  // a broken chart does not stop the rest
      } catch (err) {
        afterPaint();
        throw err;
      }
    }
    next();
  }

  function drawChart(el) {
    var fig = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    var config = {responsive: true, displaylogo: false};
    if (el.dataset.modebar === "off") config.displayModeBar = false;
    var drawn = Plotly.newPlot(el, fig.data, fig.layout, config).then(function () {
      el.dataset.rendered = "1";
    });
    var href = el.dataset.href;
    if (el.dataset.click === "rfm") {
      el.on("plotly_click", function (ev) {
        var p = ev.points[0];
        window.location = href + "?r=" + encodeURIComponent(p.y) + "&f=" + encodeURIComponent(p.x);
      });
    } else if (el.dataset.click === "customer") {
      el.on("plotly_click", function (ev) {
        window.location = href + encodeURIComponent(ev.points[0].customdata) + "/";
      });
    }
    return drawn;
  }

  // A form with data-confirm asks before it submits (was an inline onsubmit).
  document.addEventListener("submit", function (ev) {
    var message = ev.target.dataset && ev.target.dataset.confirm;
    if (message && !window.confirm(message)) ev.preventDefault();
  }, true);

  // The upload drop zone.
  function wireDropzone(root) {
    var zone = root.querySelector ? root.querySelector("#dropzone") : null;
    if (!zone || zone.dataset.wired) return;
    zone.dataset.wired = "1";
    var input = zone.querySelector("input[type=file]");
    ["dragenter", "dragover"].forEach(function (e) {
      zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (e) {
      zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (ev) {
      if (ev.dataTransfer.files.length) input.files = ev.dataTransfer.files;
    });
  }

  function init(root) {
    drawCharts(root);
    wireDropzone(root);
  }

  if (window.htmx) {
    window.htmx.onLoad(init);  // the first page, then every swapped-in piece
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  }
})();
