package journal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRedisIndexesHoldOnlyKeptExchanges: the search indexes hold the
// exchanges the journal keeps, not every exchange written within MaxAge.
// Dropping an exchange (past the size cap, or its age) left it in every
// index it was filed under: 5,000 exchanges written under a 100 KiB cap
// kept 142 exchanges but 20,434 Redis keys, the outcome index holding all
// 5,000 — so the journal's part of the gateway's Redis grew with the
// traffic of the last MaxAge (a week by default), whatever MaxBytes said,
// until Redis ran out of memory and the store refused messages.
func TestRedisIndexesHoldOnlyKeptExchanges(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour, MaxBytes: 100 << 10})
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-30 * time.Minute)
	const n = 2000
	for i := range n {
		id := fmt.Sprintf("M%05d", i)
		err := b.Apply(ctx, Event{Exchange: id, At: t0.Add(time.Duration(i) * time.Millisecond), Interaction: "PORX_IN020101UK31",
			IDs: IDs{MessageIDs: []string{id}, ConversationID: "C" + id, NHSNumbers: []string{fmt.Sprintf("99%08d", i)},
				ODSCodes: []string{"FA565"}, PrescriptionIDs: []string{"RX" + id}},
			Outcome: &Outcome{Result: "accepted"}, Step: &Step{Kind: StepLegacyRequest, Body: "<x/>"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	st, _ := b.Stats(ctx)
	if st.Exchanges >= n/2 {
		t.Fatalf("kept %d exchanges of %d: the size cap did not bind", st.Exchanges, n)
	}
	// What each kept exchange may have: its head, summary, steps, the
	// memberships of its indexes (one key per distinct id), and the
	// journal's own keys.
	keys, err := b.c.Keys(ctx, b.p+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if index, maxIndex := len(indexKeys(b, keys)), 5*st.Exchanges+3; index > maxIndex {
		t.Errorf("%d index keys for %d exchanges kept (at most %d expected)", index, st.Exchanges, maxIndex)
	}
	ixKey, err := b.indexKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{b.p + "ixo:accepted", b.p + "ixi:porx_in020101uk31", b.idIndex(ixKey, "FA565")} {
		if c, _ := b.c.ZCard(ctx, k).Result(); c != int64(st.Exchanges) {
			t.Errorf("index %s holds %d exchanges, %d kept", k, c, st.Exchanges)
		}
	}
	// The age alike.
	if err := b.Prune(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, _ = b.c.Keys(ctx, b.p+"*").Result()
	if keys = indexKeys(b, keys); len(keys) != 0 {
		t.Errorf("after every exchange went by age, %d index keys are left: %v", len(keys), keys[:min(len(keys), 10)])
	}
	got, err := b.Search(ctx, Query{ID: "FA565"})
	if err != nil || len(got) != 0 {
		t.Errorf("search after prune: %d, %v", len(got), err)
	}
}

// indexKeys returns the search index keys among keys.
func indexKeys(b *Redis, keys []string) []string {
	var out []string
	for _, k := range keys {
		for _, ix := range []string{"ixh:", "ixt:", "ixo:", "ixi:"} {
			if strings.HasPrefix(k, b.p+ix) {
				out = append(out, k)
			}
		}
	}
	return out
}
