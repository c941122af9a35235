package outbox

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// flakyLeaser is a store whose first Extend calls fail as a store outage's
// would (not a lost lease).
type flakyLeaser struct {
	*store.Memory
	failures atomic.Int32 // Extend calls left to fail
}

func (f *flakyLeaser) Extend(ctx context.Context, l *store.Lease, until time.Time) error {
	if f.failures.Add(-1) >= 0 {
		return errors.New("redis: connection reset by peer")
	}
	return f.Memory.Extend(ctx, l, until)
}

// TestHoldOutlastsAStoreBlip: an extension that fails for a moment (a
// store failover, a dropped connection) does not end the holding; the next
// extension keeps the lease, so no other worker takes the item over while
// its holder still works on it. Before, Hold gave up at the first failed
// extension: the lease ran out mid-work and another worker claimed the
// item — a second delivery of the message, or the same inbound message
// processed twice at once.
func TestHoldOutlastsAStoreBlip(t *testing.T) {
	st := &flakyLeaser{Memory: store.NewMemory(nil)}
	ctx := context.Background()
	_ = st.Enqueue(ctx, store.Item{Queue: "q", ID: "1", Data: []byte("d"), Due: time.Now()})
	const lease = 90 * time.Millisecond
	l, err := st.Claim(ctx, "q", time.Now(), lease)
	if err != nil || l == nil {
		t.Fatal(l, err)
	}
	st.failures.Store(1)
	stop := Hold(ctx, st, l, lease, time.Now)
	time.Sleep(5 * lease)
	other, _ := st.Claim(ctx, "q", time.Now(), lease)
	stop()
	if other != nil {
		t.Fatal("claimed by another worker while held: the holding ended at the first failed extension")
	}
	if err := st.Complete(ctx, l, store.Finish{}); err != nil {
		t.Fatalf("Complete after holding: %v", err)
	}
}

// TestHoldStopsWhenTheLeaseIsLost: once the store says the lease is lost
// (another worker has the item), holding stops trying.
func TestHoldStopsWhenTheLeaseIsLost(t *testing.T) {
	st := store.NewMemory(nil)
	ctx := context.Background()
	_ = st.Enqueue(ctx, store.Item{Queue: "q", ID: "1", Data: []byte("d"), Due: time.Now()})
	const lease = 30 * time.Millisecond
	l, err := st.Claim(ctx, "q", time.Now(), lease)
	if err != nil || l == nil {
		t.Fatal(l, err)
	}
	counting := &countingLeaser{Leaser: st}
	lost := *l
	lost.Token = "someone-else"
	stop := Hold(ctx, counting, &lost, lease, time.Now)
	time.Sleep(10 * lease)
	stop()
	if n := counting.calls.Load(); n != 1 {
		t.Errorf("%d extensions of a lost lease, want 1 (then stop)", n)
	}
}

// countingLeaser counts Extend calls.
type countingLeaser struct {
	Leaser
	calls atomic.Int32
}

func (c *countingLeaser) Extend(ctx context.Context, l *store.Lease, until time.Time) error {
	c.calls.Add(1)
	return c.Leaser.Extend(ctx, l, until)
}

// TestHoldStartsNoGoroutine: every message is held twice (processed, then
// delivered), almost always for far less than a third of the lease, and
// each holding started a goroutine with a ticker and a context of its own
// (about 5 µs and 9 allocations). A holding is now a timer: a hundred
// leases held at once start no goroutine until an extension is due.
func TestHoldStartsNoGoroutine(t *testing.T) {
	ctx := context.Background()
	l := &store.Lease{Queue: "q", ID: "1", Token: "t"}
	before := runtime.NumGoroutine()
	var stops []func()
	for range 100 {
		stops = append(stops, Hold(ctx, &countingLeaser{}, l, time.Hour, time.Now))
	}
	during := runtime.NumGoroutine()
	for _, stop := range stops {
		stop()
	}
	if during-before >= 50 {
		t.Errorf("100 holdings started %d goroutines, want none", during-before)
	}
}
