/* prognos charts: the vendored uPlot with the panel's axes (units, one number format per axis,
   UTC time in the reader's language), limits drawn on the plot, live read-outs in the legend,
   drag-to-zoom and CSV/PNG export. Every chart is drawn on a canvas the size of its box, and
   uPlot clips every series to the plot, so nothing is drawn over a title or outside a card. */
(function () {
  "use strict";
  var T = window.PROGNOS_I18N || {};
  var LANG = T.lang || "en";
  var PALETTE = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#0891b2", "#be123c", "#4d7c0f", "#a16207"];
  var FONT = '11px system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif';

  /* -- numbers and times ----------------------------------------------------------------------- */
  function decimalsFor(step) {
    if (!isFinite(step) || step <= 0) return 2;
    return Math.max(0, Math.min(6, Math.ceil(-Math.log10(step) - 1e-9)));
  }
  var NF = {};
  function fmtNum(v, dec) {
    if (v == null || !isFinite(v)) return "–";
    var k = dec == null ? "a" : dec;
    if (!NF[k]) NF[k] = dec == null
      ? new Intl.NumberFormat(LANG, { maximumSignificantDigits: 5 })
      : new Intl.NumberFormat(LANG, { minimumFractionDigits: dec, maximumFractionDigits: dec });
    return NF[k].format(v);
  }
  /* A value for a read-out or a limit: no trailing zeros, decimals by size, never "1.5e+3". */
  var VF = {};
  function fmtValue(v) {
    if (v == null || !isFinite(v)) return "–";
    var a = Math.abs(v), dec = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
    if (!VF[dec]) VF[dec] = new Intl.NumberFormat(LANG, { maximumFractionDigits: dec });
    return VF[dec].format(v);
  }
  var DF = {};
  function dateFmt(key, opts) {
    if (!DF[key]) DF[key] = new Intl.DateTimeFormat(LANG, Object.assign({ timeZone: "UTC" }, opts));
    return DF[key];
  }
  function isoMinute(sec) { return new Date(sec * 1000).toISOString().slice(0, 16).replace("T", " "); }
  /* Time ticks: hours within a day, days within months, months beyond; all in UTC. */
  function timeTicks(u, splits, ax, space, incr) {
    return splits.map(function (s) {
      var d = new Date(s * 1000);
      if (incr < 86400) {
        var hm = dateFmt("hm", { hour: "2-digit", minute: "2-digit", hour12: false }).format(d);
        return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? dateFmt("md", { month: "short", day: "numeric" }).format(d) : hm;
      }
      if (incr < 28 * 86400) return dateFmt("md", { month: "short", day: "numeric" }).format(d);
      return dateFmt("ym", { year: "numeric", month: "short" }).format(d);
    });
  }
  function numTicks(suffix) {
    return function (u, splits, ax, space, incr) {
      var dec = decimalsFor(incr);
      return splits.map(function (v) { return fmtNum(v, dec) + (suffix || ""); });
    };
  }
  /* A y range that pads the data and never collapses: a flat 2388 gets 2387 / 2388 / 2389. */
  function padRange(lo, hi, extra) {
    (extra || []).forEach(function (v) { if (v != null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
    if (lo == null || !isFinite(lo)) return [0, 1];
    var span = hi - lo;
    var pad = span > 0 ? span * 0.08 : Math.max(Math.abs(hi) * 5e-4, 1e-3);
    return [lo - pad, hi + pad];
  }
  function extent(arrs) {
    var lo = Infinity, hi = -Infinity;
    arrs.forEach(function (a) { (a || []).forEach(function (v) { if (v != null && isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } }); });
    return lo <= hi ? [lo, hi] : [null, null];
  }

  /* -- the frame around a chart: title, headline, exports, the plot, a key of limits --------- */
  function frame(host, spec) {
    host.innerHTML = "";
    host.classList.add("uchart");
    var head = document.createElement("div");
    head.className = "title";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = spec.title || "";
    if (spec.titleNoTranslate) name.setAttribute("translate", "no");
    if (spec.tooltip) name.title = spec.tooltip;
    var last = document.createElement("span");
    last.className = "last";
    last.textContent = spec.headline || "";
    var tools = document.createElement("span");
    tools.className = "tools";
    [["csv", T.csv || "CSV", T.csv_help], ["png", T.png || "PNG", T.png_help]].forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "mini";
      btn.dataset.export = b[0];
      btn.textContent = b[1];
      if (b[2]) btn.title = b[2];
      tools.appendChild(btn);
    });
    head.appendChild(name); head.appendChild(last); head.appendChild(tools);
    host.appendChild(head);
    var plot = document.createElement("div");
    plot.className = "plot";
    host.appendChild(plot);
    var key = document.createElement("div");
    key.className = "key small muted";
    host.appendChild(key);
    return { head: head, last: last, plot: plot, key: key, tools: tools };
  }

  /* The words under a chart naming the limits drawn on it: [{kind, text}]. */
  function limitKey(f, entries) {
    f.key.innerHTML = "";
    (entries || []).forEach(function (l) {
      var s = document.createElement("span");
      s.className = "lim lim-" + l.kind;
      s.textContent = l.text;
      f.key.appendChild(s);
    });
  }

  /* Horizontal limit lines, clipped to the plot: dashed grey for a sensor's valid range,
     red for the failure limit. */
  function drawLimits(u, limits, scale) {
    var ctx = u.ctx, b = u.bbox;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
    limits.forEach(function (l) {
      var y = Math.round(u.valToPos(l.value, scale || "y", true)) + 0.5;
      if (y < b.top || y > b.top + b.height) return;
      ctx.strokeStyle = l.kind === "failure" ? "#dc2626" : "#64748b";
      ctx.lineWidth = (l.kind === "failure" ? 2 : 1) * devicePixelRatio;
      ctx.setLineDash(l.kind === "failure" ? [6 * devicePixelRatio, 3 * devicePixelRatio] : [3 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath(); ctx.moveTo(b.left, y); ctx.lineTo(b.left + b.width, y); ctx.stroke();
    });
    ctx.restore();
  }

  function baseOpts(host, spec) {
    var width = Math.max(host.clientWidth || 0, 240);
    return {
      width: width,
      height: spec.height || 220,
      pxAlign: 0,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      legend: { live: true },
      // a page-wide window: a drag reports the span to the page (which sets every chart),
      // a double-click asks for everything; other charts zoom on their own
      cursor: spec.onZoom ? { sync: { key: spec.sync || "page", setSeries: false }, drag: { x: true, y: false, setScale: false }, bind: { dblclick: function () { return null; } } }
                          : { drag: { x: true, y: false } },
      focus: { alpha: 1 },
      plugins: [lastValues()],
    };
  }

  /* The legend reads the newest values while the cursor is away, the hovered ones on hover. */
  function lastValues() {
    function last(u) {
      for (var i = u.data[0].length - 1; i >= 0; i--) {
        for (var k = 1; k < u.data.length; k++) if (u.data[k][i] != null) return i;
      }
      return null;
    }
    function show(u) { var i = last(u); if (i != null) u.setLegend({ idx: i }); }
    return { hooks: { ready: show, setData: show, setCursor: function (u) { if (u.cursor.idx == null) show(u); } } };
  }

  function axisStyle(extra) {
    return Object.assign({ stroke: "#64748b", grid: { stroke: "#eef2f7", width: 1 }, ticks: { stroke: "#cbd5e1", width: 1, size: 4 }, font: FONT, labelFont: FONT }, extra || {});
  }

  /* Mount a uPlot in a frame, keep it the width of its box, hook exports and zoom. */
  function mount(host, f, opts, data, spec) {
    var u = new uPlot(opts, data, f.plot);
    host._chart = { u: u, spec: spec };
    host.dataset.points = String(data[0].length);
    var ro = new ResizeObserver(function () {
      var w = Math.max(host.clientWidth || 0, 240);
      if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: u.height });
    });
    ro.observe(host);
    f.tools.querySelector("[data-export=csv]").addEventListener("click", function () { exportCsv(u, spec); });
    f.tools.querySelector("[data-export=png]").addEventListener("click", function () { exportPng(u, spec); });
    if (spec.onZoom) {
      u.over.addEventListener("dblclick", function () { spec.onZoom(null, null); });
    }
    return u;
  }

  /* A finished drag across a chart: the span it covers, for the page to apply to all. */
  function zoomHook(spec) {
    return function (u) {
      var sel = u.select;
      if (!spec.onZoom || !sel || sel.width < 3) return;
      var lo = u.posToVal(sel.left, "x"), hi = u.posToVal(sel.left + sel.width, "x");
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      spec.onZoom(lo, hi);
    };
  }

  function recordRange(host) {
    return function (u) {
      var y = u.scales[host._yscale || "y"];
      if (y) host.dataset.yRange = JSON.stringify([y.min, y.max]);
      if (u.scales.x) host.dataset.xRange = JSON.stringify([u.scales.x.min, u.scales.x.max]);
    };
  }

  /* Set a chart's time window without it reporting a zoom back. */
  function setWindow(host, lo, hi) {
    var c = host._chart;
    if (!c) return;
    c.u._quiet = true;
    if (lo == null) c.u.setData(c.u.data, true);
    else c.u.setScale("x", { min: lo, max: hi });
    c.u._quiet = false;
  }

  /* -- exports ------------------------------------------------------------------------------------ */
  function download(name, blob) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }
  function fileName(spec, ext) {
    return (spec.file || "chart").replace(/[^A-Za-z0-9_.-]+/g, "_") + "." + ext;
  }
  function csvCell(v) {
    var s = v == null ? "" : String(v);
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function exportCsv(u, spec) {
    var cols = u.series.map(function (s, i) { return i === 0 ? (spec.xHeader || "x") : s.label; });
    var lines = [cols.map(csvCell).join(",")];
    var xs = u.data[0];
    for (var i = 0; i < xs.length; i++) {
      var row = [spec.xTime ? new Date(xs[i] * 1000).toISOString() : xs[i]];
      for (var k = 1; k < u.data.length; k++) row.push(u.data[k][i]);
      lines.push(row.map(csvCell).join(","));
    }
    download(fileName(spec, "csv"), new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
  }
  function exportPng(u, spec) {
    var src = u.ctx.canvas, dpr = devicePixelRatio || 1, pad = Math.round(28 * dpr);
    var c = document.createElement("canvas");
    c.width = src.width; c.height = src.height + pad;
    var ctx = c.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
    ctx.fillStyle = "#0f172a"; ctx.font = "600 " + Math.round(13 * dpr) + 'px system-ui, "WenQuanYi Micro Hei", sans-serif';
    ctx.fillText((spec.title || "") + (spec.headline ? "  " + spec.headline : ""), 8 * dpr, 19 * dpr);
    ctx.drawImage(src, 0, pad);
    c.toBlob(function (blob) { download(fileName(spec, "png"), blob); }, "image/png");
  }

  function empty(host, text) {
    host.innerHTML = "";
    delete host._chart;
    var p = document.createElement("p");
    p.className = "muted empty-chart";
    p.textContent = text;
    host.appendChild(p);
  }

  window.PrognosChartKit = {
    T: T, LANG: LANG, PALETTE: PALETTE, FONT: FONT,
    fmtNum: fmtNum, fmtValue: fmtValue, isoMinute: isoMinute, dateFmt: dateFmt,
    timeTicks: timeTicks, numTicks: numTicks, padRange: padRange, extent: extent,
    frame: frame, limitKey: limitKey, drawLimits: drawLimits, baseOpts: baseOpts, axisStyle: axisStyle,
    mount: mount, zoomHook: zoomHook, recordRange: recordRange, setWindow: setWindow, empty: empty,
  };
})();
