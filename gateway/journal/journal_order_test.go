package journal

import (
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
