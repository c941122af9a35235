package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/gateway/upstream"
	v3 "github.com/porxgate/porxgate/v3"
)

// retryingSim is the EPS simulator with a client that retries a failing
// call (up to 100 attempts, 50-100 ms apart) and whose breaker never
// opens for it.
func retryingSim(t *testing.T) (*sim.Server, *upstream.Client) {
	t.Helper()
	return startSimWith(t, sim.Options{}, upstream.Config{
		Retry:   upstream.RetryConfig{MaxAttempts: 100, BaseBackoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		Breaker: upstream.BreakerConfig{ConsecutiveFailures: 1000}})
}

// TestReleaseHoldRenewedThroughRetries: EPS fails a nominated release
// (503) for longer than the pharmacy's release hold lasts unrenewed, and
// the EPS client retries with backoff. The hold is renewed throughout:
// another release of the pharmacy, on another replica, waits for it
// (refused the hold) until EPS answers the first, which gets the
// prescription; the second gets nothing more.
func TestReleaseHoldRenewedThroughRetries(t *testing.T) {
	srv := redistest.Start(t)
	spy := &holdSpy{Redis: redisStoreOn(t, srv), busy: make(chan struct{}, 1)}
	s, client := retryingSim(t)
	// Renewed every third of the ttl, the hold lapses only if a renewal
	// is late by two thirds of it: 800 ms, so that a loaded machine (the
	// race detector, CI's parallel packages) does not lapse it falsely.
	const ttl = 1200 * time.Millisecond
	pA, pB := holdingProcessors(client, client, redisStoreOn(t, srv), spy, ttl)
	submitNominated(t, pA, "F5000000-0000-4000-8000-0000000000A8")
	request := nominatedReleaseFCG71(t)
	ctx := context.Background()

	s.SetFaults(sim.Faults{Force5xx: -1, Ops: []string{"release"}})
	type result struct {
		out *Outcome
		err error
	}
	doneA := make(chan result, 1)
	go func() {
		out, err := pA.Process(ctx, replayIn(v3.NominatedReleaseRequest, request))
		doneA <- result{out, err}
	}()
	time.Sleep(3 * ttl) // A retries past its hold's ttl
	doneB := make(chan result, 1)
	go func() {
		out, err := pB.Process(ctx, replayIn(v3.NominatedReleaseRequest, request))
		doneB <- result{out, err}
	}()
	select {
	case <-spy.busy: // B waits for A's hold
	case rb := <-doneB:
		t.Fatalf("release B ran while A's EPS call was being retried (the hold had lapsed): %+v", rb)
	}
	s.SetFaults(sim.Faults{})
	ra, rb := <-doneA, <-doneB
	if ra.err != nil || rb.err != nil {
		t.Fatalf("release A: %v; release B: %v", ra.err, rb.err)
	}
	if !strings.Contains(string(ra.out.Answers[0].Payload), rxID) || strings.Contains(string(rb.out.Answers[0].Payload), rxID) {
		t.Fatalf("%s in A's answer %v, in B's %v: want A's only", rxID,
			strings.Contains(string(ra.out.Answers[0].Payload), rxID), strings.Contains(string(rb.out.Answers[0].Payload), rxID))
	}
}

// TestReleaseHoldLostStopsRetries: EPS fails a nominated release (503)
// and the EPS client retries with backoff; meanwhile the replica is cut
// off from Redis past the pharmacy's hold's ttl, so the hold runs out and
// another replica's release of the pharmacy may take it. EPS then
// recovers. Before, the client's next retry released the prescription to
// the pharmacy under no hold (EPS held it with the pharmacy, the answer
// unrecordable with Redis cut off). Now no attempt starts once the hold
// is lost: the release waits to be tried again, and EPS still holds the
// prescription to be dispensed, for the pharmacy's next release, which
// gets it once.
func TestReleaseHoldLostStopsRetries(t *testing.T) {
	link, stA, stB := cutOffReplicas(t)
	s, client := retryingSim(t)
	const ttl = 600 * time.Millisecond
	pA, pB := holdingProcessors(client, client, stA, stB, ttl)
	submitNominated(t, pB, "F5000000-0000-4000-8000-0000000000A9")
	request := nominatedReleaseFCG71(t)
	ctx := context.Background()

	s.SetFaults(sim.Faults{Force5xx: -1, Ops: []string{"release"}})
	doneA := make(chan error, 1)
	a := replayIn(v3.NominatedReleaseRequest, request)
	go func() {
		_, err := pA.Process(ctx, a)
		doneA <- err
	}()
	time.Sleep(ttl / 2) // A's EPS call is being retried
	link.Cut()
	time.Sleep(2 * ttl) // A's hold runs out
	s.SetFaults(sim.Faults{})
	time.Sleep(ttl) // a retry, had one been made, reached EPS
	if rx, ok := s.State().Get(rxID); ok && rx.Dispenser != "" {
		t.Errorf("EPS released %s to %s after the releasing gateway's hold of the pharmacy was lost", rxID, rx.Dispenser)
	}
	link.Mend()
	select {
	case err := <-doneA:
		if err == nil || !IsDeferred(err) {
			t.Fatalf("release A whose hold was lost = %v, want deferred", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("release A never ended")
	}
	delivered := 0
	for _, p := range []*EPSProcessor{pB, pA} { // the pharmacy's next release, then A's tried again
		in := replayIn(v3.NominatedReleaseRequest, request)
		if p == pA {
			in = a
		}
		out, err := p.Process(ctx, in)
		if err != nil {
			t.Fatalf("release: %v", err)
		}
		if strings.Contains(string(out.Answers[0].Payload), rxID) {
			delivered++
		}
	}
	if delivered != 1 {
		t.Fatalf("%s delivered %d times, want once", rxID, delivered)
	}
}
