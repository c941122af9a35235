package upstream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// TestHalfOpenLetsOneProbeThrough: with the breaker half-open and its one
// probe slow in flight, concurrent callers of the same operation fail fast
// with ErrBreakerOpen (nothing sent), another operation is not held back,
// and the probe's success closes the breaker.
func TestHalfOpenLetsOneProbeThrough(t *testing.T) {
	s, root := startSim(t, sim.Options{Faults: sim.Faults{Force5xx: -1, Ops: []string{"claim"}}})
	cfg := testConfig(root, nil)
	cfg.Retry.MaxAttempts = 1
	cfg.Breaker = BreakerConfig{ConsecutiveFailures: 1, Timeout: 50 * time.Millisecond, MaxRequestsHalfOpen: 1}
	c := newClient(t, cfg)
	ctx := context.Background()
	claim := []byte(`{"resourceType":"Claim"}`)
	if _, err := c.PostClaim(ctx, claim); !errors.Is(err, ErrRetriesExhausted) {
		t.Fatalf("first claim: %v", err)
	}
	if r, err := c.Metadata(ctx); err != nil || r.Status != 200 {
		t.Fatalf("metadata while the claim breaker is open: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for c.BreakerStates()[OpClaim] != "half-open" {
		if time.Now().After(deadline) {
			t.Fatal("breaker never went half-open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// EPS is back but slow: the probe stays in flight until released.
	s.SetFaults(sim.Faults{LatencyMs: 60_000, Ops: []string{"claim"}})
	sent := s.Stats().Requests["claim"]
	probeCtx, release := context.WithCancel(ctx)
	probeDone := make(chan error, 1)
	go func() { _, err := c.PostClaim(probeCtx, claim); probeDone <- err }()
	for s.Stats().Requests["claim"] == sent {
		if time.Now().After(deadline) {
			t.Fatal("the probe never reached EPS")
		}
		time.Sleep(5 * time.Millisecond)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); _, err := c.PostClaim(ctx, claim); errs <- err }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrBreakerOpen) {
			t.Fatalf("a call beside the probe: %v, want ErrBreakerOpen", err)
		}
	}
	if n := s.Stats().Requests["claim"]; n != sent+1 {
		t.Fatalf("%d claims reached EPS while half-open, want 1 (the probe)", n-sent)
	}
	// The probe given up by its caller says nothing of EPS: still half-open,
	// and the next probe, answered, closes the breaker.
	release()
	if err := <-probeDone; err == nil {
		t.Fatal("the released probe succeeded")
	}
	if st := c.BreakerStates()[OpClaim]; st != "half-open" {
		t.Fatalf("breaker %s after a probe its caller gave up, want half-open", st)
	}
	s.SetFaults(sim.Faults{})
	if _, err := c.PostClaim(ctx, claim); err != nil {
		t.Fatalf("probe after recovery: %v", err)
	}
	if st := c.BreakerStates()[OpClaim]; st != "closed" {
		t.Fatalf("breaker %s after a successful probe, want closed", st)
	}
}
