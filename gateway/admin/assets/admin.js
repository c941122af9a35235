// porxgate admin page: sign-in from a URL fragment and live-state refresh.
(function () {
  "use strict";
  // Sign-in: /admin/ui/login#token=... posts the token (never sent in a URL).
  var form = document.getElementById("login");
  if (form && location.hash.indexOf("#token=") === 0) {
    form.elements.token.value = decodeURIComponent(location.hash.slice(7));
    history.replaceState(null, "", location.pathname + location.search);
    form.submit();
    return;
  }
  // Live state: refresh the numbers every 5 seconds.
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  setInterval(function () {
    fetch("/admin/api/state", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (!s) { return; }
      var set = function (id, v) { var e = document.getElementById(id); if (e) { e.textContent = v; } };
      set("q-inbox", s.queues ? s.queues.inbox : "?");
      set("q-outbox", s.queues ? s.queues.outbox : "?");
      set("pending-cancels", s.pendingCancellations);
      set("dead-letters", (s.deadLetters || []).length);
      set("journal-dropped", s.journalDropped);
      set("state-at", s.at);
    }).catch(function () {});
  }, 5000);
})();
