package gateway

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/internal/chromium"
)

// switchUpstream is an upstream whose release breaker a test turns.
type switchUpstream struct {
	fakeUpstream
	breaker atomic.Value // string
}

// BreakerStates implements Upstream.
func (u *switchUpstream) BreakerStates() map[string]string {
	st, _ := u.breaker.Load().(string)
	return map[string]string{"release": st}
}

// pageWithin waits up to limit for cond, and fails the test saying what
// it waited for and what the page (body) says when cond does not hold.
func pageWithin(t *testing.T, body func() string, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v the page does not show %s; it says:\n%s", limit, what, body())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPageLiveStateTellsTheTruth: the admin page's refresh every 5 s
// updated the queue, cancellation, dead-letter and dropped counts and the
// "as of" time, but never the circuit breakers (a breaker that opened
// after the page was loaded showed "closed" under a fresh "as of"), nor
// the problems the gateway reported. With Redis down or hung, the state
// came back (after 7 s, or the request's whole 10 s for a hung Redis) with
// a dead-letter count of 0 and a fresh time: the page said "0" dead
// letters, and nothing about Redis. Now the page refreshes every card,
// shows "?" for a figure that could not be read with the reason, gives up
// on a poll after 4.5 s and says the figures are not refreshed, and the
// state takes at most 3 s to read.
func TestPageLiveStateTellsTheTruth(t *testing.T) {
	path := chromium.ForTest(t)
	srv, st := redisServerStore(t)
	deadLettersIn(t, st, 3)
	up := &switchUpstream{}
	up.breaker.Store("closed")
	g := &gw{srv: NewServer(testConfig(), st, up, quietLog(), NewMetrics())}
	base := g.adminBase(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := pageOpen(ctx, t, path, base)
	text := func(expr string) string {
		var s string
		_ = b.Eval(ctx, expr, &s)
		return s
	}
	card := func() string { return text(`document.getElementById("dead-letters").textContent`) }
	body := func() string { return text(`document.body ? document.body.innerText : ""`) }
	within := func(limit time.Duration, what string, cond func() bool) {
		t.Helper()
		pageWithin(t, body, limit, what, cond)
	}
	if c := card(); c != "3" {
		t.Fatalf("dead-letter card %q, want 3", c)
	}

	up.breaker.Store("open")
	within(15*time.Second, "the release breaker open", func() bool { return strings.Contains(body(), "release: open") })

	// A hung Redis: the page must not show a count it did not read.
	srv.Pause(t)
	within(20*time.Second, "that the live state was not read", func() bool {
		return card() != "3" || strings.Contains(body(), "Not refreshed")
	})
	if c := card(); c == "0" {
		t.Errorf("with Redis hung the dead-letter card says 0; the page says:\n%s", body())
	}
	srv.Resume()

	// Redis down: the state comes back, without the store's figures.
	srv.Kill(t)
	within(20*time.Second, "the dead-letter count unknown, and why", func() bool {
		return card() == "?" && strings.Contains(text(`document.getElementById("live-problems").textContent`), "dead letters:")
	})
	for _, id := range []string{"q-inbox", "q-outbox"} {
		if v := text(`document.getElementById("` + id + `").textContent`); v != "?" {
			t.Errorf("with Redis down %s says %q, want ?", id, v)
		}
	}
	if s := body(); strings.Contains(s, "Not refreshed") {
		t.Errorf("a poll answered says it was not refreshed:\n%s", s)
	}
}

// TestPageTablesFollowTheLiveState: the page's refresh every 5 s updated
// the figures but never its tables. Drawn while Redis hung, the page said
// the rates were "not counted" and listed no dead letter, and went on
// saying so after Redis answered again (the dead-letter card said 3 under
// a fresh "as of"); a dead letter added while it was open was counted but
// never listed. The rates and the dead letters are now redrawn from each
// poll (with an admin's resend buttons), and a list that could not be
// read is said to be not refreshed.
func TestPageTablesFollowTheLiveState(t *testing.T) {
	path := chromium.ForTest(t)
	srv, st := redisServerStore(t)
	deadLettersIn(t, st, 3)
	cfg := testConfig() // NoAuth: an admin
	cfg.Journal.Backend = "redis"
	j := OpenJournal(cfg, st, NewMetrics(), quietLog())
	g := &gw{srv: NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithJournal(j))}
	base := g.adminBase(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv.Pause(t)
	b := pageOpen(ctx, t, path, base)
	text := func(expr string) string {
		var s string
		_ = b.Eval(ctx, expr, &s)
		return s
	}
	count := func(selector string) int {
		var n int
		_ = b.Eval(ctx, `document.querySelectorAll("`+selector+`").length`, &n)
		return n
	}
	body := func() string { return text(`document.body ? document.body.innerText : ""`) }
	// listed is how many dead letters the table lists (its rows less the header).
	listed := func() int { return max(count("#dead-letter-list tr")-1, 0) }
	// rates is the rates table (the page's first): its rows, or why none.
	rates := func() string { return text(`(document.querySelector("table") || {}).innerText || ""`) }
	within := func(limit time.Duration, what string, cond func() bool) {
		t.Helper()
		pageWithin(t, body, limit, what, cond)
	}
	if n := listed(); n != 0 || !strings.Contains(rates(), "not counted") {
		t.Fatalf("drawn with Redis hung: %d dead letters listed, rates %q; want none listed and the rates not counted", n, rates())
	}

	srv.Resume()
	within(20*time.Second, "the dead letters and the rates once Redis answers", func() bool {
		return listed() == 3 && strings.Contains(rates(), "no exchanges in the last hour")
	})
	if n := count(`#dead-letter-list button.resend[data-id]`); n != 3 {
		t.Errorf("%d resend buttons for 3 dead letters redrawn for an admin, want 3", n)
	}
	if s := text(`document.getElementById("dead-letters-shown").textContent`); s != ", the newest 3 shown below" {
		t.Errorf("dead-letter card says %q after the refresh", s)
	}

	putDeadLetter(t, st, outbox.DeadLetter{At: time.Now(), Stage: outbox.StageProcessing, MessageID: "DL-LATER",
		Interaction: "PORX_IN020101SM31", Party: senderParty, Reason: "test"})
	within(20*time.Second, "the dead letter added while the page is open", func() bool {
		return listed() == 4 && strings.Contains(text(`document.getElementById("dead-letter-list").innerText`), "DL-LATER")
	})

	srv.Pause(t)
	within(20*time.Second, "that the dead letters are not refreshed", func() bool {
		return strings.Contains(text(`document.getElementById("dead-letters-note").textContent`), "not refreshed")
	})
	if n := listed(); n != 4 {
		t.Errorf("with Redis hung again the list went from 4 to %d rows; want it kept, said not refreshed", n)
	}
}
