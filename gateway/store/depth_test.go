package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// queueWaiter is a store that says how far a queue's workers are behind.
type queueWaiter interface {
	QueueWait(ctx context.Context, queue string, now time.Time) (time.Duration, error)
}

// TestQueueWait: how long the item due earliest and not held under a
// lease has been due: 0 for an empty queue or one whose items are not due
// yet; an item held under a lease does not count until its lease runs
// out; a finished one not at all.
func TestQueueWait(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			qw, ok := s.(queueWaiter)
			if !ok {
				t.Fatalf("%T says nothing of how far behind its queues are", s)
			}
			const q = "waitq"
			wait := func(what string, now time.Time, want time.Duration) {
				t.Helper()
				got, err := qw.QueueWait(ctx, q, now)
				if err != nil || got != want {
					t.Fatalf("%s: wait %v (%v), want %v", what, got, err, want)
				}
			}
			wait("empty queue", t0, 0)
			if err := s.Enqueue(ctx, item(q, "a", "A", t0), item(q, "b", "B", t0.Add(time.Second)), item(q, "later", "L", t0.Add(time.Hour))); err != nil {
				t.Fatal(err)
			}
			wait("nothing due yet", t0.Add(-time.Second), 0)
			wait("a due 3s ago", t0.Add(3*time.Second), 3*time.Second)
			l := mustClaim(t, s, q, t0.Add(3*time.Second), 10*time.Second) // a, held until t0+13s
			wait("a held, b due 2s ago", t0.Add(3*time.Second), 2*time.Second)
			if err := s.Complete(ctx, l, store.Finish{}); err != nil {
				t.Fatal(err)
			}
			l = mustClaim(t, s, q, t0.Add(3*time.Second), 10*time.Second) // b, held until t0+13s
			wait("a done, b held", t0.Add(4*time.Second), 0)
			wait("b's lease run out 2s ago", t0.Add(15*time.Second), 2*time.Second)
			if err := s.Complete(ctx, l, store.Finish{}); err != nil {
				t.Fatal(err)
			}
			wait("only the later one left", t0.Add(time.Hour+time.Minute), time.Minute)
		})
	}
}
