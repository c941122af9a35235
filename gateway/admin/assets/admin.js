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
  var armResend = function (btn) {
    btn.addEventListener("click", function () {
      // "this one" names the dead letter as listed (its id and when it was
      // given up on): one resent meanwhile and given up on again is not it.
      var body = btn.dataset.id ? { id: btn.dataset.id, at: btn.dataset.at || undefined } : { party: btn.dataset.party };
      var out = document.getElementById("resend-result");
      btn.disabled = true;
      fetch("/admin/deadletters/resend", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-Requested-With": "porxgate-admin" },
        body: JSON.stringify(body)
      }).then(function (r) {
        return r.text().then(function (t) { return { ok: r.ok, status: r.status, text: t }; });
      }).then(function (r) {
        if (out) {
          out.textContent = r.ok ? "resent: " + r.text :
            r.status === 409 ? "not resent: " + r.text : "resend refused (" + r.status + "): " + r.text;
        }
        if (r.ok) { setTimeout(function () { location.reload(); }, 1500); } else { btn.disabled = false; }
      }).catch(function (e) {
        if (out) { out.textContent = "resend failed: " + e; }
        btn.disabled = false;
      });
    });
  };
  Array.prototype.forEach.call(document.querySelectorAll("button.resend"), armResend);
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
    if (!m && t && !isNaN(Date.parse(t))) { // with an offset: in UTC, as the server shows it
      m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(new Date(t).toISOString());
    }
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
  // cell adds a cell of text to row tr, with class cls.
  var cell = function (tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  };
  // The rates table, as the server draws it: rows by interaction and
  // outcome, or why there are none.
  var outClass = function (o) {
    if (["accepted", "released", "cancelled", "match"].indexOf(o) >= 0) { return "ok"; }
    if (["pending", "in-progress", "incomplete", ""].indexOf(o) >= 0) { return "warn"; }
    return "bad";
  };
  var showRates = function (s, unknown) {
    var table = byId("rates");
    if (!table) { return; }
    var known = unknown.indexOf("rates") < 0;
    if (known) {
      set("rates-title", "Rates, " + (s.ratesSince ? "since " + ts(s.ratesSince) + " (the newest exchanges only)" : "last hour"));
      set("rates-at", ts(s.ratesAt));
      var counted = byId("rates-counted");
      if (counted) { counted.hidden = !s.ratesAt; }
    }
    while (table.rows.length > 1) { table.deleteRow(1); }
    (known ? s.rates || [] : []).forEach(function (r) {
      var tr = table.insertRow(-1);
      cell(tr, r.interaction);
      cell(tr, r.outcome, outClass(r.outcome));
      cell(tr, String(r.lastHour));
      cell(tr, Number(r.perMinute).toFixed(2));
    });
    if (table.rows.length === 1) {
      var td = cell(table.insertRow(-1), "");
      td.colSpan = 4;
      if (known) {
        td.textContent = "no exchanges in the last hour";
      } else {
        var b = document.createElement("span");
        b.className = "bad";
        b.id = "rates-unread";
        b.textContent = "not counted: the journal could not be read (see above)";
        td.appendChild(b);
      }
    }
  };
  // The dead-letter table, redrawn from the live state. The live state
  // gives each reason as a viewer sees it (it is not journalled): a row
  // the server drew keeps the reason it drew (the whole, for a reader).
  var showDeadLetters = function (s, unknown) {
    var table = byId("dead-letter-list");
    var section = byId("dead-letter-section");
    if (!table || !section) { return; }
    if (unknown.indexOf("deadLetters") >= 0) {
      set("dead-letters-note", "The list below is not refreshed: the dead letters could not be read (see above).");
      return;
    }
    var admin = table.dataset.admin === "1";
    var drawn = {};
    Array.prototype.forEach.call(table.querySelectorAll("tr[data-id]"), function (tr) {
      drawn[tr.dataset.id + "@" + tr.dataset.at] = tr.cells[5].textContent;
    });
    var partial = false;
    while (table.rows.length > 1) { table.deleteRow(1); }
    (s.deadLetters || []).forEach(function (d) {
      var tr = table.insertRow(-1);
      var at = String(Date.parse(d.at));
      tr.dataset.id = d.id;
      tr.dataset.at = at;
      cell(tr, ts(d.at));
      cell(tr, d.stage);
      cell(tr, d.messageId);
      cell(tr, d.interaction);
      cell(tr, d.party);
      var reason = drawn[d.id + "@" + at];
      if (reason === undefined) {
        reason = d.reason;
        partial = partial || table.dataset.reader === "1";
      }
      cell(tr, reason);
      if (admin) {
        var td = cell(tr, "");
        var one = document.createElement("button");
        one.className = "resend";
        one.dataset.id = d.id;
        one.dataset.at = d.at;
        one.textContent = "this one";
        var all = document.createElement("button");
        all.className = "resend";
        all.dataset.party = d.party;
        all.textContent = "all of " + d.party;
        td.appendChild(one);
        td.appendChild(document.createTextNode(" "));
        td.appendChild(all);
        armResend(one);
        armResend(all);
      }
    });
    var n = (s.deadLetters || []).length;
    section.hidden = n === 0;
    set("dead-letters-shown", n ? ", the newest " + n + " shown below" : "");
    set("dead-letters-note", partial ? "Dead letters listed since the page was drawn show their reason without the values it quotes; reload the page for the whole." : "");
  };
  var show = function (s) {
    var unknown = s.unknown || [];
    showRates(s, unknown);
    showDeadLetters(s, unknown);
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
