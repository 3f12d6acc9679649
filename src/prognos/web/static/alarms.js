/* Alarm desk: the header checkbox selects every alarm (or group) on the page. */
(function () {
  "use strict";
  document.querySelectorAll("#alarms .pick-all").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("#alarms tbody td.pick input[type=checkbox]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  });
})();
