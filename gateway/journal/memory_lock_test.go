package journal

import (
	"context"
	"testing"
	"time"
)

// TestMemoryLongReadsLetTheWriterIn: a search or a prune of the memory
// journal does not keep its writer waiting for the whole journal. Each
// held the journal's one lock while it looked at every exchange kept
// (300,000 small ones, one patient's, fit in the default 256 MiB): a
// search for an id none has took 0.8–2.2 s, one by an outcome 0.3–0.5 s
// and every prune pass 0.2–0.5 s, and meanwhile the writer wrote nothing
// (its queue filling, events dropped) and an answer kept for its party
// (RecordNow, the delivery worker's) waited. What a read looks at in one
// hold of the lock is counted (readWork), not timed: a search looks at
// every exchange, at most 1,024 in a hold (well under a millisecond's
// look); a prune with nothing to prune looks at one.
func TestMemoryLongReadsLetTheWriterIn(t *testing.T) {
	m := NewMemory(Retention{MaxAge: time.Hour})
	ctx := context.Background()
	now := time.Now().UTC()
	const n = 200000
	fillAndLookAtAll(t, m, onePatient(n, now.Add(-30*time.Minute)))
	for _, tc := range []struct {
		name                  string
		read                  func() error
		wantLooked, mostAHold int
	}{
		{"search by an outcome none has", func() error { _, err := m.Search(ctx, Query{Outcome: "rejected"}); return err }, n, 1024},
		{"search by an id none has", func() error { _, err := m.Search(ctx, Query{ID: "no such id"}); return err }, 0, 1024},
		{"prune with nothing to prune", func() error { return m.Prune(ctx, now) }, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			w := workOf(m, func() { err = tc.read() })
			if err != nil {
				t.Fatal(err)
			}
			if w.looked != tc.wantLooked {
				t.Errorf("looked at %d exchanges of %d, want %d", w.looked, n, tc.wantLooked)
			}
			if w.longestHold > tc.mostAHold {
				t.Errorf("looked at %d exchanges in one hold of the lock (the writer waiting), want at most %d", w.longestHold, tc.mostAHold)
			}
		})
	}
}

// fillAndLookAtAll applies evs to m, then times the yardstick of the
// memory journal's tests: one search that looks at every exchange kept
// (an outcome none has; one by an id none has looks at none since the
// journal indexes its ids), alone.
func fillAndLookAtAll(tb testing.TB, m *Memory, evs []Event) time.Duration {
	tb.Helper()
	ctx := context.Background()
	for _, ev := range evs {
		if err := m.Apply(ctx, ev); err != nil {
			tb.Fatal(err)
		}
	}
	start := time.Now()
	if got, err := m.Search(ctx, Query{Outcome: "rejected"}); err != nil || len(got) != 0 {
		tb.Fatalf("search: %d found, %v", len(got), err)
	}
	return time.Since(start)
}

// workOf runs read on m and returns what it looked at under m's lock
// (readWork): what a read costs, counted, not timed.
func workOf(m *Memory, read func()) readWork {
	m.mu.Lock()
	m.work = readWork{}
	m.mu.Unlock()
	read()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.work
}
