// Draws every chart of the page from its JSON spec (plotly.min.js of the installed plotly
// package, served by the app: no CDN), wires click-to-drill-down and the filter bar.
(function () {
  "use strict";
  var BASE = {
    margin: { l: 56, r: 16, t: 8, b: 44 }, autosize: true,
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12, color: "#374151" },
    xaxis: { gridcolor: "#f1f5f9", automargin: true }, yaxis: { gridcolor: "#eef2f7", automargin: true }
  };

  function merge(a, b) {
    var out = Object.assign({}, a);
    Object.keys(b || {}).forEach(function (k) {
      var v = b[k];
      out[k] = v && typeof v === "object" && !Array.isArray(v) && a[k] && typeof a[k] === "object"
        ? merge(a[k], v) : v;
    });
    return out;
  }

  function draw(el) {
    var node = document.getElementById(el.getAttribute("data-chart"));
    if (!node || !window.Plotly) return;
    var spec = JSON.parse(node.textContent);
    // the toolbar shows when the pointer is over the chart, never over the figures at rest
    var config = { displaylogo: false, responsive: true, displayModeBar: "hover",
                   modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
    window.Plotly.newPlot(el, spec.data, merge(BASE, spec.layout), config).then(function () {
      el.setAttribute("data-drawn", "1");
    });
    el.on("plotly_click", function (ev) {
      var p = ev && ev.points && ev.points[0];
      var url = p && p.customdata;
      if (typeof url === "string" && url.charAt(0) === "/") window.location.href = url;
    });
  }

  function values(select, list) {
    var dim = select.value;
    list.innerHTML = "";
    if (!dim) return;
    fetch("/api/v1/dimensions/" + encodeURIComponent(dim) + "/values", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { values: [] }; })
      .then(function (data) {
        (data.values || []).forEach(function (v) {
          if (v === null) return;
          var opt = document.createElement("option");
          opt.value = v;
          list.appendChild(opt);
        });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
    var fdim = document.getElementById("fdim"), list = document.getElementById("fvals");
    if (fdim && list) fdim.addEventListener("change", function () { values(fdim, list); });
    document.querySelectorAll("[data-remove]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var chip = a.closest(".chip"), form = a.closest("form");
        chip.parentNode.removeChild(chip);
        form.submit();
      });
    });
    var metric = document.getElementById("metric-select");
    if (metric) metric.addEventListener("change", function () {
      metric.form.querySelectorAll("[name^='p_']").forEach(function (p) { p.value = ""; });
      metric.form.submit();
    });
  });
})();
