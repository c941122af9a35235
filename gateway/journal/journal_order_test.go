package journal

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestStepsInTimeOrder: a step that reaches the backend late (queued while
// another was written at once) still takes its place by time.
func TestStepsInTimeOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var x Exchange
	for _, s := range []struct {
		kind string
		at   time.Duration
	}{{StepLegacyRequest, 0}, {StepFHIRRequest, 1}, {StepDelivery, 4}, {StepEPSAnswer, 2}, {StepV3Answer, 3}, {StepDelivery, 4}} {
		x.apply(Event{Exchange: "x", At: t0.Add(s.at * time.Millisecond), Step: &Step{Kind: s.kind}})
	}
	want := []string{StepLegacyRequest, StepFHIRRequest, StepEPSAnswer, StepV3Answer, StepDelivery, StepDelivery}
	for i, st := range x.Steps {
		if st.Kind != want[i] {
			t.Fatalf("steps %v, want %v", kinds(x.Steps), want)
		}
	}
}

func kinds(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Kind
	}
	return out
}

// TestBackendsListByStart: every backend lists exchanges newest first by
// when they started, whatever order their first events reached it in
// (inbox workers take messages in parallel, a backlog after an outage in
// any order, and an exchange's start is when its message was received),
// cuts the limit and the time range on that order, and drops the oldest
// started first when over its size. The memory journal listed by arrival.
func TestBackendsListByStart(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, ev := range []Event{{Exchange: "B", At: at(2000)}, {Exchange: "A", At: at(1000)}, {Exchange: "C", At: at(3000)}} {
				if err := b.Apply(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			check := func(q Query, want ...string) {
				t.Helper()
				got, err := b.Search(ctx, q)
				if err != nil || !slices.Equal(idsOf(got), want) {
					t.Errorf("Search(%+v) = %v, %v; want %v", q, idsOf(got), err, want)
				}
			}
			check(Query{}, "C", "B", "A")
			check(Query{Limit: 2}, "C", "B")
			check(Query{To: at(2500), Limit: 1}, "B")
			// C's message was received before the others: its start moves.
			if err := b.Apply(ctx, Event{Exchange: "C", At: at(500)}); err != nil {
				t.Fatal(err)
			}
			check(Query{}, "B", "A", "C")
			check(Query{Limit: 1}, "B")
		})
	}
}

// TestMemoryDropsTheOldestStartedFirst: over its size, the memory journal
// drops the exchange that started first, not the one that arrived first.
func TestMemoryDropsTheOldestStartedFirst(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	m := NewMemory(Retention{MaxBytes: 3500})
	body := strings.Repeat("x", 1000)
	for _, ev := range []struct {
		id string
		at time.Duration
	}{{"B", 2}, {"A", 1}, {"C", 3}} { // room for two
		if err := m.Apply(context.Background(), Event{Exchange: ev.id, At: t0.Add(ev.at * time.Second),
			Step: &Step{Kind: StepLegacyRequest, Body: body}}); err != nil {
			t.Fatal(err)
		}
	}
	if x, _ := m.Get(context.Background(), "A"); x != nil {
		t.Error("A, the first started, kept past the size limit")
	}
	if x, _ := m.Get(context.Background(), "B"); x == nil {
		t.Error("B dropped before A, which started before it")
	}
}

// TestSearchInProgressFindsTheUnanswered: the page shows an exchange with
// no outcome yet as "in progress" and offers outcome=in-progress; that
// search finds it, beside those waiting to be tried again, in every
// backend. It found only the latter: a message received and never
// answered (stuck, or lost in a crash) was not found by the search an
// operator makes for it.
func TestSearchInProgressFindsTheUnanswered(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	for name, b := range backends(t, Retention{}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, ev := range []Event{
				{Exchange: "NEW", At: t0.Add(3 * time.Second), Step: &Step{Kind: StepLegacyRequest}},
				{Exchange: "RETRY", At: t0.Add(2 * time.Second), Outcome: &Outcome{Result: "in-progress", Text: "EPS unavailable"}},
				{Exchange: "DONE", At: t0.Add(time.Second), Outcome: &Outcome{Result: "accepted"}},
			} {
				if err := b.Apply(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			got, err := b.Search(ctx, Query{Outcome: "in-progress"})
			if err != nil || !slices.Equal(idsOf(got), []string{"NEW", "RETRY"}) {
				t.Errorf("Search(in-progress) = %v, %v; want [NEW RETRY]", idsOf(got), err)
			}
		})
	}
}
