package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/ids"
)

// Option adds to what NewServer builds.
type Option func(*options)

// options are the values Options set.
type options struct {
	processor Processor
	routes    *outbox.Routes
	now       func() time.Time
	newID     func() string
	client    *http.Client
	journal   *journal.Journal
}

// WithProcessor sets the Processor messages go through; without it every
// interaction is refused as not supported (Unsupported).
func WithProcessor(p Processor) Option { return func(o *options) { o.processor = p } }

// WithRoutes sets the routing table of legacy MHS endpoints; without it
// every sender is accepted and async messages are kept for their party in
// the journal (WithJournal), or dead-lettered for want of a route.
func WithRoutes(r *outbox.Routes) Option { return func(o *options) { o.routes = r } }

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithIDs sets the generator of new message ids (default random UUIDs).
func WithIDs(newID func() string) Option { return func(o *options) { o.newID = newID } }

// WithDeliveryClient sets the HTTP client async messages are delivered
// with (default: a plain client bounded by the delivery timeout; Run builds
// one with the configured TLS settings).
func WithDeliveryClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// inboxQueue is the store queue accepted ebXML messages wait in.
const inboxQueue = "inbox"

// messaging is the legacy-facing half of the server: front doors, inbox
// workers and the delivery worker.
type messaging struct {
	// answered says when each interaction last had a message answered
	// (poison messages, Config.PoisonAfter).
	answered  answeredLog
	cfg       Config
	store     store.Store
	proc      Processor
	routes    *outbox.Routes
	now       func() time.Time
	newID     func() string
	log       *slog.Logger
	delivery  *outbox.Worker
	inboxWake chan struct{}
	// inboxHandoff takes a message accepted while an inbox worker is idle
	// straight to that worker, queued already claimed for it.
	inboxHandoff *outbox.Handoff
	metrics      *msgMetrics
	// claimFailures keeps inbox claim failures to one log line per outage.
	claimFailures outbox.FailureLog
	// journal records exchanges (WithJournal); nil: none.
	journal *journal.Journal
	// soapSenders binds SOAP senders' ASIDs to client certificates
	// (Config.SOAPASIDs); nil: none bound.
	soapSenders *TrackerASIDs
	// toParties are the party keys ebXML messages may be addressed to
	// (Config.PartyKeys); nil: any.
	toParties partyKeys
	// noteUndelivered is the processor's UndeliveredNoter, nil when it
	// has none: it keeps owed what a SOAP release answer whose sender was
	// gone released (ingress_soap.go).
	noteUndelivered func(ctx context.Context, dl *outbox.DeadLetter) error
	// syncCut ends the processing of the SOAP requests in flight when a
	// stop's drain runs short (Server.Serve).
	syncCut syncCutoff
}

// syncCutoff is closed when the SOAP requests in flight are to stop
// waiting: one channel per Serve.
type syncCutoff struct {
	mu sync.Mutex
	ch chan struct{}
}

// open starts a Serve's channel and returns its close, safe to call more
// than once.
func (c *syncCutoff) open() func() {
	ch := make(chan struct{})
	c.mu.Lock()
	c.ch = ch
	c.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// done returns the current Serve's channel; nil (never closed) outside
// one.
func (c *syncCutoff) done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// newMessaging builds the messaging half from the options.
func newMessaging(cfg Config, st store.Store, log *slog.Logger, m *Metrics, opts []Option) *messaging {
	o := options{processor: Unsupported{}, now: time.Now, newID: ids.NewUUID}
	for _, opt := range opts {
		opt(&o)
	}
	if o.processor == nil {
		o.processor = Unsupported{}
	}
	mm := newMsgMetrics(m.Registry)
	wc := outbox.WorkerConfig{
		Store: st, Routes: o.routes, Client: o.client, ReadXML: readEnvelope, Log: log, Now: o.now,
		Workers: cfg.DeliveryWorkers, Lease: cfg.Lease, Poll: cfg.PollInterval,
		Timeout: cfg.DeliveryTimeout, Grace: cfg.ShutdownTimeout,
		Observe: func(r string) { mm.deliveries.WithLabelValues(r).Inc() },
	}
	if n, ok := underlying[UndeliveredNoter](o.processor); ok {
		wc.NoteDeadLetter, wc.NoteDelivered = n.NoteUndelivered, n.NoteDelivered
	}
	journalHooks(&o, &wc)
	g := &messaging{
		cfg: cfg, store: st, proc: o.processor, routes: o.routes, now: o.now, newID: o.newID,
		log: log, inboxWake: make(chan struct{}, 1), metrics: mm, journal: o.journal,
		noteUndelivered: wc.NoteDeadLetter,
	}
	var err error
	if g.soapSenders, err = ParseSOAPASIDs(cfg.SOAPASIDs); err != nil {
		// Validate refuses it at start; the entries that could be read
		// still bind.
		log.Error("soap-asids: not all read", "err", err)
	}
	if g.toParties, err = parsePartyKeys(cfg.PartyKeys); err != nil {
		// Validate refuses it at start; unread, eb:To is not checked.
		log.Error("party-keys: not read; eb:To is not checked", "err", err)
	}
	g.delivery = outbox.NewWorker(wc)
	g.inboxHandoff = outbox.NewHandoff(cfg.InboxWorkers, g.processHanded)
	return g
}

// wakeInbox tells an idle inbox worker that a message was accepted.
func (g *messaging) wakeInbox() {
	select {
	case g.inboxWake <- struct{}{}:
	default:
	}
}

// RunWorkers runs the inbox workers (accepted messages through the
// Processor) and the delivery workers (the outbox to the MHS endpoints)
// until ctx is done; then it lets the work in hand finish, for at most the
// shutdown timeout, and returns. Work not finished stays in the store and
// is taken up again when this or another replica runs.
func (s *Server) RunWorkers(ctx context.Context) {
	g := s.msg
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); g.delivery.Run(ctx) }()
	go func() {
		defer wg.Done()
		g.inboxHandoff.Loop(ctx, g.cfg.InboxWorkers, g.cfg.PollInterval, g.inboxWake, g.cfg.ShutdownTimeout,
			func(work context.Context) bool { return g.processUntil(ctx, work) })
	}()
	wg.Wait()
}

// msgMetrics count what the front doors and workers do.
type msgMetrics struct {
	received   *prometheus.CounterVec
	processed  *prometheus.CounterVec
	deliveries *prometheus.CounterVec
	exchanges  *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

// newMsgMetrics registers the messaging counters on reg (reusing them when
// another server registered them already).
func newMsgMetrics(reg *prometheus.Registry) *msgMetrics {
	return &msgMetrics{
		received: registerCounter(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_messages_received_total",
			Help: "Legacy messages received, by transport and outcome (accepted, duplicate, refused, store_error, busy, failed: the gateway failed while taking it; signal: an MHS's acknowledgment or error of one of our deliveries).",
		}, []string{"transport", "outcome"})),
		processed: registerCounter(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_messages_processed_total",
			Help: "Inbox processing results (done, retry, deferred: EPS unavailable, the message waits without using an attempt; dead_letter).",
		}, []string{"outcome"})),
		deliveries: registerCounter(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_deliveries_total",
			Help: "Async delivery attempts, by result (delivered, retry, dead_letter; kept: no routing table, kept for its party); delivered also counts a delivery its receiver acknowledged later, asynchronously.",
		}, []string{"result"})),
		exchanges: newExchangeCounter(reg),
		latency:   newExchangeLatency(reg),
	}
}

// registerCounter registers c on reg, or returns the one already there.
func registerCounter(reg *prometheus.Registry, c *prometheus.CounterVec) *prometheus.CounterVec {
	return registerVec(reg, c)
}

// registerVec registers c on reg, or returns the collector of its kind
// already there (another server on the same registry registered it).
func registerVec[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
