// Live updates: when the server says cases, alerts or away modes changed,
// fetch this page again and swap in its main content. No other script runs.
(function () {
  "use strict";
  if (!document.body.dataset.live || !window.EventSource) return;
  var busy = false;
  function refresh() {
    if (busy) return;
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (next && main) main.innerHTML = next.innerHTML;
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var events = new EventSource("/events");
  events.addEventListener("change", refresh);
})();
