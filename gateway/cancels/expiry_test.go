package cancels

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestExpiryTakesALastLook: a cancellation is given up at its maximum age
// only after the EPS tracker was asked about it at or after that age. The
// backoff must not leave it unlooked-at for hours before it is given up: an
// item dispensed after the last poll but before the maximum age is
// answered (0004), not reported as expired unresolved with the prescriber
// told nothing. One still pending at the last look (or whose last look
// failed) is given up at the next sweep, as before.
func TestExpiryTakesALastLook(t *testing.T) {
	srv := redistest.Start(t)
	item := strings.ToLower(rxLineItem)
	withDispenser := cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0002", "FCG71", "", map[string]string{item: "0008"}))
	dispensed := cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0006", "FCG71", "", map[string]string{item: "0001"}))
	prefixes := 0 // one key prefix per subtest
	trackers := []struct {
		name string
		open func(Options, func() time.Time) Tracker
	}{
		{"memory", func(o Options, clock func() time.Time) Tracker { return NewMemory(o, clock) }},
		{"redis", func(o Options, _ func() time.Time) Tracker {
			prefixes++
			return NewRedis(newClient(t, srv), fmt.Sprintf("lastlook:%d:", prefixes), o)
		}},
	}
	cases := []struct {
		name string
		// at the last look, the EPS tracker answers status and body
		status      int
		body        []byte
		wantAnswer  bool
		wantExpired bool
	}{
		{"dispensed since the last poll", 200, dispensed, true, false},
		{"still with the dispenser", 200, withDispenser, false, true},
		{"EPS down at the last look", 503, []byte(`{}`), false, true},
	}
	for _, tk := range trackers {
		for _, tc := range cases {
			t.Run(tk.name+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				// First look after 40 minutes, then 80: past the one-hour maximum age.
				cfg := Config{PollInterval: time.Second, Backoff: 40 * time.Minute, MaxBackoff: 6 * time.Hour, MaxAge: time.Hour, Rate: 1000, Lease: 30 * time.Second}
				api := &cannedTracker{status: 200, body: withDispenser}
				r := newPollerRigOn(t, api, cfg, tk.open)
				lim := newRateLimiter(cfg.Rate)
				tick := func() { r.c.sweep(ctx); r.c.pollDue(ctx, lim) } // as Run does

				r.clock.add(40 * time.Minute)
				tick()
				if api.calls != 1 {
					t.Fatalf("%d polls at the first look, want 1", api.calls)
				}
				api.status, api.body = tc.status, tc.body
				r.clock.add(20 * time.Minute) // the maximum age
				tick()
				tick() // the sweep after the last look
				if api.calls != 2 {
					t.Errorf("%d polls by the maximum age, want 2 (a last look at it)", api.calls)
				}
				ds := r.outboxDeliveries(t)
				if got := len(ds) == 1 && strings.Contains(string(ds[0].Body), `code="0004"`); got != tc.wantAnswer || len(ds) > 1 {
					t.Errorf("%d Subsequent Cancel Responses (0004: %v); want an answer: %v", len(ds), got, tc.wantAnswer)
				}
				exp, err := r.tr.ListExpired(ctx, 10)
				if err != nil {
					t.Fatal(err)
				}
				if (len(exp) == 1) != tc.wantExpired || len(exp) > 1 {
					t.Errorf("%d expired, want expired: %v", len(exp), tc.wantExpired)
				}
				if _, err := r.tr.Get(ctx, rxID, rxLineItem); err == nil {
					t.Error("still tracked after its maximum age and last look")
				}
			})
		}
	}
}
