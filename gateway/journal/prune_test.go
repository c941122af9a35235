package journal

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// TestPruneTakesEveryExchangePastItsAge: one pass of the retention takes
// every exchange that started more than MaxAge ago, however many. Redis
// took the oldest 1000 a pass (one pass every 30 s: 2000 a minute), so at
// a steadier flow past the age its sorted list, sizes and total kept the
// rest (their keys expired): the journal's counts (the admin page's
// exchanges and bytes) grew with them, the size cap counted them against
// the exchanges kept, and their late events, not remembered gone, made
// fragments of them.
func TestPruneTakesEveryExchangePastItsAge(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	for name, b := range backends(t, Retention{MaxAge: time.Hour}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const n = 2500
			evs := make([]Event, 0, n+1)
			for i := range n {
				evs = append(evs, Event{Exchange: "OLD" + strconv.Itoa(i), At: t0.Add(time.Duration(i) * time.Millisecond),
					Interaction: "PORX_IN020101UK31", IDs: IDs{ODSCodes: []string{"FA565"}}})
			}
			evs = append(evs, Event{Exchange: "NEW", At: t0.Add(90 * time.Minute), Interaction: "PORX_IN020101UK31"})
			applyInBatches(t, b, evs)
			if err := b.Prune(ctx, t0.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			st, err := b.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st.Exchanges != 1 {
				t.Errorf("after one pass of the retention the journal counts %d exchanges (%d bytes); want 1, the one within the hour", st.Exchanges, st.Bytes)
			}
		})
	}
}
