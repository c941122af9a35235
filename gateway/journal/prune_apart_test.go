package journal

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// slowPrune is a backend whose Prune waits until released (or its context
// ends): a prune with a long backlog.
type slowPrune struct {
	Backend
	entered chan struct{}
	release chan struct{}
	running atomic.Bool
}

func (s *slowPrune) Prune(ctx context.Context, now time.Time) error {
	s.running.Store(true)
	defer s.running.Store(false)
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return s.Backend.Prune(ctx, now)
}

// TestWriterWritesWhileThePruneRuns: the writer goes on writing while the
// retention's prune runs, and Run returns only when the prune has. The
// writer ran the prune itself: a long one (150,000 exchanges past the
// age, after the age was lowered or an outage, took 41 s in Redis on the
// busy development machine) wrote nothing meanwhile, and at 500 messages
// a second the queue filled within two seconds and the rest was dropped.
func TestWriterWritesWhileThePruneRuns(t *testing.T) {
	b := &slowPrune{Backend: NewMemory(Retention{}), entered: make(chan struct{}, 1), release: make(chan struct{})}
	j := New(b, Options{PruneEvery: 5 * time.Millisecond, BatchWait: -1})
	stop := startRun(t, j)
	select {
	case <-b.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no prune began")
	}
	j.Record(Event{Exchange: "DURING", Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := j.Wait(ctx); err != nil {
		t.Errorf("while the prune ran: %v", err)
	}
	if x, _ := b.Get(context.Background(), "DURING"); x == nil {
		t.Error("an event recorded while the prune ran was not written")
	}
	stop()
	if b.running.Load() {
		t.Error("Run returned with the prune still running")
	}
}
