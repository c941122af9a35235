package cancels

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// hungTracker is an EPS tracker that never answers: each query waits until
// its caller gives up.
type hungTracker struct{ calls int }

func (h *hungTracker) TrackerGet(ctx context.Context, _ url.Values) (*upstream.Response, error) {
	h.calls++
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestPollerHungEPSBacksOffEveryPoll: with the EPS tracker hanging, every
// query runs to its time limit (half the lease). Each cancellation the
// poller asks about must then be rescheduled with backoff and its error
// recorded: none may lose its lease in the poller's hands and come back
// due at once, unpolled in the admin view's figures and polled again
// without backoff.
func TestPollerHungEPSBacksOffEveryPoll(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	cfg := Config{PollInterval: time.Second, Backoff: time.Hour, MaxBackoff: time.Hour, MaxAge: 24 * time.Hour, Rate: 1000, Lease: 2 * time.Second}
	tr := NewRedis(newClient(t, srv), "hung:", cfg.TrackerOptions())
	now := time.Now()
	const n = 4
	for i := range n {
		r := rec("P1", i, now.Add(-time.Minute))
		r.NextPoll = now.Add(-time.Second)
		if ok, err := tr.Track(ctx, r); err != nil || !ok {
			t.Fatalf("track %d: %v %v", i, ok, err)
		}
	}
	api := &hungTracker{}
	c := NewService(ServiceOptions{Tracker: tr, EPS: api, Config: cfg, Log: quietLog()})
	c.pollDue(ctx, newRateLimiter(cfg.Rate))

	recs, err := tr.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records tracked, want %d", len(recs), n)
	}
	unscheduled := 0
	for _, r := range recs {
		if r.Attempts != 1 || r.LastError == "" || r.NextPoll.Before(time.Now().Add(30*time.Minute)) {
			unscheduled++
			t.Logf("%s: attempts %d, lastError %q, next poll %s", r.Key(), r.Attempts, r.LastError, r.NextPoll.Format(time.RFC3339))
		}
	}
	if unscheduled > 0 {
		t.Errorf("%d of %d cancellations polled against a hung EPS were not rescheduled (%d queries)", unscheduled, n, api.calls)
	}
	// Nothing is due again before its backoff: a second round asks nothing.
	calls := api.calls
	c.pollDue(ctx, newRateLimiter(cfg.Rate))
	if api.calls != calls {
		t.Errorf("a second round right after asked the hung EPS %d more times", api.calls-calls)
	}
}
