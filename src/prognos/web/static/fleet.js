/* Fleet page: ask every few seconds whether the fleet's numbers changed; when they did, fetch
   this same page and swap in its KPIs, charts, table and pager (not the filter form, which the
   user may be editing). */
(function () {
  "use strict";
  var box = document.getElementById("fleet-list");
  if (!box) return;
  var every = parseFloat(box.dataset.poll || "10") * 1000;
  var live = document.getElementById("fleet-live"), updated = document.getElementById("fleet-updated");
  var stamp = null, busy = false;

  function swap(doc) {
    ["fleet-kpis", "fleet-charts", "fleet-table", "fleet-pager"].forEach(function (id) {
      var now = document.getElementById(id), fresh = doc.getElementById(id);
      if (now && fresh) now.replaceWith(fresh);
    });
    box.dataset.refreshed = String(parseInt(box.dataset.refreshed || "0", 10) + 1);
    updated.textContent = (updated.dataset.label || "updated") + " " + new Date().toLocaleTimeString();
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch("/panel/data/fleet/stamp", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) {
        live.dataset.state = "on";
        if (stamp === null || d.stamp === stamp) { stamp = d.stamp; return; }
        stamp = d.stamp;
        return fetch(location.href, { credentials: "same-origin" })
          .then(function (r) { return r.text(); })
          .then(function (html) { swap(new DOMParser().parseFromString(html, "text/html")); });
      })
      .catch(function () { live.dataset.state = "off"; })
      .finally(function () { busy = false; });
  }

  poll();
  setInterval(poll, every);
})();
