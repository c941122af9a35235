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
  // Live state: refresh the figures every 5 seconds, one poll at a time
  // (a poll not answered within 4.5 s is given up). A figure the gateway
  // could not read shows "?", with the problems it reports; a poll that
  // fails leaves the figures as they were and says since when.
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var byId = function (id) { return document.getElementById(id); };
  var set = function (id, v) { var e = byId(id); if (e) { e.textContent = v; } };
  var ts = function (t) { // as the server writes times: 2026-03-01 10:00:00.000Z
    var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(t || "");
    return m ? m[1].replace("T", " ") + ((m[2] || ".") + "000").slice(0, 4) + "Z" : t;
  };
  // lines draws "name: <b>value</b>" lines into element id, as the
  // server does: each line after a <br> (before), or followed by one.
  var lines = function (id, m, before, cls, none) {
    var e = byId(id);
    if (!e) { return; }
    e.textContent = "";
    var keys = Object.keys(m || {}).sort();
    if (!keys.length && none) { e.appendChild(document.createTextNode(none)); e.appendChild(document.createElement("br")); }
    keys.forEach(function (k) {
      if (before) { e.appendChild(document.createElement("br")); }
      e.appendChild(document.createTextNode(k + ": "));
      var b = document.createElement("b");
      b.className = cls(k, m[k]);
      b.textContent = m[k];
      e.appendChild(b);
      if (!before) { e.appendChild(document.createElement("br")); }
    });
  };
  var show = function (s) {
    var unknown = s.unknown || [];
    var fig = function (name, v) { return unknown.indexOf(name) >= 0 || v === undefined || v === null ? "?" : v; };
    set("q-inbox", fig("queues.inbox", (s.queues || {}).inbox));
    set("q-outbox", fig("queues.outbox", (s.queues || {}).outbox));
    set("pending-cancels", fig("pendingCancellations", s.pendingCancellations < 0 ? "not tracked" : s.pendingCancellations));
    set("dead-letters", fig("deadLetterCount", s.deadLetterCount));
    set("journal-exchanges", fig("journal", (s.journal || {}).exchanges));
    set("journal-bytes", fig("journal", (s.journal || {}).bytes));
    set("journal-dropped", s.journalDropped);
    lines("breakers", s.breakers, false, function (k, v) { return v === "closed" ? "ok" : "bad"; }, "none");
    lines("comparisons", s.comparisons, true, function (k) { return k === "match" ? "ok" : "bad"; }, "");
    set("state-at", ts(s.at));
    var p = byId("live-problems");
    if (p) {
      p.textContent = "";
      (s.problems || []).forEach(function (t) {
        var e = document.createElement("span");
        e.className = "bad";
        e.textContent = " " + t;
        p.appendChild(e);
      });
    }
  };
  var poll = function () {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, 4500) : null;
    fetch("/admin/api/state", { credentials: "same-origin", signal: ctl ? ctl.signal : undefined }).then(function (r) {
      if (r.ok) { return r.json(); }
      return r.text().then(function (t) { throw new Error("HTTP " + r.status + " " + t.slice(0, 200)); });
    }).then(function (s) {
      show(s);
      set("live-stale", "");
      live.classList.remove("stale");
    }).catch(function (e) {
      live.classList.add("stale");
      set("live-stale", "Not refreshed: the live state could not be read (" +
        (e && e.name === "AbortError" ? "no answer within 4.5 s" : String(e && e.message || e)) +
        "); the figures above are as of " + (byId("state-at") || {}).textContent + ".");
    }).then(function () {
      if (timer) { clearTimeout(timer); }
      setTimeout(poll, 5000);
    });
  };
  setTimeout(poll, 5000);
})();
