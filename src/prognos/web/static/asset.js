/* Asset page: fetch the downsampled series and forecast charts, redraw when events arrive. */
(function () {
  "use strict";
  var C = window.PrognosCharts, T = window.PROGNOS_I18N || {};
  var box = document.getElementById("sensors");
  if (!box) return;
  var asset = box.dataset.asset;
  var base = "/panel/data/assets/" + encodeURIComponent(asset);
  var state = { range: "all", channels: box.dataset.default ? box.dataset.default.split(",") : [] };
  var live = document.getElementById("live-state");
  var pending = null, inflight = false;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }

  function drawSensors() {
    var host = document.getElementById("sensor-charts");
    if (!state.channels.length) { host.innerHTML = ""; return Promise.resolve(); }
    inflight = true;
    var url = base + "/telemetry?max_points=300&range=" + state.range + "&channels=" + encodeURIComponent(state.channels.join(","));
    return getJSON(url).then(function (d) {
      host.innerHTML = "";
      var names = Object.keys(d.channels);
      if (!names.length) { C.empty(host, T["asset.no_data"] || "no data"); return; }
      state.channels.forEach(function (ch) {
        var s = d.channels[ch];
        if (!s) return;
        var div = document.createElement("div");
        div.className = "chart sensor";
        div.dataset.channel = ch;
        host.appendChild(div);
        C.timeSeries(div, { title: ch, ts: s.ts, mean: s.mean, min: s.min, max: s.max,
          last: s.mean.length ? s.mean[s.mean.length - 1].toPrecision(5) + " · " + s.ts[s.ts.length - 1].slice(0, 16).replace("T", " ") : "" });
      });
      box.dataset.last = d.last || "";
    }).finally(function () { inflight = false; });
  }

  function drawForecast() {
    return getJSON(base + "/forecast").then(function (d) {
      var fanHost = document.getElementById("fan-chart"), curveHost = document.getElementById("curve-chart");
      if (!d.fan.length) {
        C.empty(fanHost, T["asset.no_forecast"] || "no forecast");
        C.empty(curveHost, T["asset.no_forecast"] || "no forecast");
        return;
      }
      C.fan(fanHost, d);
      C.curve(curveHost, d, T);
    });
  }

  function drawHealth() {
    return getJSON(base + "/health").then(function (d) {
      var host = document.getElementById("health-chart");
      if (!d.ts.length) { C.empty(host, T["asset.no_health"] || "no health scores"); return; }
      C.health(host, d);
    });
  }

  /* Coalesce bursts of readings into at most one refetch per second. */
  function scheduleSensors() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (inflight) { scheduleSensors(); return; }
      drawSensors();
    }, 1000);
  }

  document.querySelectorAll("[data-range]").forEach(function (b) {
    b.addEventListener("click", function () {
      document.querySelectorAll("[data-range]").forEach(function (o) { o.classList.toggle("on", o === b); });
      state.range = b.dataset.range;
      drawSensors();
    });
  });
  document.querySelectorAll("#channel-picker input").forEach(function (cb) {
    cb.addEventListener("change", function () {
      state.channels = Array.prototype.filter.call(document.querySelectorAll("#channel-picker input"), function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      drawSensors();
    });
  });

  function connect() {
    if (!window.EventSource) return;
    var es = new EventSource("/events?asset=" + encodeURIComponent(asset));
    es.addEventListener("hello", function () { live.dataset.state = "on"; live.dataset.label = T["asset.live"] || "live"; });
    es.addEventListener("readings", function (ev) {
      var d = JSON.parse(ev.data);
      box.dataset.received = String((+box.dataset.received || 0) + d.count);
      scheduleSensors();
    });
    es.addEventListener("forecast", function () { drawForecast(); drawHealth(); });
    es.onerror = function () { live.dataset.state = "off"; live.dataset.label = T["asset.offline"] || ""; };
  }

  drawSensors();
  drawForecast();
  drawHealth();
  connect();
})();
