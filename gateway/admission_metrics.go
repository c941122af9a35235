package gateway

import "github.com/prometheus/client_golang/prometheus"

// admissionMetrics show an operator why the front doors refuse messages
// as busy and what their bounds read.
type admissionMetrics struct {
	// refusals is porxgate_admission_refusals_total{transport,reason}.
	refusals *prometheus.CounterVec
	// queueWait is porxgate_inbox_wait_seconds, as the ebXML door last
	// read it (porxgate_gc_cpu_fraction is gcPressure's own).
	queueWait prometheus.Gauge
}

// newAdmissionMetrics registers the admission metrics on reg (reusing
// those another server registered already).
func newAdmissionMetrics(reg *prometheus.Registry) *admissionMetrics {
	m := &admissionMetrics{
		refusals: registerCounter(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_admission_refusals_total",
			Help: "Legacy messages the front doors refused with the retryable busy fault (TMS 200, 910010), by transport and reason: in_flight (--max-in-flight in hand), per_client (the sender held its share), queue_wait (the inbox workers more than --max-queue-wait behind), gc (the collector past --max-gc-cpu-percent of the CPU near the memory limit). in_flight and gc refusals are sent before the body is read. Each is also counted in porxgate_messages_received_total{outcome=\"busy\"}.",
		}, []string{"transport", "reason"})),
		queueWait: registerVec(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "porxgate_inbox_wait_seconds",
			Help: "How long the longest-waiting message ready for an inbox worker had waited, as the ebXML door last read it (at most every 100 ms while messages arrive, with --max-queue-wait set); past --max-queue-wait, new ebXML messages are refused as busy.",
		})),
	}
	// Each series from the start, at 0: an alert's rate over a series
	// that appears at the first refusal would miss that refusal.
	for _, t := range []Transport{TransportEbXML, TransportSOAP} {
		for _, reason := range []string{refusedInFlight, refusedPerClient, refusedGC} {
			m.refusals.WithLabelValues(string(t), reason)
		}
	}
	m.refusals.WithLabelValues(string(TransportEbXML), refusedQueueWait) // the ebXML door's alone
	return m
}
