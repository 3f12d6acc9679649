/* prognos charts: small SVG line, band, fan and curve charts; no dependencies, served by the app. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var M = { l: 46, r: 12, t: 10, b: 24 };

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceTicks(lo, hi, n) {
    if (!isFinite(lo) || !isFinite(hi)) return [];
    if (hi === lo) { hi = lo + 1; lo = lo - 1; }
    var raw = (hi - lo) / Math.max(n, 1);
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * p; }).find(function (s) { return s >= raw; });
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }

  function fmt(v) {
    var a = Math.abs(v);
    if (a >= 1e5) return v.toExponential(1);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return v.toPrecision(3);
  }

  function fmtDate(ms, spanMs) {
    var d = new Date(ms);
    var iso = d.toISOString();
    if (spanMs < 2 * 86400e3) return iso.slice(11, 16);
    if (spanMs < 400 * 86400e3) return iso.slice(5, 10);
    return iso.slice(0, 7);
  }

  function timeTicks(lo, hi, n) {
    var span = hi - lo, steps = [3600e3, 6 * 3600e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 14 * 86400e3, 30 * 86400e3, 61 * 86400e3, 91 * 86400e3, 182 * 86400e3, 365 * 86400e3];
    var step = steps.find(function (s) { return span / s <= n; }) || steps[steps.length - 1];
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
    return out;
  }

  function frame(host, opts) {
    host.innerHTML = "";
    var W = opts.width || 560, H = opts.height || 170;
    if (opts.title) {
      var t = document.createElement("div");
      t.className = "title";
      t.innerHTML = "<span></span><span class='last'></span>";
      t.firstChild.textContent = opts.title;
      if (opts.last) t.lastChild.textContent = opts.last;
      host.appendChild(t);
    }
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": opts.title || "chart" }, host);
    var tip = document.createElement("div");
    tip.className = "tip";
    host.appendChild(tip);
    var f = { svg: svg, tip: tip, W: W, H: H, x0: M.l, x1: W - M.r, y0: H - M.b, y1: M.t, host: host };
    f.sx = function (lo, hi) { return function (v) { return f.x0 + (v - lo) / ((hi - lo) || 1) * (f.x1 - f.x0); }; };
    f.sy = function (lo, hi) { return function (v) { return f.y0 - (v - lo) / ((hi - lo) || 1) * (f.y0 - f.y1); }; };
    return f;
  }

  function axes(f, xt, xs, xl, yt, ys, yl) {
    var g = el("g", { "class": "grid" }, f.svg), a = el("g", { "class": "axis" }, f.svg);
    yt.forEach(function (v) {
      el("line", { x1: f.x0, x2: f.x1, y1: ys(v), y2: ys(v) }, g);
      el("text", { x: f.x0 - 6, y: ys(v) + 3, "text-anchor": "end" }, a).textContent = yl(v);
    });
    xt.forEach(function (v) {
      el("line", { x1: xs(v), x2: xs(v), y1: f.y1, y2: f.y0 }, g);
      el("text", { x: xs(v), y: f.y0 + 15, "text-anchor": "middle" }, a).textContent = xl(v);
    });
  }

  function path(pts) {
    return pts.map(function (p, i) { return (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1); }).join("");
  }

  function area(xs, lo, hi) {
    var top = xs.map(function (x, i) { return [x, hi[i]]; });
    var bot = xs.map(function (x, i) { return [x, lo[i]]; }).reverse();
    return path(top.concat(bot)) + "Z";
  }

  function hover(f, xsPx, label) {
    var line = el("line", { "class": "crosshair", y1: f.y1, y2: f.y0, x1: -10, x2: -10 }, f.svg);
    var zone = el("rect", { x: f.x0, y: f.y1, width: f.x1 - f.x0, height: f.y0 - f.y1, fill: "transparent" }, f.svg);
    zone.addEventListener("mousemove", function (ev) {
      var r = f.svg.getBoundingClientRect(), x = (ev.clientX - r.left) / r.width * f.W;
      var best = 0, bd = Infinity;
      for (var i = 0; i < xsPx.length; i++) { var d = Math.abs(xsPx[i] - x); if (d < bd) { bd = d; best = i; } }
      line.setAttribute("x1", xsPx[best]); line.setAttribute("x2", xsPx[best]);
      f.tip.style.display = "block";
      f.tip.style.left = (xsPx[best] / f.W * r.width) + "px";
      f.tip.style.top = (ev.clientY - r.top + (f.host.querySelector(".title") ? 24 : 0)) + "px";
      f.tip.textContent = label(best);
    });
    zone.addEventListener("mouseleave", function () { f.tip.style.display = "none"; line.setAttribute("x1", -10); line.setAttribute("x2", -10); });
  }

  /* Downsampled series: mean line with the min-max band of each bucket. */
  function timeSeries(host, s) {
    var ts = s.ts.map(function (t) { return Date.parse(t); });
    var f = frame(host, { title: s.title, last: s.last });
    var lo = Math.min.apply(null, s.min), hi = Math.max.apply(null, s.max);
    var pad = (hi - lo) * 0.08 || 1;
    var yt = niceTicks(lo - pad, hi + pad, 4);
    var ylo = Math.min(yt[0], lo), yhi = Math.max(yt[yt.length - 1], hi);
    var t0 = ts[0], t1 = ts[ts.length - 1];
    if (t1 === t0) { t0 -= 3600e3; t1 += 3600e3; }
    var xs = f.sx(t0, t1), ys = f.sy(ylo, yhi);
    axes(f, timeTicks(t0, t1, 6), xs, function (v) { return fmtDate(v, t1 - t0); }, yt, ys, fmt);
    var px = ts.map(xs);
    el("path", { "class": "band", d: area(px, s.min.map(ys), s.max.map(ys)) }, f.svg);
    el("path", { "class": "mean", d: path(px.map(function (x, i) { return [x, ys(s.mean[i])]; })) }, f.svg);
    host.dataset.points = String(ts.length);
    hover(f, px, function (i) {
      return new Date(ts[i]).toISOString().slice(0, 16).replace("T", " ") + "  " + fmt(s.mean[i]) + "  [" + fmt(s.min[i]) + ", " + fmt(s.max[i]) + "]";
    });
  }

  /* RUL fan: quantile bands of every forecast over time, the median on top. */
  function fan(host, d) {
    var f = frame(host, { height: 200 });
    var ts = d.fan.map(function (r) { return Date.parse(r.as_of); });
    var q = function (k) { return d.fan.map(function (r) { return r.q[k]; }); };
    var hi = Math.max.apply(null, q("0.95"));
    var yt = niceTicks(0, hi * 1.05, 4);
    var t0 = ts[0], t1 = ts[ts.length - 1];
    if (t1 === t0) { t0 -= 86400e3; t1 += 86400e3; }
    var xs = f.sx(t0, t1), ys = f.sy(0, yt[yt.length - 1]);
    axes(f, timeTicks(t0, t1, 6), xs, function (v) { return fmtDate(v, t1 - t0); }, yt, ys, fmt);
    var px = ts.map(xs);
    [["0.05", "0.95", "fan1"], ["0.1", "0.9", "fan2"], ["0.25", "0.75", "fan3"]].forEach(function (b) {
      el("path", { "class": b[2], d: area(px, q(b[0]).map(ys), q(b[1]).map(ys)) }, f.svg);
    });
    el("path", { "class": "median", d: path(px.map(function (x, i) { return [x, ys(q("0.5")[i])]; })) }, f.svg);
    if (px.length === 1) el("circle", { cx: px[0], cy: ys(q("0.5")[0]), r: 4, "class": "marker-dot" }, f.svg);
    el("text", { x: f.x0 + 4, y: f.y1 + 10, "class": "marker-label" }, f.svg).textContent = "RUL (" + d.time_unit + ")";
    host.dataset.points = String(ts.length);
    hover(f, px, function (i) {
      var r = d.fan[i];
      return r.as_of.slice(0, 10) + "  P50 " + fmt(r.q["0.5"]) + "  P10–P90 " + fmt(r.q["0.1"]) + "–" + fmt(r.q["0.9"]);
    });
  }

  /* Failure probability curve of the latest forecast, with the planned job marked on it. */
  function curve(host, d, words) {
    var f = frame(host, { height: 200 });
    var t = d.curve.t, p = d.curve.p;
    var tmax = t[t.length - 1];
    if (d.job && d.job.t > tmax) tmax = d.job.t * 1.05;
    var xt = niceTicks(0, tmax, 6);
    var xs = f.sx(0, Math.max(xt[xt.length - 1], tmax)), ys = f.sy(0, 1);
    axes(f, xt, xs, fmt, [0, 0.25, 0.5, 0.75, 1], ys, function (v) { return Math.round(v * 100) + "%"; });
    var px = t.map(xs);
    el("path", { "class": "curve-area", d: path([[px[0], ys(0)]].concat(px.map(function (x, i) { return [x, ys(p[i])]; })).concat([[px[px.length - 1], ys(0)]])) + "Z" }, f.svg);
    el("path", { "class": "curve", d: path(px.map(function (x, i) { return [x, ys(p[i])]; })) }, f.svg);
    if (d.job) {
      var jx = xs(d.job.t), jy = ys(d.job.prob);
      el("line", { "class": "marker", x1: jx, x2: jx, y1: f.y0, y2: f.y1 }, f.svg);
      el("circle", { "class": "marker-dot", cx: jx, cy: jy, r: 4 }, f.svg);
      var lab = el("text", { "class": "marker-label", x: jx + 6, y: Math.max(jy - 8, f.y1 + 12) }, f.svg);
      lab.textContent = (words && words["asset.job_marker"] || "job") + " " + d.job.day + ": " + (d.job.prob * 100).toFixed(1) + "%";
      if (jx > f.x1 - 150) { lab.setAttribute("text-anchor", "end"); lab.setAttribute("x", jx - 6); }
    }
    el("text", { x: f.x1, y: f.y0 - 6, "text-anchor": "end", "class": "marker-label" }, f.svg).textContent = d.time_unit + " →";
    host.dataset.points = String(t.length);
    hover(f, px, function (i) { return fmt(t[i]) + " " + d.time_unit + ": " + (p[i] * 100).toFixed(1) + "%"; });
  }

  /* Health score over time on a fixed 0-100 axis, the good / watch / critical bands shaded. */
  function health(host, d) {
    var f = frame(host, { width: 1160, height: 190 });  // a full-width card: keep text the size of the others
    var ts = d.ts.map(function (t) { return Date.parse(t); });
    var t0 = ts[0], t1 = ts[ts.length - 1];
    if (t1 === t0) { t0 -= 86400e3; t1 += 86400e3; }
    var xs = f.sx(t0, t1), ys = f.sy(0, 100);
    [[d.bands.good, 100, "zone-good"], [d.bands.watch, d.bands.good, "zone-watch"], [0, d.bands.watch, "zone-critical"]].forEach(function (z) {
      el("rect", { "class": z[2], x: f.x0, width: f.x1 - f.x0, y: ys(z[1]), height: ys(z[0]) - ys(z[1]) }, f.svg);
    });
    axes(f, timeTicks(t0, t1, 5), xs, function (v) { return fmtDate(v, t1 - t0); }, [0, 40, 70, 100], ys, fmt);
    var px = ts.map(xs);
    el("path", { "class": "health-line", d: path(px.map(function (x, i) { return [x, ys(d.score[i])]; })) }, f.svg);
    var n = px.length - 1;
    el("circle", { "class": "marker-dot", cx: px[n], cy: ys(d.score[n]), r: 4 }, f.svg);
    host.dataset.points = String(ts.length);
    hover(f, px, function (i) { return new Date(ts[i]).toISOString().slice(0, 16).replace("T", " ") + "  " + fmt(d.score[i]) + "/100"; });
  }

  function empty(host, text) {
    host.innerHTML = "";
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    host.appendChild(p);
  }

  window.PrognosCharts = { timeSeries: timeSeries, fan: fan, curve: curve, health: health, empty: empty };
})();
