package upstream

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

// observed is one ObserveAttempt call.
type observed struct{ op, status string }

func observer() (func(op, status, party string, d time.Duration), func() []observed) {
	var mu sync.Mutex
	var got []observed
	return func(op, status, _ string, d time.Duration) {
			if d < 0 {
				panic("negative duration")
			}
			mu.Lock()
			got = append(got, observed{op, status})
			mu.Unlock()
		}, func() []observed {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(got)
		}
}

// TestObserveAttemptEveryAttempt checks that each attempt is reported once
// with its operation and outcome: status codes, network errors, and no
// report for calls an open breaker refused.
func TestObserveAttemptEveryAttempt(t *testing.T) {
	t.Run("retried 5xx", func(t *testing.T) {
		_, root := startSim(t, sim.Options{Faults: sim.Faults{Force5xx: -1}})
		cfg := testConfig(root, nil)
		obs, got := observer()
		cfg.ObserveAttempt = obs
		c := newClient(t, cfg)
		_, _ = c.PostClaim(context.Background(), []byte(`{"resourceType":"Claim"}`))
		want := []observed{{OpClaim, "503"}, {OpClaim, "503"}, {OpClaim, "503"}}
		if g := got(); !slices.Equal(g, want) {
			t.Fatalf("observed %v, want %v", g, want)
		}
	})
	t.Run("ok", func(t *testing.T) {
		_, root := startSim(t, sim.Options{})
		cfg := testConfig(root, nil)
		obs, got := observer()
		cfg.ObserveAttempt = obs
		c := newClient(t, cfg)
		if _, err := c.Metadata(context.Background()); err != nil {
			t.Fatal(err)
		}
		if g := got(); len(g) != 1 || g[0].status != "200" || g[0].op != OpMetadata {
			t.Fatalf("observed %v", g)
		}
	})
	t.Run("network error then breaker open", func(t *testing.T) {
		_, root := startSim(t, sim.Options{Faults: sim.Faults{Down: true}})
		cfg := testConfig(root, nil)
		cfg.Retry.MaxAttempts = 1
		cfg.Breaker.ConsecutiveFailures = 2
		cfg.Breaker.Timeout = time.Hour
		obs, got := observer()
		cfg.ObserveAttempt = obs
		c := newClient(t, cfg)
		for range 4 {
			_, _ = c.Metadata(context.Background())
		}
		want := []observed{{OpMetadata, AttemptError}, {OpMetadata, AttemptError}}
		if g := got(); !slices.Equal(g, want) {
			t.Fatalf("observed %v, want %v (nothing once the breaker is open)", g, want)
		}
	})
}
