/* Fleet page: draw the RUL histogram; ask every few seconds whether the fleet's numbers
   changed; when they did, fetch this same page and swap in its KPIs, charts, table and pager
   (not the filter form, which the user may be editing). */
(function () {
  "use strict";
  var C = window.PrognosCharts, T = window.PROGNOS_I18N || {};
  var box = document.getElementById("fleet-list");
  if (!box) return;
  var every = parseFloat(box.dataset.poll || "10") * 1000;
  var live = document.getElementById("fleet-live"), updated = document.getElementById("fleet-updated");
  var stamp = null, busy = false;

  function drawHistogram() {
    var host = document.getElementById("rul-hist");
    if (!host || !C) return;
    C.histogram(host, JSON.parse(host.dataset.bars || "[]"), { file: "fleet_rul_p50_days", height: 190 });
  }

  function setLive(on, when) {
    live.dataset.state = on ? "on" : "off";
    updated.textContent = on ? updated.dataset.live + (when ? " · " + (T.updated || "updated") + " " + when : "") : updated.dataset.off;
  }

  function swap(doc) {
    ["fleet-kpis", "fleet-charts", "fleet-table", "fleet-pager"].forEach(function (id) {
      var now = document.getElementById(id), fresh = doc.getElementById(id);
      if (now && fresh) now.replaceWith(fresh);
    });
    drawHistogram();
    box.dataset.refreshed = String(parseInt(box.dataset.refreshed || "0", 10) + 1);
    setLive(true, new Date().toLocaleTimeString(T.lang || undefined, { hour12: false }));
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch("/panel/data/fleet/stamp", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        if (live.dataset.state !== "on") setLive(true);
        if (stamp === null || d.stamp === stamp) { stamp = d.stamp; return; }
        stamp = d.stamp;
        return fetch(location.href, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) { swap(new DOMParser().parseFromString(html, "text/html")); });
      })
      .catch(function () { setLive(false); })
      .finally(function () { busy = false; });
  }

  drawHistogram();
  poll();
  setInterval(poll, every);
})();
