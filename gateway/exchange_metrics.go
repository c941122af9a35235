package gateway

import (
	"context"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// Business outcomes of an exchange (porxgate_exchanges_total's outcome
// label) besides the acknowledgement type codes AA, AE and AR.
const (
	// OutcomeRefused is a message refused with an ebXML MessageError or a
	// SOAP fault.
	OutcomeRefused = "refused"
	// OutcomeAnswered is an exchange whose answers carry no acknowledgement
	// type code.
	OutcomeAnswered = "answered"
	// OutcomeNoAnswer is an exchange that needed no answer.
	OutcomeNoAnswer = "no_answer"
	// OutcomeDeadLetter is a message that could not be processed and went
	// to the dead letters.
	OutcomeDeadLetter = "dead_letter"
	// OutcomeFailed is a SOAP request that failed permanently (the caller
	// got a fault built by the gateway, not by the mapping).
	OutcomeFailed = "failed"
	// OutcomeUnavailable is a SOAP request answered with a retryable fault
	// (EPS unavailable and the like): the sender sends it again.
	OutcomeUnavailable = "unavailable"
)

// newExchangeCounter registers porxgate_exchanges_total on reg (or returns
// the one registered already).
func newExchangeCounter(reg *prometheus.Registry) *prometheus.CounterVec {
	return registerCounter(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porxgate_exchanges_total",
		Help: "Legacy exchanges finished, by interaction as sent and business outcome: AA, AE, AR (the answer's acknowledgement type), refused, answered, no_answer, dead_letter, failed, unavailable (a SOAP request answered with a retryable fault).",
	}, []string{"interaction", "outcome"}))
}

// newExchangeLatency registers porxgate_exchange_duration_seconds on reg
// (or returns the one registered already).
func newExchangeLatency(reg *prometheus.Registry) *prometheus.HistogramVec {
	return registerVec(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "porxgate_exchange_duration_seconds",
		Help: "Time from a legacy message's acceptance at the front door to the end of its exchange (its answers queued, its dead letter written, or the SOAP answer sent), by interaction as sent: what a sender waits, time waiting in the inbox included.",
		// From a SOAP answer to an ebXML message that waited out an EPS outage.
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600},
	}, []string{"interaction"}))
}

// exchange counts one finished exchange of a message the front door
// accepted at receivedAt (zero: not known), finished at now.
func (m *msgMetrics) exchange(interaction, outcome string, receivedAt, now time.Time) {
	if m.exchanges != nil {
		m.exchanges.WithLabelValues(interaction, outcome).Inc()
	}
	if m.latency != nil && !receivedAt.IsZero() {
		m.latency.WithLabelValues(interaction).Observe(max(now.Sub(receivedAt), 0).Seconds())
	}
}

// ackTypeCodeRE finds the first HL7 v3 acknowledgement's typeCode.
var ackTypeCodeRE = regexp.MustCompile(`<(?:[A-Za-z][\w.-]*:)?acknowledgement\b[^>]*?\stypeCode\s*=\s*["'](A[AER])["']`)

// exchangeOutcome names the business outcome of a processed message: a
// refusal, else the acknowledgement type code of the first answer that
// carries one (the reply first), else whether anything was answered.
func exchangeOutcome(out *Outcome) string {
	if out == nil {
		return OutcomeNoAnswer
	}
	if out.MessageError != nil || out.Fault != nil {
		return OutcomeRefused
	}
	answers := out.Answers
	if out.Reply != nil {
		answers = append([]Answer{*out.Reply}, answers...)
	}
	for _, a := range answers {
		if m := ackTypeCodeRE.FindSubmatch(a.Payload); m != nil {
			return string(m[1])
		}
	}
	if len(answers) > 0 {
		return OutcomeAnswered
	}
	return OutcomeNoAnswer
}

// deadLetterCounter is implemented by stores that can count their dead
// letters cheaply.
type deadLetterCounter interface {
	DeadLetterLen(ctx context.Context) (int, error)
}

// storeDepthCollector reports the inbox, outbox and dead-letter depths,
// read from the store at each scrape.
type storeDepthCollector struct {
	st    store.Store
	queue *prometheus.Desc
	dead  *prometheus.Desc
	up    *prometheus.Desc
}

// newStoreDepthCollector describes the depth gauges of st.
func newStoreDepthCollector(st store.Store) *storeDepthCollector {
	return &storeDepthCollector{
		st: st,
		queue: prometheus.NewDesc("porxgate_queue_depth",
			"Items in a store queue, leased or not: inbox (accepted, not yet processed) and outbox (answers not yet delivered).",
			[]string{"queue"}, nil),
		dead: prometheus.NewDesc("porxgate_dead_letters",
			"Dead letters kept in the store (at most the store's cap).", nil, nil),
		up: prometheus.NewDesc("porxgate_store_up",
			"1 when the store answered the depth queries of this scrape, else 0.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (k *storeDepthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- k.queue
	ch <- k.dead
	ch <- k.up
}

// Collect implements prometheus.Collector. A store that does not answer
// gives porxgate_store_up 0 and no depths, rather than false zeros.
func (k *storeDepthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	up := 1.0
	for _, q := range []string{inboxQueue, outbox.Queue} {
		n, err := k.st.QueueLen(ctx, q)
		if err != nil {
			up = 0
			continue
		}
		ch <- prometheus.MustNewConstMetric(k.queue, prometheus.GaugeValue, float64(n), q)
	}
	if dc, ok := k.st.(deadLetterCounter); ok {
		if n, err := dc.DeadLetterLen(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(k.dead, prometheus.GaugeValue, float64(n))
		} else {
			up = 0
		}
	}
	ch <- prometheus.MustNewConstMetric(k.up, prometheus.GaugeValue, up)
}
