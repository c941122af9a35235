package journal

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestCountersSayWhatHappened: porxgate_journal_recorded_total counts the
// events written, and porxgate_journal_dropped_total{reason} those that
// were not, by why. Late events of an exchange the retention dropped are
// left out by the backend (ErrGone): they were counted as recorded.
func TestCountersSayWhatHappened(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Second)
	body := incompressible(1000, 1)
	for name, b := range backends(t, Retention{MaxAge: time.Hour, MaxBytes: 2500}) {
		t.Run(name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			j := New(b, Options{Registry: reg, BatchWait: -1})
			run(t, j)
			for i, id := range []string{"A", "B", "C"} {
				j.Record(Event{Exchange: id, At: t0.Add(time.Duration(i) * time.Minute), Interaction: "PORX_IN020101UK31",
					Step: &Step{Kind: StepLegacyRequest, Body: body}})
				waitAll(t, j)
			}
			// A is gone (the size cap); two late events of it are left out.
			j.Record(Event{Exchange: "A", At: t0.Add(10 * time.Minute), Step: &Step{Kind: StepDelivery, Title: "late"}})
			j.Record(Event{Exchange: "A", At: t0.Add(10 * time.Minute), Outcome: &Outcome{Result: OutcomeDeadLetter}})
			waitAll(t, j)
			if x, _ := b.Get(t.Context(), "A"); x != nil {
				t.Fatalf("exchange A kept: %+v", x.Summary())
			}
			if got := counterValue(t, reg, "porxgate_journal_recorded_total", ""); got != 3 {
				t.Errorf("porxgate_journal_recorded_total = %v, want 3 (the three requests; the late events of A were not written)", got)
			}
			if got := counterValue(t, reg, "porxgate_journal_dropped_total", DropGone); got != 2 {
				t.Errorf("porxgate_journal_dropped_total{reason=%q} = %v, want 2", DropGone, got)
			}
			if got := j.Dropped(); got != 0 {
				t.Errorf("Dropped() = %d, want 0: the late events of an exchange no longer kept are no loss (the admin page's 'dropped')", got)
			}
		})
	}
}

// counterValue reads counter name from reg, the series of the given reason
// label ("" for a counter without labels); 0 when it has none.
func counterValue(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			got := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					got = l.GetValue()
				}
			}
			if got == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
