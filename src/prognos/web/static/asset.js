/* Asset page: one time window for every time chart (presets, dates, drag-to-zoom), sensor
   charts per channel or all on one, other assets to compare, the forecast and health charts;
   redrawn when readings or forecasts arrive. */
(function () {
  "use strict";
  var C = window.PrognosCharts, K = C.kit, T = window.PROGNOS_I18N || {};
  var box = document.getElementById("sensors");
  if (!box) return;
  var asset = box.dataset.asset, assetName = box.dataset.name || asset;
  var info = JSON.parse(box.dataset.channels || "[]");
  var byName = {};
  info.forEach(function (c) { byName[c.name] = c; });
  var DAYS = { "1d": 1, "7d": 7, "30d": 30, "90d": 90, "365d": 365 };
  var state = {
    channels: box.dataset.default ? box.dataset.default.split(",") : [],
    compare: [], layout: "split", preset: "all", win: null, bounds: [null, null], latest: {},
  };
  var names = {};
  names[asset] = assetName;
  var live = document.getElementById("live-state"), liveLabel = document.getElementById("live-label");
  var pending = null, inflight = false, forecastData = null, healthData = null;
  var fromInput = document.getElementById("range-from"), toInput = document.getElementById("range-to");
  var resetBtn = document.getElementById("range-reset");

  function url(id) { return "/panel/data/assets/" + encodeURIComponent(id); }
  function getJSON(u) {
    return fetch(u, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(u + ": " + r.status);
      return r.json();
    });
  }
  function iso(sec) { return new Date(sec * 1000).toISOString(); }
  function sec(t) { return t ? Date.parse(t) / 1000 : null; }

  /* -- the page's time window --------------------------------------------------------------- */
  function widen(lo, hi) {
    var b = state.bounds;
    if (lo != null && (b[0] == null || lo < b[0])) b[0] = lo;
    if (hi != null && (b[1] == null || hi > b[1])) b[1] = hi;
  }
  function presetWindow(p) {
    var b = state.bounds;
    if (b[1] == null) return null;
    if (p === "all" || !DAYS[p]) return [b[0], b[1]];
    return [b[1] - DAYS[p] * 86400, b[1]];
  }
  function showWindow() {
    var w = state.win;
    fromInput.value = w ? iso(w[0]).slice(0, 10) : "";
    toInput.value = w ? iso(w[1]).slice(0, 10) : "";
    document.querySelectorAll("[data-range]").forEach(function (o) { o.classList.toggle("on", o.dataset.range === state.preset); });
    resetBtn.disabled = state.preset !== null;
    box.dataset.window = w ? JSON.stringify(w) : "";
  }
  /* Every time chart follows: the sensors refetch their window at full resolution. */
  function setWindow(lo, hi, preset) {
    state.preset = preset === undefined ? null : preset;
    state.win = lo == null ? presetWindow(state.preset || "all") : [lo, hi];
    showWindow();
    ["fan-chart", "health-chart"].forEach(function (id) {
      var h = document.getElementById(id);
      if (h && state.win) C.setWindow(h, state.win[0], state.win[1]);
    });
    return drawSensors();
  }
  function onZoom(lo, hi) {
    if (lo == null) { setWindow(null, null, "all"); return; }  // double-click: everything
    setWindow(lo, hi, null);
  }

  /* -- sensors -------------------------------------------------------------------------------- */
  function fetchSeries(id) {
    var q = "?max_points=300&channels=" + encodeURIComponent(state.channels.join(","));
    if (state.win) q += "&start=" + encodeURIComponent(iso(state.win[0])) + "&end=" + encodeURIComponent(iso(state.win[1]));
    return getJSON(url(id) + "/telemetry" + q);
  }
  function headline(ch) {
    var r = state.latest[ch], c = byName[ch] || {};
    if (!r) return "";
    return K.fmtValue(r.value) + (c.unit_label ? " " + c.unit_label : "") + " · " + K.isoMinute(sec(r.ts));
  }
  function limitsOf(ch, scale, withRange) {
    var c = byName[ch] || {}, u = c.unit_label ? " " + c.unit_label : "";
    var lim = [], key = [];
    if (withRange && c.min != null && c.max != null) {
      lim.push({ kind: "range", value: c.min, scale: scale }, { kind: "range", value: c.max, scale: scale });
      key.push({ kind: "range", text: (T.valid_range || "valid range") + " " + K.fmtValue(c.min) + "–" + K.fmtValue(c.max) + u });
    }
    if (c.failure != null) {
      lim.push({ kind: "failure", value: c.failure, scale: scale });
      key.push({ kind: "failure", text: (withRange ? "" : ch + ": ") + (T.failure_limit || "failure limit") + " " + K.fmtValue(c.failure) + u });
    }
    return { limits: lim, key: key };
  }
  function fileBase() {
    var w = state.win;
    return asset + (w ? "_" + iso(w[0]).slice(0, 10) + "_" + iso(w[1]).slice(0, 10) : "");
  }
  function drawSensors() {
    var host = document.getElementById("sensor-charts");
    if (!state.channels.length) { host.innerHTML = ""; return Promise.resolve(); }
    inflight = true;
    var ids = [asset].concat(state.compare);
    return Promise.all(ids.map(fetchSeries)).then(function (all) {
      var mine = all[0];
      Object.keys(mine.latest || {}).forEach(function (ch) { state.latest[ch] = mine.latest[ch]; });
      box.dataset.last = mine.last || "";
      host.innerHTML = "";
      host.classList.toggle("overlay", state.layout === "overlay");
      var shown = state.channels.filter(function (ch) { return all.some(function (d) { return d.channels[ch]; }); });
      if (!shown.length) { C.empty(host, T.no_data || "no data"); return; }
      var sync = { sync: "asset", onZoom: onZoom, window: state.win };
      if (state.layout === "overlay") {
        var lines = [], lim = [], key = [];
        shown.forEach(function (ch) {
          var c = byName[ch] || {}, sc = "u:" + (c.unit_label || ch);
          all.forEach(function (d, k) {
            var s = d.channels[ch];
            if (s) lines.push({ label: ch + (ids.length > 1 ? " · " + names[ids[k]] : ""), ts: s.ts, mean: s.mean, unit: c.unit_label, scale: sc });
          });
          var l = limitsOf(ch, sc, false);
          lim = lim.concat(l.limits); key = key.concat(l.key);
        });
        var div = chartBox(host, "all");
        C.timeSeries(div, Object.assign({ title: shown.join(" · "), titleNoTranslate: true, lines: lines, limits: lim, key: key, file: fileBase() + "_" + shown.join("-"), height: 300 }, sync));
        return;
      }
      shown.forEach(function (ch) {
        var c = byName[ch] || {}, lines = [];
        all.forEach(function (d, k) {
          var s = d.channels[ch];
          if (!s) return;
          var ln = { label: k === 0 ? (ids.length > 1 ? names[asset] : (T.mean || "mean")) : names[ids[k]], ts: s.ts, mean: s.mean, unit: c.unit_label };
          if (k === 0) { ln.min = s.min; ln.max = s.max; }
          lines.push(ln);
        });
        var l = limitsOf(ch, "y", true);
        var div = chartBox(host, ch);
        C.timeSeries(div, Object.assign({ title: ch + (c.unit_label ? " (" + c.unit_label + ")" : ""), titleNoTranslate: true, tooltip: c.description || ch,
          headline: headline(ch), lines: lines, limits: l.limits, key: l.key, file: fileBase() + "_" + ch }, sync));
      });
    }).finally(function () { inflight = false; });
  }
  function chartBox(host, ch) {
    var div = document.createElement("div");
    div.className = "chart sensor";
    div.dataset.channel = ch;
    host.appendChild(div);
    return div;
  }

  /* -- forecast and health -------------------------------------------------------------------- */
  function drawForecast() {
    return getJSON(url(asset) + "/forecast").then(function (d) {
      forecastData = d;
      var fanHost = document.getElementById("fan-chart"), curveHost = document.getElementById("curve-chart");
      if (!d.fan.length) { C.empty(fanHost, T.no_forecast); C.empty(curveHost, T.no_forecast); return; }
      widen(sec(d.fan[0].as_of), sec(d.fan[d.fan.length - 1].as_of));
      C.fan(fanHost, d, { file: asset + "_rul_fan", sync: "asset", onZoom: onZoom, window: state.win });
      C.curve(curveHost, d, { file: asset + "_failure_probability" });
    });
  }
  function drawHealth() {
    return getJSON(url(asset) + "/health").then(function (d) {
      healthData = d;
      var host = document.getElementById("health-chart");
      if (!d.ts.length) { C.empty(host, T.no_health); return; }
      widen(sec(d.ts[0]), sec(d.ts[d.ts.length - 1]));
      C.health(host, d, { file: asset + "_health", sync: "asset", onZoom: onZoom, window: state.win, height: 200 });
    });
  }

  /* The backtest's replay: forecast remaining life with its P10-P90 band, the truth, health. */
  function drawBacktest() {
    var host = document.getElementById("backtest-chart");
    if (!host) return Promise.resolve();
    return getJSON(url(asset) + "/backtest").then(function (d) {
      if (!d.ts.length) { C.empty(host, T.no_forecast); return; }
      var unit = (T.units || {})[d.time_unit] || d.time_unit || "";
      var lines = [{ label: T.bt_forecast, ts: d.ts, mean: d.p50, min: d.p10, max: d.p90, minLabel: "P10", maxLabel: "P90", unit: unit }];
      if (d.rul_true) lines.push({ label: T.bt_truth, ts: d.ts, mean: d.rul_true, unit: unit, color: "#0f172a" });
      if (d.health.some(function (v) { return v != null; })) lines.push({ label: T.health, ts: d.ts, mean: d.health, unit: "/100", scale: "h", color: "#16a34a" });
      C.timeSeries(host, { lines: lines, file: asset + "_backtest", height: 240 });
    });
  }

  /* Coalesce bursts of readings into at most one refetch per second. */
  function scheduleSensors() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (inflight) { scheduleSensors(); return; }
      if (state.preset) state.win = presetWindow(state.preset);  // a preset window slides along
      showWindow();
      drawSensors();
    }, 1000);
  }

  /* -- controls ------------------------------------------------------------------------------- */
  document.querySelectorAll("[data-range]").forEach(function (b) {
    b.addEventListener("click", function () { setWindow(null, null, b.dataset.range); });
  });
  function fromDates() {
    var lo = sec(fromInput.value + "T00:00:00Z"), hi = sec(toInput.value + "T23:59:59Z");
    if (lo != null && hi != null && !isNaN(lo) && !isNaN(hi) && lo < hi) setWindow(lo, hi, null);
  }
  fromInput.addEventListener("change", fromDates);
  toInput.addEventListener("change", fromDates);
  resetBtn.addEventListener("click", function () { setWindow(null, null, "all"); });
  document.querySelectorAll("#channel-picker input").forEach(function (cb) {
    cb.addEventListener("change", function () {
      state.channels = Array.prototype.filter.call(document.querySelectorAll("#channel-picker input"), function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      drawSensors();
    });
  });
  document.querySelectorAll("[data-layout]").forEach(function (b) {
    b.addEventListener("click", function () {
      state.layout = b.dataset.layout;
      document.querySelectorAll("[data-layout]").forEach(function (o) { o.classList.toggle("on", o === b); });
      drawSensors();
    });
  });
  var pick = document.getElementById("compare-pick"), chosen = document.getElementById("compare-list");
  pick.addEventListener("change", function () {
    var id = pick.value, opt = pick.selectedOptions[0];
    pick.value = "";
    if (!id || state.compare.indexOf(id) >= 0 || state.compare.length >= 4) return;
    names[id] = opt.textContent.split(" · ")[0];
    state.compare.push(id);
    var chip = document.createElement("button");
    chip.type = "button"; chip.className = "chip on"; chip.dataset.compare = id; chip.title = id;
    chip.setAttribute("translate", "no");
    chip.textContent = names[id] + " ×";
    chip.addEventListener("click", function () {
      state.compare = state.compare.filter(function (x) { return x !== id; });
      chip.remove();
      drawSensors();
    });
    chosen.appendChild(chip);
    drawSensors();
  });

  function setLive(on) {
    // connected to an offline or retired asset: the stream is open but no data comes, never green
    var stale = on && live.dataset.lifecycle !== "in_service";
    live.dataset.state = stale ? "stale" : on ? "on" : "off";
    liveLabel.textContent = stale ? liveLabel.dataset.stale : on ? liveLabel.dataset.live : liveLabel.dataset.off;
  }
  function connect() {
    if (!window.EventSource) return;
    var es = new EventSource("/events?asset=" + encodeURIComponent(asset));
    es.addEventListener("hello", function () { setLive(true); });
    es.addEventListener("readings", function (ev) {
      var d = JSON.parse(ev.data);
      if (live.dataset.lifecycle === "offline") { live.dataset.lifecycle = "in_service"; setLive(true); }
      box.dataset.received = String((+box.dataset.received || 0) + d.count);
      Object.keys(d.latest || {}).forEach(function (ch) { state.latest[ch] = { ts: d.last, value: d.latest[ch] }; });
      document.querySelectorAll("#sensor-charts .chart.sensor").forEach(function (h) {
        var el = h.querySelector(".title .last");
        if (el && state.latest[h.dataset.channel]) el.textContent = headline(h.dataset.channel);
      });
      widen(null, sec(d.last));
      scheduleSensors();
    });
    es.addEventListener("forecast", function () { drawForecast(); drawHealth(); });
    es.addEventListener("end", function () { es.close(); setLive(false); });
    es.onerror = function () { setLive(false); };
  }

  /* First the span of everything (so "all" means all), then the window, then the sensors. */
  getJSON(url(asset) + "/telemetry?max_points=2").then(function (d) {
    widen(sec(d.first), sec(d.last));
  }).catch(function () { return null; }).then(function () {
    return Promise.all([drawForecast().catch(function () { return null; }), drawHealth().catch(function () { return null; })]);
  }).then(function () {
    state.win = presetWindow("all");
    showWindow();
    ["fan-chart", "health-chart"].forEach(function (id) {
      var h = document.getElementById(id);
      if (h && state.win) C.setWindow(h, state.win[0], state.win[1]);
    });
    return Promise.all([drawSensors(), drawBacktest().catch(function () { return null; })]);
  }).then(function () { box.dataset.ready = "1"; });
  connect();
})();
