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
  // Dead letters: an admin resends one, or every one of a party, through
  // POST /admin/deadletters/resend (each is queued again at most once).
  Array.prototype.forEach.call(document.querySelectorAll("button.resend"), function (btn) {
    btn.addEventListener("click", function () {
      var body = btn.dataset.id ? { id: btn.dataset.id } : { party: btn.dataset.party };
      var out = document.getElementById("resend-result");
      btn.disabled = true;
      fetch("/admin/deadletters/resend", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-Requested-With": "porxgate-admin" },
        body: JSON.stringify(body)
      }).then(function (r) {
        return r.text().then(function (t) { return { ok: r.ok, status: r.status, text: t }; });
      }).then(function (r) {
        if (out) { out.textContent = r.ok ? "resent: " + r.text : "resend refused (" + r.status + "): " + r.text; }
        if (r.ok) { setTimeout(function () { location.reload(); }, 1500); } else { btn.disabled = false; }
      }).catch(function (e) {
        if (out) { out.textContent = "resend failed: " + e; }
        btn.disabled = false;
      });
    });
  });
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
      set("dead-letters", s.deadLetterCount);
      set("journal-dropped", s.journalDropped);
      set("state-at", s.at);
    }).catch(function () {});
  }, 5000);
})();
