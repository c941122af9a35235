package journal

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// countingBackend counts the writes that reach a backend.
type countingBackend struct {
	Backend
	writes atomic.Int64
}

func (c *countingBackend) ApplyAll(ctx context.Context, evs []Event) (int, error) {
	c.writes.Add(1)
	return c.Backend.ApplyAll(ctx, evs)
}

// TestWriterBatchesWithinTheWait: the events of one message, recorded a
// moment apart, reach the backend in one write (without the wait the idle
// writer would take each as it comes).
func TestWriterBatchesWithinTheWait(t *testing.T) {
	for _, tt := range []struct {
		name string
		wait time.Duration
		max  int64
	}{{"wait", 500 * time.Millisecond, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			b := &countingBackend{Backend: NewMemory(Retention{})}
			j := New(b, Options{BatchWait: tt.wait})
			run(t, j)
			for i := range 5 {
				j.Record(Event{Exchange: "x", Step: &Step{Kind: StepLegacyRequest}})
				if i < 4 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			waitAll(t, j)
			if n := b.writes.Load(); n < 1 || n > tt.max {
				t.Fatalf("%d writes for five events, want 1 to %d", n, tt.max)
			}
			if x, _ := b.Get(context.Background(), "x"); x == nil || len(x.Steps) != 5 {
				t.Fatalf("exchange %+v, want five steps", x)
			}
		})
	}
}
