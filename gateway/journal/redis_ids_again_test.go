package journal

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestRedisMergeIndexesNewIDsOnly checks that a step merged into an
// exchange costs no more for the ids the exchange has indexed already:
// each write named every id's index again (an HMAC, several allocations),
// though only new ids (or all, when the exchange's start moves) are
// indexed, so a step cost more the more ids its exchange had (a
// prescription's: message ids, X-Request-IDs, prescription id, NHS
// number, ODS codes). Measured as the allocations of merging a step that
// brings no id into exchanges of 2 and of 22 ids.
func TestRedisMergeIndexesNewIDsOnly(t *testing.T) {
	r, _ := redisBackend(t, Retention{MaxBytes: 1 << 40})
	ctx := context.Background()
	now := time.Now()
	allocs := map[int]float64{}
	for _, n := range []int{2, 22} {
		id := fmt.Sprintf("IDS%02d", n)
		ids := IDs{MessageIDs: []string{id}}
		for i := 1; i < n; i++ {
			ids.XRequestIDs = append(ids.XRequestIDs, fmt.Sprintf("X-%s-%02d", id, i))
		}
		if _, err := r.ApplyAll(ctx, []Event{{Exchange: id, At: now, Interaction: "PORX_IN020101UK31", IDs: ids,
			Step: &Step{Kind: StepLegacyRequest, Title: "request", Body: "<a/>"}}}); err != nil {
			t.Fatal(err)
		}
		step := 0
		allocs[n] = testing.AllocsPerRun(20, func() {
			step++
			if _, err := r.ApplyAll(ctx, []Event{{Exchange: id, At: now.Add(time.Duration(step) * time.Millisecond),
				Step: &Step{Kind: StepDelivery, Title: "delivered", Status: 202}}}); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Logf("allocations of a step merged: %.0f with 2 ids, %.0f with 22", allocs[2], allocs[22])
	// The head, read and written whole, still costs a little an id.
	if extra := allocs[22] - allocs[2]; extra > 3*20 {
		t.Errorf("%.0f allocations more for 20 more ids indexed already, want at most %d", extra, 3*20)
	}
}
