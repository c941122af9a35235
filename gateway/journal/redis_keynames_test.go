package journal

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisKeyNamesHoldNoPatientIDs: the index of an exchange's ids is
// named by a keyed hash of each id, not the id: a key name (SCAN, KEYS,
// --bigkeys, the slowlog, a key-pattern exporter, a backup's key list)
// carried the patient's NHS number and the prescription id in clear
// (journal:ixt:9446041481). A search by the id still finds the exchange,
// from any replica (they share the key), and the index an older porxgate
// wrote (ixt:<id>) is read while it lasts.
func TestRedisKeyNamesHoldNoPatientIDs(t *testing.T) {
	b, _ := redisBackend(t, Retention{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	const nhs, rx = "9446041481", "A7B86F-A83008-5A6B2A"
	if err := b.Apply(ctx, Event{Exchange: "M1", At: now, Interaction: "PORX_IN020101UK31",
		IDs: IDs{MessageIDs: []string{"M1"}, NHSNumbers: []string{nhs}, PrescriptionIDs: []string{rx}, ODSCodes: []string{"FA565"}}}); err != nil {
		t.Fatal(err)
	}
	keys, err := b.c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for _, v := range []string{nhs, rx, "FA565"} {
			if strings.Contains(strings.ToLower(k), strings.ToLower(v)) {
				t.Errorf("key name %q holds %s in clear", k, v)
			}
		}
	}
	other := NewRedis(b.c, strings.TrimSuffix(b.p, "journal:"), Retention{}) // another replica
	for _, q := range []string{nhs, rx, strings.ToLower(rx), "fa565", "M1"} {
		for _, r := range []*Redis{b, other} {
			if got, err := r.Search(ctx, Query{ID: q}); err != nil || !slices.Equal(idsOf(got), []string{"M1"}) {
				t.Errorf("Search(%s) = %v, %v; want [M1]", q, idsOf(got), err)
			}
		}
	}
	// An index an older porxgate wrote (ixt:<id>, lower case) is read while it lasts.
	old := Summary{ID: "OLD", Started: now.Add(-time.Minute), IDs: IDs{NHSNumbers: []string{nhs}}}
	raw, err := marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.c.Set(ctx, b.p+"s:OLD", raw, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.c.ZAdd(ctx, b.p+"ixt:"+nhs, redis.Z{Score: float64(old.Started.UnixMilli()), Member: "OLD"}).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Search(ctx, Query{ID: nhs}); err != nil || !slices.Equal(idsOf(got), []string{"M1", "OLD"}) {
		t.Errorf("Search(%s) with an older index = %v, %v; want [M1 OLD]", nhs, idsOf(got), err)
	}
}
