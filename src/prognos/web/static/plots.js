/* The panel's chart kinds on top of charts.js: sensor series (one or several channels and
   assets, min-max bands, limits), the RUL fan, the failure curve, health over time and the
   fleet's RUL histogram. */
(function () {
  "use strict";
  var K = window.PrognosChartKit, T = K.T;

  function secs(isoList) { return isoList.map(function (t) { return Date.parse(t) / 1000; }); }

  /* Sensor readings. spec.lines: [{label, ts, mean, min?, max?, unit, scale?}]; a line with
     min and max gets its band (minLabel, maxLabel name its edges where they are not min and
     max). spec.limits: [{kind, value, text, scale?}]. */
  function timeSeries(host, spec) {
    var f = K.frame(host, spec);
    var tables = [], series = [{ label: T.time_utc || "time (UTC)", value: function (u, v) { return v == null ? "–" : K.isoMinute(v); } }];
    var bands = [], scales = {}, order = [];
    spec.lines.forEach(function (ln, i) {
      var color = ln.color || K.PALETTE[i % K.PALETTE.length], sc = ln.scale || "y";
      if (!scales[sc]) { scales[sc] = { unit: ln.unit, arrays: [] }; order.push(sc); }
      var t = [secs(ln.ts), ln.mean];
      var unit = ln.unit ? " " + ln.unit : "";
      var fmt = function (u, v) { return v == null ? "–" : K.fmtValue(v) + unit; };
      series.push({ label: ln.label, stroke: color, width: 1.6, scale: sc, value: fmt, spanGaps: true, points: { show: ln.ts.length < 40, size: 4 } });
      scales[sc].arrays.push(ln.mean);
      if (ln.min && ln.max) {
        t.push(ln.min, ln.max);
        var n = series.length;
        series.push({ label: ln.minLabel || T.min || "min", stroke: "rgba(0,0,0,0)", scale: sc, value: fmt, spanGaps: true, points: { show: false } });
        series.push({ label: ln.maxLabel || T.max || "max", stroke: "rgba(0,0,0,0)", scale: sc, value: fmt, spanGaps: true, points: { show: false } });
        bands.push({ series: [n + 1, n], fill: hexAlpha(color, 0.16) });
        scales[sc].arrays.push(ln.min, ln.max);
      }
      tables.push(t);
    });
    var data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    var limits = spec.limits || [];
    var opts = K.baseOpts(host, spec);
    opts.scales = { x: { time: true } };
    opts.axes = [K.axisStyle({ values: K.timeTicks, space: 70, label: T.time_utc, labelSize: 16, size: 34 })];
    order.forEach(function (sc, k) {
      var e = K.extent(scales[sc].arrays);
      var near = limits.filter(function (l) { return (l.scale || "y") === sc && (l.kind === "failure" || e[0] == null || Math.abs(l.value - (l.value < e[0] ? e[0] : e[1])) <= Math.max(e[1] - e[0], 1e-9)); });
      opts.scales[sc] = { range: function (u, lo, hi) { return K.padRange(lo, hi, near.map(function (l) { return l.value; })); } };
      opts.axes.push(K.axisStyle({ scale: sc, side: k % 2 ? 1 : 3, values: K.numTicks(), label: scales[sc].unit || "", labelSize: scales[sc].unit ? 16 : 0, size: 56, grid: { show: k === 0, stroke: "#eef2f7", width: 1 } }));
    });
    host._yscale = order[0];
    opts.series = series;
    opts.bands = bands;
    opts.hooks = {
      draw: [function (u) { order.forEach(function (sc) { K.drawLimits(u, limits.filter(function (l) { return (l.scale || "y") === sc; }), sc); }); }, K.recordRange(host)],
      setSelect: [K.zoomHook(spec)],
    };
    K.limitKey(f, spec.key);
    host.dataset.limits = JSON.stringify(limits.map(function (l) { return l.value; }));
    host.dataset.dataRange = JSON.stringify(K.extent(order.map(function (sc) { return [].concat.apply([], scales[sc].arrays); })));
    var u = K.mount(host, f, opts, data, Object.assign({ xTime: true, xHeader: "time_utc" }, spec));
    if (spec.window) K.setWindow(host, spec.window[0], spec.window[1]);
    return u;
  }

  function hexAlpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + a + ")";
  }

  /* RUL fan: quantile bands of every stored forecast over time, the median drawn. */
  // the median last: uPlot fills a band when it draws its upper series, over what came before
  var FAN = [["0.05", "P5"], ["0.1", "P10"], ["0.25", "P25"], ["0.75", "P75"], ["0.9", "P90"], ["0.95", "P95"], ["0.5", "P50"]];
  function fan(host, d, spec) {
    var unit = (T.units || {})[d.time_unit] || d.time_unit;
    var f = K.frame(host, spec);
    var data = [secs(d.fan.map(function (r) { return r.as_of; }))];
    var series = [{ label: T.time_utc, value: function (u, v) { return v == null ? "–" : K.isoMinute(v); } }];
    FAN.forEach(function (q) {
      data.push(d.fan.map(function (r) { return r.q[q[0]]; }));
      var med = q[0] === "0.5";
      series.push({ label: med ? (T.median || "median") + " P50" : q[1], stroke: med ? "#312e81" : "rgba(0,0,0,0)", width: med ? 2 : 1,
        points: { show: med && d.fan.length < 40, size: 5, fill: "#312e81" }, value: function (u, v) { return v == null ? "–" : K.fmtValue(v) + " " + unit; } });
    });
    var opts = K.baseOpts(host, spec);
    opts.scales = { x: { time: true }, y: { range: function (u, lo, hi) { var r = K.padRange(lo, hi); return [Math.max(0, r[0]), r[1]]; } } };
    opts.axes = [K.axisStyle({ values: K.timeTicks, space: 70, label: T.time_utc, labelSize: 16, size: 34 }),
                 K.axisStyle({ values: K.numTicks(), label: (T.rul_axis || {})[d.time_unit] || unit, labelSize: 16, size: 56 })];
    opts.series = series;
    opts.bands = [{ series: [6, 1], fill: "rgba(199,210,254,.9)" }, { series: [5, 2], fill: "rgba(165,180,252,.9)" }, { series: [4, 3], fill: "rgba(129,140,248,.85)" }];
    opts.hooks = { draw: [K.recordRange(host)], setSelect: [K.zoomHook(spec)] };
    host.dataset.dataRange = JSON.stringify(K.extent(data.slice(1)));
    K.mount(host, f, opts, data, Object.assign({ xTime: true, xHeader: "as_of_utc" }, spec));
    if (spec.window) K.setWindow(host, spec.window[0], spec.window[1]);
  }

  /* Failure probability of the latest forecast against time ahead, the planned job marked. */
  function curve(host, d, spec) {
    var unit = (T.units || {})[d.time_unit] || d.time_unit;
    var f = K.frame(host, spec);
    var t = d.curve.t, tmax = t[t.length - 1];
    if (d.job && d.job.t > tmax) tmax = d.job.t * 1.05;
    var opts = K.baseOpts(host, spec);
    opts.scales = { x: { time: false, range: function (u, lo, hi) { return [0, Math.max(hi, tmax)]; } }, y: { range: [0, 1] } };
    opts.axes = [K.axisStyle({ values: K.numTicks(), label: (T.ahead_axis || {})[d.time_unit] || unit, labelSize: 16, size: 34 }),
                 K.axisStyle({ values: function (u, s) { return s.map(function (v) { return Math.round(v * 100) + "%"; }); }, label: T.probability, labelSize: 16, size: 50 })];
    opts.series = [{ label: unit, value: function (u, v) { return v == null ? "–" : K.fmtValue(v) + " " + unit; } },
      { label: T.probability || "P", stroke: "#dc2626", width: 2, fill: "rgba(254,202,202,.45)", points: { show: false },
        value: function (u, v) { return v == null ? "–" : K.fmtNum(v * 100, 1) + "%"; } }];
    opts.hooks = { draw: [function (u) { if (d.job) drawJob(u, d.job); }, K.recordRange(host)] };
    if (d.job) {
      f.key.textContent = (T.job_marker || "planned job") + " " + d.job.day + ": " + K.fmtNum(d.job.prob * 100, 1) + "%";
      f.key.classList.add("job-key");
    }
    K.mount(host, f, opts, [t, d.curve.p], Object.assign({ xHeader: d.time_unit + "_ahead" }, spec));
    host.dataset.job = d.job ? JSON.stringify(d.job) : "";
  }

  function drawJob(u, job) {
    var ctx = u.ctx, b = u.bbox, x = Math.round(u.valToPos(job.t, "x", true)) + 0.5, y = u.valToPos(job.prob, "y", true);
    if (x < b.left || x > b.left + b.width) return;
    ctx.save();
    ctx.beginPath(); ctx.rect(b.left, b.top, b.width, b.height); ctx.clip();
    ctx.strokeStyle = "#0f172a"; ctx.lineWidth = devicePixelRatio; ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath(); ctx.moveTo(x, b.top); ctx.lineTo(x, b.top + b.height); ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = "#0f172a";
    ctx.beginPath(); ctx.arc(x, y, 4 * devicePixelRatio, 0, 2 * Math.PI); ctx.fill();
    ctx.restore();
  }

  /* Health score on a fixed 0-100 axis over the good / watch / critical zones. */
  function health(host, d, spec) {
    var f = K.frame(host, spec);
    var zones = [[d.bands.good, 100, "rgba(220,252,231,.8)"], [d.bands.watch, d.bands.good, "rgba(254,243,199,.8)"], [0, d.bands.watch, "rgba(254,226,226,.8)"]];
    var opts = K.baseOpts(host, spec);
    opts.scales = { x: { time: true }, y: { range: [0, 100] } };
    opts.axes = [K.axisStyle({ values: K.timeTicks, space: 70, label: T.time_utc, labelSize: 16, size: 34 }),
                 K.axisStyle({ values: K.numTicks(), splits: function () { return [0, d.bands.watch, d.bands.good, 100]; }, label: T.health_axis, labelSize: 16, size: 50 })];
    opts.series = [{ label: T.time_utc, value: function (u, v) { return v == null ? "–" : K.isoMinute(v); } },
      { label: T.health || "health", stroke: "#0f172a", width: 2, points: { show: true, size: 5 }, value: function (u, v) { return v == null ? "–" : K.fmtNum(v, 0) + "/100"; } }];
    opts.hooks = {
      drawClear: [function (u) {
        var ctx = u.ctx, b = u.bbox;
        zones.forEach(function (z) {
          var y0 = u.valToPos(z[1], "y", true), y1 = u.valToPos(z[0], "y", true);
          ctx.fillStyle = z[2]; ctx.fillRect(b.left, y0, b.width, y1 - y0);
        });
      }],
      draw: [K.recordRange(host)], setSelect: [K.zoomHook(spec)],
    };
    var z = T.zone || {};
    f.key.innerHTML = "";
    [["good", "zone-good"], ["watch", "zone-watch"], ["critical", "zone-critical"]].forEach(function (k) {
      var s = document.createElement("span"); s.className = "lim " + k[1]; s.textContent = z[k[0]] || k[0]; f.key.appendChild(s);
    });
    K.mount(host, f, opts, [secs(d.ts), d.score], Object.assign({ xTime: true, xHeader: "as_of_utc" }, spec));
    if (spec.window) K.setWindow(host, spec.window[0], spec.window[1]);
  }

  /* The fleet's RUL P50 histogram in days: bars by urgency, a y axis counting assets. */
  function histogram(host, bars, spec) {
    var f = K.frame(host, spec);
    var xs = bars.map(function (b) { return (b.lo + b.hi) / 2; });
    var pick = function (kind) { return bars.map(function (b) { return (b.urgency || "") === kind && b.n ? b.n : null; }); };
    var width = bars.length ? bars[0].hi - bars[0].lo : 1, hi = bars.length ? bars[bars.length - 1].hi : 1;
    var days = (T.units || {}).days || "days";
    var xval = function (u, v) {
      if (v == null) return "–";
      return K.fmtNum(v - width / 2, 0) + "–" + K.fmtNum(v + width / 2, 0) + " " + days;
    };
    var cnt = function (u, v) { return v == null ? "–" : K.fmtNum(v, 0); };
    var path = uPlot.paths.bars({ size: [0.9, Infinity], align: 0 });
    var opts = K.baseOpts(host, spec);
    opts.scales = { x: { time: false, range: function () { return [0, hi]; } }, y: { range: function (u, lo, h) { return [0, Math.max(1, h) * 1.08]; } } };
    opts.axes = [K.axisStyle({ values: K.numTicks(), label: T.days_axis, labelSize: 16, size: 34 }),
                 K.axisStyle({ values: K.numTicks(), incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000], label: T.assets_axis, labelSize: 16, size: 50 })];
    opts.series = [{ label: days, value: xval },
      { label: "≤ 30", stroke: "#dc2626", fill: "#dc2626", paths: path, points: { show: false }, value: cnt },
      { label: "≤ 90", stroke: "#d97706", fill: "#d97706", paths: path, points: { show: false }, value: cnt },
      { label: "> 90", stroke: "#60a5fa", fill: "#60a5fa", paths: path, points: { show: false }, value: cnt }];
    opts.cursor = { drag: { x: false, y: false } };
    opts.hooks = { draw: [K.recordRange(host)] };
    host.dataset.dataRange = JSON.stringify([0, Math.max.apply(null, bars.map(function (b) { return b.n; }).concat([0]))]);
    K.mount(host, f, opts, [xs, pick("soon"), pick("later"), pick("")], Object.assign({ xHeader: "rul_p50_days_bin_centre" }, spec));
  }

  window.PrognosCharts = { timeSeries: timeSeries, fan: fan, curve: curve, health: health, histogram: histogram, empty: K.empty, setWindow: K.setWindow, kit: K };
})();
