package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// TestHold: one token at a time holds a key; its holder renews it, another
// cannot take, renew or drop it; once dropped or run out, another takes it.
func TestHold(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			h := s.(store.Holds)
			steps := []struct {
				what       string
				do         func() (bool, error)
				want       bool
				sleepAfter time.Duration
			}{
				{"a takes the free hold", func() (bool, error) { return h.HoldKey(ctx, "p", "a", time.Minute) }, true, 0},
				{"b cannot take a's", func() (bool, error) { return h.HoldKey(ctx, "p", "b", time.Minute) }, false, 0},
				{"a renews its own", func() (bool, error) { return h.HoldKey(ctx, "p", "a", time.Minute) }, true, 0},
				{"b's drop leaves a's", func() (bool, error) { return true, h.DropHold(ctx, "p", "b") }, true, 0},
				{"b still cannot take it", func() (bool, error) { return h.HoldKey(ctx, "p", "b", time.Minute) }, false, 0},
				{"a drops it", func() (bool, error) { return true, h.DropHold(ctx, "p", "a") }, true, 0},
				{"b takes it, briefly", func() (bool, error) { return h.HoldKey(ctx, "p", "b", 30*time.Millisecond) }, true, 80 * time.Millisecond},
				{"a takes it once b's ran out", func() (bool, error) { return h.HoldKey(ctx, "p", "a", time.Minute) }, true, 0},
				{"b, run out, cannot renew a's", func() (bool, error) { return h.HoldKey(ctx, "p", "b", time.Minute) }, false, 0},
				{"another key is free", func() (bool, error) { return h.HoldKey(ctx, "q", "b", time.Minute) }, true, 0},
			}
			for _, st := range steps {
				got, err := st.do()
				if err != nil || got != st.want {
					t.Fatalf("%s: %v, %v; want %v", st.what, got, err, st.want)
				}
				time.Sleep(st.sleepAfter)
			}
		})
	}
}
