package cancels

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// PathAdmin is where the admin listener serves ServeAdmin: the tracked
// and expired cancellations.
const PathAdmin = "/admin/cancellations"

// expiredListLimit is how many expired cancellations the admin view shows.
const expiredListLimit = 100

// The tracked cancellations the admin view lists: the oldest adminListLimit
// unless ?limit=N (1 to adminListMax) says otherwise. Its count is always
// of every tracked one.
const (
	adminListLimit = 100
	adminListMax   = 1000
)

// AdminEntry is one tracked cancellation in the admin view, without the
// request payload (which holds patient data).
type AdminEntry struct {
	PrescriptionID string `json:"prescriptionId"`
	LineItem       string `json:"lineItem"`
	CancellationID string `json:"cancellationId,omitempty"`
	ConversationID string `json:"conversationId"`
	MessageID      string `json:"messageId"`
	ResponseID     string `json:"responseId,omitempty"`
	Party          string `json:"party"`
	DispenserODS   string `json:"dispenserOds,omitempty"`
	// AwaitingPrescription: answered not found, waiting for the
	// prescription (Record.AwaitingPrescription).
	AwaitingPrescription bool       `json:"awaitingPrescription,omitempty"`
	State                State      `json:"state"`
	Created              time.Time  `json:"created"`
	AgeSeconds           float64    `json:"ageSeconds"`
	NextPoll             *time.Time `json:"nextPoll,omitempty"`
	Expires              time.Time  `json:"expires"`
	Polls                int        `json:"polls"`
	LastError            string     `json:"lastError,omitempty"`
	Outcome              *Outcome   `json:"outcome,omitempty"`
}

// entryOf shows a record at now.
func entryOf(r Record, now time.Time) AdminEntry {
	v := AdminEntry{
		PrescriptionID: r.PrescriptionID, LineItem: r.LineItem, CancellationID: r.CancellationID,
		ConversationID: r.ConversationID, MessageID: r.MessageID, ResponseID: r.ResponseID, Party: r.SenderPartyID,
		DispenserODS: r.DispenserODS, AwaitingPrescription: r.AwaitingPrescription, State: r.State, Created: r.Created, AgeSeconds: r.Age(now).Seconds(),
		Expires: r.Expires, Polls: r.Attempts, LastError: r.LastError, Outcome: r.Outcome,
	}
	if r.State == StatePending && !r.NextPoll.IsZero() {
		np := r.NextPoll
		v.NextPoll = &np
	}
	return v
}

// ServeAdmin handles GET PathAdmin[?limit=N]: the oldest tracked
// cancellations (pending, or resolved and being answered; adminListLimit,
// or N up to adminListMax) with their ids, age and next poll, the count of
// every tracked one; and the most recent expired ones.
func (c *Service) ServeAdmin(fc *fiber.Ctx) error {
	limit := adminListLimit
	if v := fc.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > adminListMax {
			return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("limit: want 1 to %d", adminListMax))
		}
		limit = n
	}
	ctx, cancel := context.WithTimeout(fc.UserContext(), 5*time.Second)
	defer cancel()
	tr := c.tracker
	now := c.now()
	recs, err := tr.List(ctx, limit)
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
	list := make([]AdminEntry, 0, len(recs))
	for _, r := range recs {
		list = append(list, entryOf(r, now))
	}
	exp := make([]AdminEntry, 0, len(expired))
	for _, r := range expired {
		e := entryOf(r, now)
		e.NextPoll = nil // never polled again
		exp = append(exp, e)
	}
	return fc.JSON(fiber.Map{
		"count": st.Tracked, "shown": len(list), "pending": st.Pending, "oldestAgeSeconds": st.OldestAge.Seconds(),
		"cancellations": list, "expiredCount": st.Expired, "expired": exp,
	})
}

// metrics count what the pending-cancellation handling does.
type metrics struct {
	tracked  prometheus.Counter
	resolved *prometheus.CounterVec
	answered prometheus.Counter
	expired  prometheus.Counter
	polls    prometheus.Counter
	failures prometheus.Counter
}

// newMetrics registers the counters on reg (nil: unregistered); a
// collector registered already (by another server on the same registry)
// is left as it is.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		tracked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "porxgate_cancellations_tracked_total",
			Help: "Pending cancellations this replica started tracking.",
		}),
		resolved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_cancellations_resolved_total",
			Help: "Pending cancellations this replica resolved, by what settled them (dispense-notification, return, prescription, tracker).",
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
			_ = reg.Register(c)
		}
	}
	return m
}

// statsCollector reports the tracker's figures at each scrape.
type statsCollector struct {
	c                        *Service
	pending, oldest, expired *prometheus.Desc
}

// newStatsCollector describes the tracker's gauges.
func newStatsCollector(c *Service) *statsCollector {
	return &statsCollector{
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
func (k *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- k.pending
	ch <- k.oldest
	ch <- k.expired
}

// Collect implements prometheus.Collector: nothing when the tracker
// cannot be read (the scrape shows the gauges missing, not zero).
func (k *statsCollector) Collect(ch chan<- prometheus.Metric) {
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
