/* KYC gate addon: submits the sign-in form to the gate (the token travels in
 * the POST body, never in a URL) and keeps deadline countdowns current. No
 * inline script is needed. */
(function () {
  'use strict';
  var form = document.getElementById('kycgate-signin');
  if (form && form.getAttribute('data-autosubmit') === '1') {
    form.setAttribute('data-autosubmit', '0');
    form.submit();
  }
  function fmt(t, n) { return t.replace('%d', String(n)); }
  function tick() {
    var els = document.querySelectorAll('.kycgate-countdown[data-deadline]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var left = Math.floor((Date.parse(el.getAttribute('data-deadline')) - Date.now()) / 1000);
      if (isNaN(left)) { continue; }
      if (left <= 0) { el.textContent = el.getAttribute('data-passed'); continue; }
      var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600), m = Math.floor((left % 3600) / 60);
      var parts = [];
      if (d > 0) { parts.push(fmt(el.getAttribute('data-days'), d)); }
      if (d > 0 || h > 0) { parts.push(fmt(el.getAttribute('data-hours'), h)); }
      if (d === 0) { parts.push(fmt(el.getAttribute('data-minutes'), m)); }
      el.textContent = el.getAttribute('data-left').replace('%s', parts.join(' '));
    }
  }
  tick();
  setInterval(tick, 30000);
}());
