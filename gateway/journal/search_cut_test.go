package journal

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRedisSearchSaysWhenItLookedAtTooFew: a Redis search that stops at
// the exchanges it may look at (maxScan) before it found what it was
// asked for says so (ErrSearchCut, with what it found), as the memory
// journal, which looks at everything, finds them. It answered "nothing"
// as if nothing matched: a pharmacy's 5,100 exchanges, the oldest 50 of
// one interaction, searched by its ODS code and that interaction.
func TestRedisSearchSaysWhenItLookedAtTooFew(t *testing.T) {
	rb, _ := redisBackend(t, Retention{})
	mb := NewMemory(Retention{})
	now := time.Now().UTC().Truncate(time.Millisecond)
	evs := busyEvents(maxScan+100, time.Second, now)
	for i := range 50 {
		evs[i].Interaction = "PORX_IN090101UK31"
	}
	applyInBatches(t, rb, evs)
	applyInBatches(t, mb, evs)
	ctx := context.Background()
	q := Query{ID: "FA565", Interaction: "PORX_IN090101UK31"}
	want, err := mb.Search(ctx, q)
	if err != nil || len(want) != 50 {
		t.Fatalf("memory: %d, %v; want the 50", len(want), err)
	}
	got, err := rb.Search(ctx, q)
	if !errors.Is(err, ErrSearchCut) {
		t.Errorf("Redis: %d exchanges, err %v; want ErrSearchCut", len(got), err)
	}
	// A search that finds what it was asked for is not cut.
	q.Limit = 10
	q.Interaction = "PORX_IN080101SM31"
	if got, err := rb.Search(ctx, q); err != nil || len(got) != 10 {
		t.Errorf("Redis, a search that is met: %d, %v", len(got), err)
	}
}
