package gateway

import (
	"bytes"
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

// ackTypeCodeRE reads an HL7 v3 acknowledgement's typeCode at the start
// of its start tag (firstTagMatch; a match ends before the tag does).
var ackTypeCodeRE = regexp.MustCompile(`^<(?:[A-Za-z][\w.-]*:)?acknowledgement\b[^>]*?\stypeCode\s*=\s*["'](A[AER])["']`)

// ackName is the element ackTypeCodeRE reads.
var ackName = []byte("acknowledgement")

// firstTagMatch returns the submatches of re, which begins with "^<" and
// an optional namespace prefix ([A-Za-z][\w.-]*:) before one of names, at
// the first start tag of b named so: what re without its "^" would find
// in b, when no match of re spans more than span ">" (the end of the
// tag, and as many more). Only those tags are given to re, with the text
// up to their span-th ">": Go's regexp, with submatches,
// spends 10-30 ns on every byte it searches, and every processed message
// was searched whole, up to three times, for its exchange's metric and
// "processed" line: 8.4 ms for the corpus's 314 KB release response, 36
// µs for its 4 KB MCCI acknowledgement, where finding the names takes
// microseconds.
func firstTagMatch(b []byte, re *regexp.Regexp, span int, names ...[]byte) [][]byte {
	next := make([]int, len(names)) // the next occurrence of each name, -1: none
	for k, name := range names {
		next[k] = bytes.Index(b, name)
	}
	for {
		k := -1
		for j, i := range next {
			if i >= 0 && (k < 0 || i < next[k]) {
				k = j
			}
		}
		if k < 0 {
			return nil
		}
		i := next[k]
		if s := tagStart(b, i); s >= 0 {
			if m := re.FindSubmatch(b[s:spanEnd(b, i, span)]); m != nil {
				return m
			}
		}
		if j := bytes.Index(b[i+1:], names[k]); j >= 0 {
			next[k] = i + 1 + j
		} else {
			next[k] = -1
		}
	}
}

// spanEnd is the index after the n-th ">" from b[i] on, or len(b).
func spanEnd(b []byte, i, n int) int {
	for range n {
		j := bytes.IndexByte(b[i:], '>')
		if j < 0 {
			return len(b)
		}
		i += j + 1
	}
	return i
}

// tagStart is where the tag opens whose name, after an optional namespace
// prefix ([A-Za-z][\w.-]*:), begins at b[i]: the index of its "<", or -1
// when the name at i opens no tag.
func tagStart(b []byte, i int) int {
	if i > 0 && b[i-1] == '<' {
		return i - 1
	}
	if i < 3 || b[i-1] != ':' {
		return -1
	}
	k := i - 2
	for k >= 0 && isNameByte(b[k]) {
		k--
	}
	if k < 0 || b[k] != '<' || k+1 > i-2 || !isLetter(b[k+1]) {
		return -1
	}
	return k
}

// isNameByte reports a byte of a namespace prefix as the regular
// expressions read it ([\w.-]).
func isNameByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// isLetter reports an ASCII letter.
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

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
		if m := firstTagMatch(a.Payload, ackTypeCodeRE, 1, ackName); m != nil {
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
