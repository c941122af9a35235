package cancels

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// heldTracker is an EPS tracker that does not answer: each query waits
// until its caller gives up; asked gets a value per query.
type heldTracker struct{ asked chan struct{} }

func (h *heldTracker) TrackerGet(ctx context.Context, _ url.Values) (*upstream.Response, error) {
	h.asked <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestPollerStopsWithAPollInHand: the poller stopped while the EPS
// tracker holds its query returns at once, and the cancellation it held
// is neither lost nor counted a failed poll: once its lease runs out, the
// next poller (another replica's) polls it and answers it.
func TestPollerStopsWithAPollInHand(t *testing.T) {
	held := &heldTracker{asked: make(chan struct{}, 1)}
	r := newPollerRig(t, held)
	r.clock.add(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.c.Run(ctx) }()
	select {
	case <-held.asked:
	case <-time.After(5 * time.Second):
		t.Fatal("the poller never asked the EPS tracker")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the poller still running 5s after the stop")
	}
	got, err := r.tr.Get(context.Background(), rxID, rxLineItem)
	if err != nil {
		t.Fatalf("the cancellation held at the stop is gone: %v", err)
	}
	if got.State != StatePending || got.Attempts != 0 {
		t.Errorf("after the stop: state %s attempts %d; want pending, no attempt counted", got.State, got.Attempts)
	}

	api := &cannedTracker{status: 200, body: cancelstest.Searchset(t, cancelstest.TrackerTask(rxID, "0006", "FCG71", "",
		map[string]string{strings.ToLower(rxLineItem): "0001"}))}
	next := NewService(ServiceOptions{Tracker: r.tr, EPS: api, Config: Config{PollInterval: time.Second, Backoff: time.Minute,
		MaxBackoff: time.Hour, MaxAge: 24 * time.Hour, Rate: 1000, Lease: 30 * time.Second}, Now: r.clock.now, Log: quietLog()})
	next.Attach(Outbox{Queue: r.st}, nil)
	next.pollDue(context.Background(), newRateLimiter(1000))
	if api.calls != 0 {
		t.Fatalf("polled while the stopped poller's lease still held it")
	}
	r.clock.add(31 * time.Second)
	next.pollDue(context.Background(), newRateLimiter(1000))
	if ds := r.outboxDeliveries(t); api.calls != 1 || len(ds) != 1 {
		t.Fatalf("after the lease: %d polls, %d deliveries; want 1, 1", api.calls, len(ds))
	}
}
