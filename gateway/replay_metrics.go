package gateway

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Where a replay's answer came from (porxgate_replays_total's source label).
const (
	// replayRecorded: EPS's recorded answer, without calling EPS again.
	replayRecorded = "recorded"
	// replayConfirmed: EPS refused the repeat and the tracker confirmed
	// the first sending had taken effect; answered as it was.
	replayConfirmed = "confirmed"
	// replayRefused: EPS refused the repeat and the tracker did not show
	// the first sending's effect: EPS's refusal is the answer.
	replayRefused = "refused"
)

// Results of a release recovery run (porxgate_release_recoveries_total).
const (
	recoveryRecovered = "recovered" // prescriptions released again and merged
	recoveryNone      = "none"      // nothing of this dispenser's to recover
	recoveryFailed    = "failed"    // the index, the tracker or a re-release failed
)

// replayMetrics counts replays and release recoveries.
type replayMetrics struct {
	replays    *prometheus.CounterVec
	recoveries *prometheus.CounterVec
}

// newReplayMetrics returns the (unregistered) replay counters.
func newReplayMetrics() replayMetrics {
	return replayMetrics{
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_replays_total",
			Help: "Messages processed again after an earlier attempt, by interaction and where the answer came from: recorded (EPS's recorded answer), confirmed (EPS refused the repeat, the tracker showed the first sending applied), refused (EPS's refusal stood).",
		}, []string{"interaction", "source"}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_release_recoveries_total",
			Help: "Nominated releases whose earlier answer may have been lost, by result: recovered (prescriptions released again to the same dispenser and delivered), none (nothing to recover), failed (the nomination index or a re-release failed).",
		}, []string{"result"}),
	}
}

// register registers the counters on reg.
func (m replayMetrics) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.replays, m.recoveries} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register replay counters: %w", err)
		}
	}
	return nil
}

// countReplay counts one replay of interaction canon answered from source.
func (p *EPSProcessor) countReplay(canon, source string) {
	p.metrics.replays.WithLabelValues(canon, source).Inc()
}

// countRecovery counts one release recovery run with its result.
func (p *EPSProcessor) countRecovery(result string) {
	p.metrics.recoveries.WithLabelValues(result).Inc()
}
