// What every page needs before its own scripts, without inline script (the CSP allows none):
// the translated strings the server put in a JSON block, and selects that submit their form.
(function () {
  var el = document.getElementById("prognos-i18n");
  try {
    window.PROGNOS_I18N = el ? JSON.parse(el.textContent) : {};
  } catch (e) {
    window.PROGNOS_I18N = {};
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t && t.hasAttribute && t.hasAttribute("data-autosubmit") && t.form) t.form.submit();
  });
})();
