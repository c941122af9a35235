package journal

import (
	"context"
	"testing"
	"time"
)

// TestMemoryAccessPastTheCapCostsAsBelowIt: recording an access in the
// memory journal once it holds MaxAccesses (100,000 by default) costs
// about what it did below the cap, and the journal keeps the newest
// MaxAccesses. Each access past the cap moved the 100,000 before it down
// one place, 5.3 ms under the journal's one lock (measured: 1,000 in
// 5.3 s): a tracker API answering 50 calls a second held the lock a
// quarter of the time, and the writer behind it fell behind and dropped
// events.
func TestMemoryAccessPastTheCapCostsAsBelowIt(t *testing.T) {
	m := NewMemory(Retention{})
	ctx := context.Background()
	n := 0
	add := func(count int, limit time.Duration) (per time.Duration) {
		start := time.Now()
		for i := range count {
			n++
			if err := m.AddAccess(ctx, Access{At: time.Now(), Door: "tracker-api", Who: "asid 200000000001", Method: "GET",
				What: "/mm/prescriptions?nhsNumber=9449304130&format=xml", Status: n}); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took > limit {
				return took / time.Duration(i+1)
			}
		}
		return time.Since(start) / time.Duration(count)
	}
	below := add(20000, time.Minute)
	add(DefaultMaxAccesses-20000, time.Minute)
	past := add(20000, 2*time.Second)
	t.Logf("an access below the cap: %v, past it: %v", below, past)
	if past > 20*below+time.Microsecond {
		t.Errorf("an access past the cap took %v, one below it %v", past, below)
	}
	got, err := m.Accesses(ctx, DefaultMaxAccesses+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != DefaultMaxAccesses || got[0].Status != n || got[len(got)-1].Status != n-DefaultMaxAccesses+1 {
		t.Errorf("kept %d accesses, newest %d, oldest %d; want %d, %d to %d", len(got), got[0].Status, got[len(got)-1].Status,
			DefaultMaxAccesses, n, n-DefaultMaxAccesses+1)
	}
}
