package journal

import (
	"context"
	"testing"
	"time"
)

// TestMemorySearchLooksOnlyWithinItsTimeRange: a search of the memory
// journal bounded in time looks at the exchanges within its range, not at
// every one kept. It walked from the newest to the oldest whatever the
// range: the admin page's rates (the last hour, every 10 s while a page
// is open) and each "older ones" page looked at all of a journal of
// 200,000 exchanges to find a few.
func TestMemorySearchLooksOnlyWithinItsTimeRange(t *testing.T) {
	m := NewMemory(Retention{MaxAge: 24 * time.Hour})
	ctx := context.Background()
	now := time.Now().UTC()
	const n = 200000
	old := onePatient(n, now.Add(-3*time.Hour))
	recent := onePatient(10, now.Add(-10*time.Minute))
	for i := range recent {
		recent[i].Exchange = "R" + recent[i].Exchange
	}
	fillAndLookAtAll(t, m, append(old, recent...))
	for _, tc := range []struct {
		name string
		q    Query
		want int
	}{
		{"the last hour", Query{From: now.Add(-time.Hour), Limit: 5000}, 10},
		{"the oldest ten", Query{To: now.Add(-3 * time.Hour).Add(10 * time.Millisecond), Limit: 100}, 10},
		{"ten in between", Query{From: now.Add(-3 * time.Hour).Add(time.Minute), To: now.Add(-3 * time.Hour).Add(time.Minute + 10*time.Millisecond)}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []Summary
			var err error
			looked := workOf(m, func() { got, err = m.Search(ctx, tc.q) }).looked
			if err != nil || len(got) != tc.want {
				t.Fatalf("found %d, %v; want %d", len(got), err, tc.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Started.After(got[i-1].Started) {
					t.Fatalf("not newest first: %v after %v", got[i].Started, got[i-1].Started)
				}
			}
			if looked > 2*tc.want {
				t.Errorf("looked at %d exchanges of %d", looked, n+10)
			}
		})
	}
}
