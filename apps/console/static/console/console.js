// Refreshes the page's live part (#live) every few seconds without reloading the page: the
// server renders it again alone for "?fragment=1". While the operator is working in it (a box
// ticked, a field filled, a traceback opened, text selected, a field focused) it is left alone,
// so that nothing they did is lost. A session that ended reloads the page (to the login page).
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var seconds = Number(live.getAttribute("data-refresh-seconds")) || 5;

  function fragmentUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    return url.toString();
  }

  function busy() {
    if (live.querySelector("input[type=checkbox]:checked, details[open]")) { return true; }
    var fields = live.querySelectorAll("input[type=text], textarea");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value) { return true; }
    }
    var active = document.activeElement;
    if (active && live.contains(active) && active.tagName !== "BUTTON" && active.tagName !== "A") {
      return true;
    }
    var selection = window.getSelection();
    return Boolean(selection && !selection.isCollapsed && live.contains(selection.anchorNode));
  }

  function refresh() {
    if (document.hidden || busy()) { return Promise.resolve(); }
    return fetch(fragmentUrl(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403) {
          window.location.reload();  // logged out meanwhile: the page says where to go
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && !busy()) {
          live.innerHTML = html;
          live.setAttribute("data-refreshed-at", String(Date.now()));
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  // One request at a time: the next is planned when the last has answered.
  function tick() {
    refresh().then(function () { window.setTimeout(tick, seconds * 1000); });
  }
  window.setTimeout(tick, seconds * 1000);
})();
