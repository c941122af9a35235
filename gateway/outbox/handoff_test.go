package outbox

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// runHandoffPool runs h's pool of n goroutines whose step never finds
// work, until the returned stop is called; it waits until all n are idle.
func runHandoffPool(t *testing.T, h *Handoff, n int, steps *atomic.Int64) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Loop(ctx, n, time.Hour, nil, time.Second, func(context.Context) bool {
			steps.Add(1)
			return false
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for int64(h.Idle()) < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d goroutines idle after 5 s", int64(h.Idle()), n)
		}
		time.Sleep(time.Millisecond)
	}
	return func() { cancel(); <-done }
}

// TestHandoff checks that work handed over runs on an idle goroutine of
// the pool without a look at the store, before or after it, that no more
// is reserved than there are idle goroutines, and that a reservation given
// back costs no look.
func TestHandoff(t *testing.T) {
	if (*Handoff)(nil).Reserve() {
		t.Fatal("a nil Handoff reserved")
	}
	ran := make(chan *store.Lease, 4)
	h := NewHandoff(2, func(_ context.Context, l *store.Lease, _ any) { ran <- l })
	if h.Reserve() {
		t.Fatal("reserved with no pool running")
	}
	var steps atomic.Int64
	stop := runHandoffPool(t, h, 2, &steps)
	defer stop()
	looks := steps.Load()

	if !h.Reserve() || !h.Reserve() {
		t.Fatal("could not reserve both idle goroutines")
	}
	if h.Reserve() {
		t.Fatal("reserved a third goroutine of a pool of two")
	}
	h.Give(&store.Lease{ID: "m1"})
	select {
	case l := <-ran:
		if l.ID != "m1" {
			t.Fatalf("ran %s, want m1", l.ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("work handed over did not run")
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.Idle() < 1 { // the goroutine that ran m1 waits again, the other is still reserved
		if time.Now().After(deadline) {
			t.Fatal("the goroutine that ran the handed work did not go back to waiting")
		}
		time.Sleep(time.Millisecond)
	}
	if got := steps.Load() - looks; got != 0 {
		t.Fatalf("%d looks at the store after work handed over, want none (it waits to be woken)", got)
	}
	h.Give(nil) // the second reservation given back: nothing to look for
	for h.Idle() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle after the give-back, want both", h.Idle())
		}
		time.Sleep(time.Millisecond)
	}
	if got := steps.Load() - looks; got != 0 {
		t.Fatalf("%d looks after a reservation given back to a waiting goroutine, want none", got)
	}
	select {
	case l := <-ran:
		t.Fatalf("ran %v for a reservation given back", l)
	default:
	}
}

// TestHandoffHonouredAtShutdown checks that work handed to a reserved
// goroutine as the pool stops still runs before the pool returns, and that
// nothing is reserved once it has.
func TestHandoffHonouredAtShutdown(t *testing.T) {
	var ran atomic.Int64
	h := NewHandoff(1, func(work context.Context, _ *store.Lease, _ any) {
		if work.Err() == nil {
			ran.Add(1)
		}
	})
	var steps atomic.Int64
	stop := runHandoffPool(t, h, 1, &steps)
	if !h.Reserve() {
		t.Fatal("could not reserve the idle goroutine")
	}
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	time.Sleep(10 * time.Millisecond) // the pool is stopping, its goroutine waiting for what it was promised
	select {
	case <-stopped:
		t.Fatal("the pool stopped before the reserved work was given")
	default:
	}
	h.Give(&store.Lease{ID: "late"})
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the pool did not stop after the reserved work was given")
	}
	if ran.Load() != 1 {
		t.Fatalf("work handed over at shutdown ran %d times with a live context, want once", ran.Load())
	}
	if h.Reserve() {
		t.Fatal("reserved a goroutine of a stopped pool")
	}
}

// TestHandoffWakeWhileReserved checks that a goroutine woken while it is
// reserved waits for what it was promised and then, whether given work or
// the reservation back, still looks at the store for what woke it.
func TestHandoffWakeWhileReserved(t *testing.T) {
	for _, give := range []*store.Lease{nil, {ID: "m1"}} {
		t.Run(fmt.Sprintf("given %v", give != nil), func(t *testing.T) { wakeWhileReserved(t, give) })
	}
}

func wakeWhileReserved(t *testing.T, give *store.Lease) {
	var ran atomic.Int64
	h := NewHandoff(1, func(context.Context, *store.Lease, any) { ran.Add(1) })
	wake := make(chan struct{}, 1)
	var steps atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Loop(ctx, 1, time.Hour, wake, time.Second, func(context.Context) bool {
			steps.Add(1)
			return false
		})
	}()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for h.Idle() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the goroutine never went idle")
		}
		time.Sleep(time.Millisecond)
	}
	if !h.Reserve() {
		t.Fatal("could not reserve the idle goroutine")
	}
	looks := steps.Load()
	wake <- struct{}{}
	time.Sleep(20 * time.Millisecond) // woken, it must wait for the reservation
	if got := steps.Load() - looks; got != 0 {
		t.Fatalf("%d looks before the reservation was settled, want none", got)
	}
	h.Give(give)
	for steps.Load() < looks+1 {
		if time.Now().After(deadline) {
			t.Fatal("woken while reserved, the goroutine did not look at the store after")
		}
		time.Sleep(time.Millisecond)
	}
	want := int64(0)
	if give != nil {
		want = 1
	}
	if ran.Load() != want {
		t.Errorf("ran %d times, want %d", ran.Load(), want)
	}
}
