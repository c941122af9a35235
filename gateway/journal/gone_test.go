package journal

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLateEventMakesNoFragmentOfAGoneExchange: an event that comes after
// its exchange was dropped by the retention (the size cap or the age) — a
// delivery retried for hours, a Subsequent Cancel Response days later, a
// shadow answer — is not written: it used to make a fragment of the
// exchange under its old id, with no request, no interaction, started at
// the late event, listed as the newest exchange ("No answer yet: the
// message is accepted and being worked on"). Written at once (an answer
// kept for its party), it is refused with ErrGone, so that its writer
// keeps it elsewhere. The request recorded again (the message processed
// once more) brings the exchange back.
func TestLateEventMakesNoFragmentOfAGoneExchange(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	body := incompressible(1000, 1)
	for name, b := range backendsAndCluster(t, Retention{MaxAge: time.Hour, MaxBytes: 3500}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i, id := range []string{"A", "B", "C", "D"} {
				if err := b.Apply(ctx, Event{Exchange: id, At: t0.Add(time.Duration(i) * time.Minute), Interaction: "PORX_IN020101UK31",
					Step: &Step{Kind: StepLegacyRequest, Body: body}}); err != nil {
					t.Fatal(err)
				}
			}
			if x, _ := b.Get(ctx, "A"); x != nil {
				t.Fatal("oldest exchange A kept past the size limit")
			}
			before, _ := b.Stats(ctx)
			late := t0.Add(10 * time.Minute)
			// Queued events (the writer's batches): a delivery given up on.
			left, err := b.ApplyAll(ctx, []Event{
				{Exchange: "A", At: late, Step: &Step{Kind: StepDelivery, Title: "answer moved to the dead letters"}},
				{Exchange: "A", At: late, Outcome: &Outcome{Result: OutcomeDeadLetter, Text: "the answer could not be delivered"}},
			})
			if err != nil || left != 2 {
				t.Fatalf("ApplyAll of two late events of A = %d, %v; want 2 left out", left, err)
			}
			if x, _ := b.Get(ctx, "A"); x != nil {
				t.Errorf("a late event made a fragment of evicted exchange A: %+v", x)
			}
			for _, q := range []Query{{}, {ID: "A"}, {Outcome: OutcomeDeadLetter}} {
				for _, s := range must(b.Search(ctx, q)) {
					if s.ID == "A" {
						t.Errorf("search %+v lists evicted exchange A: %+v", q, s)
					}
				}
			}
			if after, _ := b.Stats(ctx); after != before {
				t.Errorf("stats %+v after the late events, %+v before", after, before)
			}
			// Written at once (Journal.RecordNow): refused, and said so.
			err = b.Apply(ctx, Event{Exchange: "A", At: late, Step: &Step{Kind: StepDelivery, Title: "answer kept for P1", Body: "<x/>"}})
			if !errors.Is(err, ErrGone) {
				t.Errorf("Apply to evicted A = %v, want ErrGone", err)
			}
			if x, _ := b.Get(ctx, "A"); x != nil {
				t.Errorf("a late step made a fragment of evicted exchange A: %+v", x)
			}
			// Pruned by age alike.
			if err := b.Prune(ctx, t0.Add(time.Hour+150*time.Second)); err != nil {
				t.Fatal(err)
			}
			if left, err := b.ApplyAll(ctx, []Event{{Exchange: "B", At: late, Step: &Step{Kind: StepShadow, Title: "shadow answer"}}}); err != nil || left != 1 {
				t.Fatalf("ApplyAll of a late event of B = %d, %v; want 1 left out", left, err)
			}
			if x, _ := b.Get(ctx, "B"); x != nil {
				t.Errorf("a late event made a fragment of pruned exchange B: %+v", x)
			}
			// The request recorded again brings A back.
			if err := b.Apply(ctx, Event{Exchange: "A", At: late, Interaction: "PORX_IN020101UK31",
				Step: &Step{Kind: StepLegacyRequest, Body: "<again/>"}}); err != nil {
				t.Fatal(err)
			}
			if err := b.Apply(ctx, Event{Exchange: "A", At: late.Add(time.Second), Step: &Step{Kind: StepV3Answer, Body: "<ack/>"}}); err != nil {
				t.Fatal(err)
			}
			if x, _ := b.Get(ctx, "A"); x == nil || len(x.Steps) != 2 || x.Interaction != "PORX_IN020101UK31" {
				t.Errorf("exchange A processed again: %+v, want its request and answer", x)
			}
		})
	}
}

// must returns v, for a call whose error the test does not look at.
func must[T any](v T, _ error) T { return v }
