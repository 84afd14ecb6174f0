// Refreshes the page's live part (#live) every few seconds without reloading the page: the
// server renders it again alone for "?fragment=1". While the operator is choosing something in
// it (a checkbox ticked, a field typed in), it is left alone so that nothing they did is lost.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var seconds = Number(live.getAttribute("data-refresh-seconds")) || 5;
  var touchedAt = 0;
  live.addEventListener("input", function () { touchedAt = Date.now(); });
  live.addEventListener("change", function () { touchedAt = Date.now(); });

  function fragmentUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    return url.toString();
  }

  function busy() {
    if (Date.now() - touchedAt < 60000) { return true; }
    var active = document.activeElement;
    return active && live.contains(active) && active.tagName !== "BUTTON" && active.tagName !== "A";
  }

  function refresh() {
    if (document.hidden || busy()) { return; }
    fetch(fragmentUrl(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && !busy()) {
          live.innerHTML = html;
          live.setAttribute("data-refreshed-at", String(Date.now()));
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  window.setInterval(refresh, seconds * 1000);
})();
