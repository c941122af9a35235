package journal

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// stepBody has what JSON would escape and the newline the list's format
// puts after a step's JSON.
const stepBody = "<a>\n &amp; \"x\" {}\n</a>"

// TestBackendsKeepStepsInTimeOrder writes an exchange's steps one event
// at a time, one arriving late, and reads them back in time order with the
// right count in the summary, from every backend (Redis appends each step
// to a list and orders them when read).
func TestBackendsKeepStepsInTimeOrder(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second) // see TestJournalRecordsAndSearches
	order := []struct {
		kind string
		at   time.Duration
	}{{StepLegacyRequest, 0}, {StepFHIRRequest, 1}, {StepDelivery, 4}, {StepEPSAnswer, 2}, {StepV3Answer, 3}, {StepDelivery, 4}}
	want := []string{StepLegacyRequest, StepFHIRRequest, StepEPSAnswer, StepV3Answer, StepDelivery, StepDelivery}
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, s := range order {
				if err := b.Apply(ctx, Event{Exchange: "x", At: t0.Add(s.at * time.Millisecond),
					Step: &Step{Kind: s.kind, Body: stepBody}}); err != nil {
					t.Fatal(err)
				}
			}
			x, err := b.Get(ctx, "x")
			if err != nil || x == nil {
				t.Fatalf("Get: %v, %v", x, err)
			}
			if got := kinds(x.Steps); len(got) != len(want) {
				t.Fatalf("steps %v, want %v", got, want)
			}
			for i, st := range x.Steps {
				if st.Kind != want[i] || st.Body != stepBody {
					t.Fatalf("steps %v (body %q), want %v", kinds(x.Steps), st.Body, want)
				}
			}
			sums, err := b.Search(ctx, Query{ID: "x"})
			if err != nil || len(sums) != 1 || sums[0].Steps != len(want) {
				t.Fatalf("summaries %+v (%v), want one with %d steps", sums, err, len(want))
			}
		})
	}
}

// TestRedisReadsInlineSteps: an exchange written before steps had their
// own list (its steps inside the head) is still read whole, and takes new
// steps beside the old.
func TestRedisReadsInlineSteps(t *testing.T) {
	srv := redistest.Start(t)
	rs, err := store.NewRedis(srv.URL(), "test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	b := NewRedis(rs.Client(), rs.Prefix(), Retention{})
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	old := Exchange{ID: "old", Started: t0, Updated: t0, Steps: []Step{{At: t0, Kind: StepLegacyRequest, Body: "<x/>"}}}
	raw, _ := json.Marshal(old)
	if err := rs.Client().Set(ctx, b.p+"x:old", raw, time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx, Event{Exchange: "old", At: t0.Add(time.Millisecond), Step: &Step{Kind: StepV3Answer}}); err != nil {
		t.Fatal(err)
	}
	x, err := b.Get(ctx, "old")
	if err != nil || x == nil {
		t.Fatalf("Get: %v, %v", x, err)
	}
	if got := kinds(x.Steps); len(got) != 2 || got[0] != StepLegacyRequest || got[1] != StepV3Answer || x.Steps[0].Body != "<x/>" {
		t.Fatalf("steps %v, want the inline legacy request then the new answer", got)
	}
}

// TestRedisConcurrentMergesLoseNothing: writers (the queue's writer and
// RecordNow, sharing a backend; other replicas, each its own) merge into
// one exchange at once, each starting with a legacy request; every merge
// is in its head (each event's message id, the count of steps) as well as
// its list: a head that changed since a writer read or wrote it is merged
// into afresh, never overwritten.
func TestRedisConcurrentMergesLoseNothing(t *testing.T) {
	b, _ := redisBackend(t, Retention{})
	const writers, each = 4, 30
	t0 := time.Now().UTC()
	errs := make(chan error, writers)
	for w := range writers {
		wb := b
		if w%2 == 1 {
			wb = NewRedis(b.c, strings.TrimSuffix(b.p, "journal:"), Retention{})
		}
		go func() {
			for i := range each {
				id := "M" + strconv.Itoa(w*each+i)
				kind := StepDelivery
				if i == 0 {
					kind = StepLegacyRequest
				}
				if err := wb.Apply(context.Background(), Event{Exchange: "x", At: t0.Add(time.Duration(i) * time.Millisecond),
					IDs: IDs{MessageIDs: []string{id}}, Step: &Step{Kind: kind}}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	x, err := b.Get(context.Background(), "x")
	if err != nil || x == nil {
		t.Fatalf("Get: %v, %v", x, err)
	}
	if len(x.Steps) != writers*each || len(x.IDs.MessageIDs) != writers*each {
		t.Fatalf("%d steps, %d message ids, want %d of each", len(x.Steps), len(x.IDs.MessageIDs), writers*each)
	}
	sums, err := b.Search(context.Background(), Query{ID: "M0"})
	if err != nil || len(sums) != 1 || sums[0].Steps != writers*each {
		t.Fatalf("summary %+v, %v; want %d steps", sums, err, writers*each)
	}
}
