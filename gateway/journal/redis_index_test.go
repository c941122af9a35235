package journal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// processHook is a redis.Hook that passes each command through itself,
// with the rest of the chain as next (pipelines and dials go as they are).
type processHook func(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error

// DialHook implements redis.Hook.
func (h processHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements redis.Hook.
func (h processHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { return h(ctx, cmd, next) }
}

// ProcessPipelineHook implements redis.Hook.
func (h processHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// keyReads counts the keys MGET reads through a Redis client.
type keyReads struct{ n atomic.Int64 }

// process counts a command's keys if it is MGET (a processHook).
func (k *keyReads) process(ctx context.Context, cmd redis.Cmder, next redis.ProcessHook) error {
	if strings.EqualFold(cmd.Name(), "mget") {
		k.n.Add(int64(len(cmd.Args()) - 1))
	}
	return next(ctx, cmd)
}

// busyEvents are n exchanges, one every step up to now, all from one
// pharmacy (ODS code FA565), oldest first.
func busyEvents(n int, step time.Duration, now time.Time) []Event {
	evs := make([]Event, n)
	for i := range evs {
		id := fmt.Sprintf("M%05d", i)
		evs[i] = Event{Exchange: id, At: now.Add(-time.Duration(n-1-i) * step), Interaction: "PORX_IN080101SM31",
			IDs: IDs{MessageIDs: []string{id}, ODSCodes: []string{"FA565"}}}
	}
	return evs
}

// applyInBatches writes evs to b, up to 500 at a time.
func applyInBatches(t *testing.T, b Backend, evs []Event) {
	t.Helper()
	for len(evs) > 0 {
		n := min(len(evs), 500)
		if _, err := b.ApplyAll(context.Background(), evs[:n]); err != nil {
			t.Fatal(err)
		}
		evs = evs[n:]
	}
}

// TestRedisIndexKeepsOnlyRetainedExchanges: the index of an id every
// message carries (a busy pharmacy's ODS code) holds the exchanges the
// retention keeps, not every exchange ever written. It was a set whose
// expiry each new exchange put off: it grew for as long as the pharmacy
// kept sending, outside MaxBytes, and a search by that code read it whole.
func TestRedisIndexKeepsOnlyRetainedExchanges(t *testing.T) {
	b, _ := redisBackend(t, Retention{MaxAge: time.Hour})
	now := time.Now().UTC().Truncate(time.Millisecond)
	applyInBatches(t, b, busyEvents(40, 10*time.Minute, now)) // 6h40m of traffic, one hour kept
	ctx := context.Background()
	ixKey, err := b.indexKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := b.c.Keys(ctx, b.p+"ix*fa565").Result()
	keys = append(keys, b.idIndex(ixKey, "FA565"))
	if err != nil {
		t.Fatalf("index keys of FA565: %v, %v", keys, err)
	}
	members := int64(0)
	for _, k := range keys {
		typ, err := b.c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		switch typ {
		case "set":
			n, err = b.c.SCard(ctx, k).Result()
		case "zset":
			n, err = b.c.ZCard(ctx, k).Result()
		default:
			t.Fatalf("index key %s is a %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		members += n
	}
	if members > 7 {
		t.Errorf("the index of FA565 holds %d exchanges; the hour kept has 7", members)
	}
}

// TestRedisSearchByBusyIDReadsAPage: a search by an id thousands of kept
// exchanges carry reads a page of their summaries, not all of them, and
// answers as the memory backend does: the newest first, up to the limit,
// within the time range.
func TestRedisSearchByBusyIDReadsAPage(t *testing.T) {
	rb, _ := redisBackend(t, Retention{})
	reads := &keyReads{}
	rb.c.AddHook(processHook(reads.process))
	now := time.Now().UTC().Truncate(time.Millisecond)
	evs := busyEvents(3000, time.Second, now)
	mb := NewMemory(Retention{})
	applyInBatches(t, rb, evs)
	applyInBatches(t, mb, evs)
	ctx := context.Background()
	for _, q := range []Query{
		{ID: "fa565", Limit: 10},
		{ID: "FA565", Limit: 5, To: now.Add(-100 * time.Second)},
		{ID: "FA565", Limit: 3, From: now.Add(-2999 * time.Second), To: now.Add(-2997 * time.Second)},
		{ID: "M00042"},
	} {
		reads.n.Store(0)
		got, err := rb.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mb.Search(ctx, q)
		if !slices.Equal(idsOf(got), idsOf(want)) || len(got) == 0 {
			t.Errorf("Search(%+v) = %v, memory says %v", q, idsOf(got), idsOf(want))
		}
		if n := reads.n.Load(); n > 400 {
			t.Errorf("Search(%+v) read %d summaries for %d results", q, n, len(got))
		}
	}
}

// idsOf lists the summaries' ids.
func idsOf(l []Summary) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = s.ID
	}
	return out
}

// TestRedisSearchReadsAnOlderIndex: exchanges an older porxgate indexed
// (a set ix:<v>) are still found by that id beside those indexed now,
// newest first.
func TestRedisSearchReadsAnOlderIndex(t *testing.T) {
	b, _ := redisBackend(t, Retention{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := Summary{ID: "OLD", Started: now.Add(-time.Minute), IDs: IDs{ODSCodes: []string{"FA565"}}}
	raw, err := marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.c.Set(ctx, b.p+"s:OLD", raw, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.c.SAdd(ctx, b.p+"ix:fa565", "OLD", "GONE").Err(); err != nil {
		t.Fatal(err)
	}
	applyInBatches(t, b, busyEvents(2, time.Minute, now.Add(time.Minute)))
	got, err := b.Search(ctx, Query{ID: "FA565"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"M00001", "M00000", "OLD"}; !slices.Equal(idsOf(got), want) {
		t.Errorf("Search = %v, want %v", idsOf(got), want)
	}
	if got, _ := b.Search(ctx, Query{ID: "FA565", Limit: 1}); !slices.Equal(idsOf(got), []string{"M00001"}) {
		t.Errorf("Search limit 1 = %v, want [M00001]", idsOf(got))
	}
}

// TestSearchTimeRangeWithinAMillisecond: an exchange that started before
// To, within To's millisecond, is in range in every backend (Redis scores
// starts in whole milliseconds; it left such an exchange out).
func TestSearchTimeRangeWithinAMillisecond(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.Apply(ctx, Event{Exchange: "M1", At: t0.Add(300 * time.Microsecond), IDs: IDs{ODSCodes: []string{"FA565"}}}); err != nil {
				t.Fatal(err)
			}
			for _, q := range []Query{{To: t0.Add(500 * time.Microsecond)}, {ID: "FA565", To: t0.Add(500 * time.Microsecond)},
				{From: t0.Add(200 * time.Microsecond), To: t0.Add(301 * time.Microsecond)}} {
				if got, err := b.Search(ctx, q); err != nil || !slices.Equal(idsOf(got), []string{"M1"}) {
					t.Errorf("Search(%+v) = %v, %v; want [M1]", q, idsOf(got), err)
				}
			}
			if got, _ := b.Search(ctx, Query{To: t0.Add(300 * time.Microsecond)}); len(got) != 0 {
				t.Errorf("To is exclusive: got %v", idsOf(got))
			}
		})
	}
}

// TestSearchByOutcomeOrInteractionReachesOlderExchanges: a search by
// outcome or interaction finds the matching exchanges however many newer
// ones there are, in every backend. Redis looked only at the newest 5000
// exchanges: the week's dead letters behind a busy day were not found, and
// the memory journal answered the same search with them.
func TestSearchByOutcomeOrInteractionReachesOlderExchanges(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	var evs []Event
	for i := range 3 { // three dead letters, two hours ago
		id := fmt.Sprintf("DL%d", i)
		evs = append(evs, Event{Exchange: id, At: now.Add(-2*time.Hour + time.Duration(i)*time.Second), Interaction: "PORX_IN080101SM31",
			Outcome: &Outcome{Result: OutcomeDeadLetter}})
	}
	busy := busyEvents(6000, 100*time.Millisecond, now) // ten minutes of accepted prescriptions
	for i := range busy {
		busy[i].Interaction, busy[i].Outcome = "PORX_IN020101SM31", &Outcome{Result: "accepted"}
	}
	evs = append(evs, busy...)
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			applyInBatches(t, b, evs)
			ctx := context.Background()
			for _, q := range []Query{{Outcome: "dead-letter"}, {Interaction: "porx_in080101sm31"}, {Outcome: "DEAD-LETTER", Limit: 2},
				{Outcome: "dead-letter", To: now.Add(-2*time.Hour + 1500*time.Millisecond)}} {
				got, err := b.Search(ctx, q)
				want := []string{"DL2", "DL1", "DL0"}
				switch {
				case q.Limit == 2:
					want = want[:2]
				case !q.To.IsZero():
					want = want[1:]
				}
				if err != nil || !slices.Equal(idsOf(got), want) {
					t.Errorf("Search(%+v) = %v, %v; want %v", q, idsOf(got), err, want)
				}
			}
			// An outcome that changes leaves the old one's index.
			if err := b.Apply(ctx, Event{Exchange: "DL1", At: now, Outcome: &Outcome{Result: "accepted"}}); err != nil {
				t.Fatal(err)
			}
			if got, _ := b.Search(ctx, Query{Outcome: "dead-letter"}); !slices.Equal(idsOf(got), []string{"DL2", "DL0"}) {
				t.Errorf("after DL1 was delivered: %v, want [DL2 DL0]", idsOf(got))
			}
		})
	}
}

// TestRedisSearchByOutcomeReadsUnfiledExchanges: exchanges an older
// porxgate wrote (in no outcome or interaction index) are still found by
// outcome and interaction, beside those filed since.
func TestRedisSearchByOutcomeReadsUnfiledExchanges(t *testing.T) {
	b, _ := redisBackend(t, Retention{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := busyEvents(3, time.Second, now.Add(-time.Hour))
	for i := range old {
		old[i].Outcome = &Outcome{Result: OutcomeDeadLetter}
	}
	applyInBatches(t, b, old)
	// As an older porxgate left them: in no such index, none kept since.
	keys, _ := b.c.Keys(ctx, b.p+"ix[oi]:*").Result()
	if err := b.c.Del(ctx, append(keys, b.p+"ixsince")...).Err(); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Search(ctx, Query{Outcome: "dead-letter", Limit: 2}); !slices.Equal(idsOf(got), []string{"M00002", "M00001"}) {
		t.Errorf("before anything is filed: %v", idsOf(got))
	}
	applyInBatches(t, b, []Event{{Exchange: "NEW", At: now, Interaction: "PORX_IN080101SM31", Outcome: &Outcome{Result: OutcomeDeadLetter}}})
	for _, q := range []Query{{Outcome: "dead-letter"}, {Interaction: "PORX_IN080101SM31"}} {
		if got, _ := b.Search(ctx, q); !slices.Equal(idsOf(got), []string{"NEW", "M00002", "M00001", "M00000"}) {
			t.Errorf("Search(%+v) = %v, want NEW then the three unfiled", q, idsOf(got))
		}
	}
}
