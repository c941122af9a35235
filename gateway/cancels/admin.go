package gateway

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/cancels"
)

// PathCancellations lists the pending cancellations.
const PathCancellations = "/admin/cancellations"

// expiredListLimit is how many expired cancellations the admin view shows.
const expiredListLimit = 100

// EnableCancellations wires pending-cancellation handling into the server:
// its Subsequent Cancel Responses go through this server's outbox, GET
// PathCancellations (on the admin listener) lists them, /metrics reports them, and ServeAndWork
// runs its poller. Call it before serving.
func (s *Server) EnableCancellations(c *Cancellations) {
	s.cancels = c
	c.attach(s.store, s.msg.routes, s.msg.delivery.Wake)
	c.m = newCancelMetrics(s.metrics.Registry)
	registerCollector(s.metrics.Registry, newCancelStatsCollector(c))
}

// cancellationView is one tracked cancellation in the admin view, without
// the request payload (which holds patient data).
type cancellationView struct {
	PrescriptionID string           `json:"prescriptionId"`
	LineItem       string           `json:"lineItem"`
	CancellationID string           `json:"cancellationId,omitempty"`
	ConversationID string           `json:"conversationId"`
	MessageID      string           `json:"messageId"`
	ResponseID     string           `json:"responseId,omitempty"`
	Party          string           `json:"party"`
	DispenserODS   string           `json:"dispenserOds,omitempty"`
	State          cancels.State    `json:"state"`
	Created        time.Time        `json:"created"`
	AgeSeconds     float64          `json:"ageSeconds"`
	NextPoll       *time.Time       `json:"nextPoll,omitempty"`
	Expires        time.Time        `json:"expires"`
	Polls          int              `json:"polls"`
	LastError      string           `json:"lastError,omitempty"`
	Outcome        *cancels.Outcome `json:"outcome,omitempty"`
}

// viewOf shows a record at now.
func viewOf(r cancels.Record, now time.Time) cancellationView {
	v := cancellationView{
		PrescriptionID: r.PrescriptionID, LineItem: r.LineItem, CancellationID: r.CancellationID,
		ConversationID: r.ConversationID, MessageID: r.MessageID, ResponseID: r.ResponseID, Party: r.SenderPartyID,
		DispenserODS: r.DispenserODS, State: r.State, Created: r.Created, AgeSeconds: r.Age(now).Seconds(),
		Expires: r.Expires, Polls: r.Attempts, LastError: r.LastError, Outcome: r.Outcome,
	}
	if r.State == cancels.StatePending && !r.NextPoll.IsZero() {
		np := r.NextPoll
		v.NextPoll = &np
	}
	return v
}

// cancellations handles GET /admin/cancellations: every tracked
// cancellation (pending, or resolved and being answered) oldest first,
// with its ids, age and next poll; and the most recent expired ones.
func (s *Server) cancellations(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	defer cancel()
	tr := s.cancels.tracker
	now := s.cancels.now()
	recs, err := tr.List(ctx)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "cancellations: "+err.Error())
	}
	expired, err := tr.ListExpired(ctx, expiredListLimit)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "cancellations: "+err.Error())
	}
	st, err := tr.Stats(ctx, now)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "cancellations: "+err.Error())
	}
	list := make([]cancellationView, 0, len(recs))
	for _, r := range recs {
		list = append(list, viewOf(r, now))
	}
	exp := make([]cancellationView, 0, len(expired))
	for _, r := range expired {
		exp = append(exp, viewOf(r, now))
	}
	return c.JSON(fiber.Map{
		"count": len(list), "pending": st.Pending, "oldestAgeSeconds": st.OldestAge.Seconds(),
		"cancellations": list, "expiredCount": st.Expired, "expired": exp,
	})
}

// cancelMetrics count what the pending-cancellation handling does.
type cancelMetrics struct {
	tracked  prometheus.Counter
	resolved *prometheus.CounterVec
	answered prometheus.Counter
	expired  prometheus.Counter
	polls    prometheus.Counter
	failures prometheus.Counter
}

// newCancelMetrics registers the counters on reg (nil: unregistered).
func newCancelMetrics(reg *prometheus.Registry) *cancelMetrics {
	m := &cancelMetrics{
		tracked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porxgate_cancellations_tracked_total",
			Help: "Pending cancellations this replica started tracking.",
		}),
		resolved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_cancellations_resolved_total",
			Help: "Pending cancellations this replica resolved, by what settled them (dispense-notification, return, tracker).",
		}, []string{"source"}),
		answered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porxgate_cancellations_answered_total",
			Help: "Subsequent Cancel Responses this replica queued for delivery.",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porxgate_cancellations_expired_total",
			Help: "Pending cancellations this replica gave up unresolved past their maximum age (each also logged as an error).",
		}),
		polls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porxgate_cancellation_polls_total",
			Help: "EPS tracker queries made for pending cancellations.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porxgate_cancellation_answer_failures_total",
			Help: "Resolved cancellations whose Subsequent Cancel Response could not be built.",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.tracked, m.resolved, m.answered, m.expired, m.polls, m.failures} {
			registerCollector(reg, c)
		}
	}
	return m
}

// registerCollector registers c on reg; a collector registered already
// (by another server on the same registry) is left as it is.
func registerCollector(reg *prometheus.Registry, c prometheus.Collector) {
	_ = reg.Register(c)
}

// cancelStatsCollector reports the tracker's figures at each scrape.
type cancelStatsCollector struct {
	c                        *Cancellations
	pending, oldest, expired *prometheus.Desc
}

// newCancelStatsCollector describes the tracker's gauges.
func newCancelStatsCollector(c *Cancellations) *cancelStatsCollector {
	return &cancelStatsCollector{
		c: c,
		pending: prometheus.NewDesc("porxgate_cancellations_pending",
			"Pending cancellations tracked (all replicas: the tracker's count).", nil, nil),
		oldest: prometheus.NewDesc("porxgate_cancellation_oldest_age_seconds",
			"Age of the oldest tracked cancellation (0 when none).", nil, nil),
		expired: prometheus.NewDesc("porxgate_cancellations_expired",
			"Entries of the expired-cancellations list (bounded).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (k *cancelStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- k.pending
	ch <- k.oldest
	ch <- k.expired
}

// Collect implements prometheus.Collector: nothing when the tracker
// cannot be read (the scrape shows the gauges missing, not zero).
func (k *cancelStatsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := k.c.tracker.Stats(ctx, k.c.now())
	if err != nil {
		k.c.log.Warn("cancellation metrics: tracker unreadable", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(k.pending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(k.oldest, prometheus.GaugeValue, st.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(k.expired, prometheus.GaugeValue, float64(st.Expired))
}
