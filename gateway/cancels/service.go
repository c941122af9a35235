package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/retry"
	"github.com/porxgate/porxgate/mapping"
)

// TrackerAPI is the EPS tracker search the cancellation poller asks
// (gateway/upstream.Client satisfies it).
type TrackerAPI interface {
	// TrackerGet searches prescriptions: GET Task?query.
	TrackerGet(ctx context.Context, query url.Values) (*upstream.Response, error)
}

// CancelOptions tune the pending-cancellation work.
type CancelOptions struct {
	// PollInterval is how often the poller looks for cancellations due a
	// poll and sweeps expired ones.
	PollInterval time.Duration
	// Backoff is the wait before the first poll of a cancellation; it
	// doubles after each poll that finds it pending, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxAge is how long a cancellation may stay pending before it is
	// given up and reported.
	MaxAge time.Duration
	// Rate bounds the EPS tracker queries of the poller (per second, per
	// replica).
	Rate int
	// Lease is how long one replica holds a tracked cancellation while it
	// polls or answers it.
	Lease time.Duration
}

// CancelOptionsFrom takes the cancellation settings of a Config.
func CancelOptionsFrom(cfg Config) CancelOptions {
	return CancelOptions{
		PollInterval: cfg.CancelPollInterval, Backoff: cfg.CancelBackoff, MaxBackoff: cfg.CancelMaxBackoff,
		MaxAge: cfg.CancelMaxAge, Rate: cfg.CancelPollRate, Lease: cfg.Lease,
	}
}

// withDefaults fills what o leaves unset with DefaultConfig's values.
func (o CancelOptions) withDefaults() CancelOptions {
	d := CancelOptionsFrom(DefaultConfig())
	if o.PollInterval <= 0 {
		o.PollInterval = d.PollInterval
	}
	if o.Backoff <= 0 {
		o.Backoff = d.Backoff
	}
	if o.MaxBackoff < o.Backoff {
		o.MaxBackoff = max(d.MaxBackoff, o.Backoff)
	}
	if o.MaxAge <= 0 {
		o.MaxAge = d.MaxAge
	}
	if o.Rate <= 0 {
		o.Rate = d.Rate
	}
	if o.Lease <= 0 {
		o.Lease = d.Lease
	}
	return o
}

// backoff is the wait after the n-th poll that found a cancellation
// pending: Backoff doubled n-1 times, at most MaxBackoff.
func (o CancelOptions) backoff(n int) time.Duration {
	return retry.Exponential{First: o.Backoff, Max: o.MaxBackoff}.Nth(n)
}

// TrackerOptions are the cancels.Options these settings mean.
func (o CancelOptions) TrackerOptions() cancels.Options {
	o = o.withDefaults()
	return cancels.Options{LeaseTTL: o.Lease, MaxAge: o.MaxAge, Backoff: o.backoff}
}

// Cancellations is the gateway's handling of pending cancellations (cancel
// requests EPS answered "with dispenser, marked for cancellation"): it
// tracks them, resolves them when a dispense notification or return for
// the prescription passes through (settle) or when the EPS tracker shows
// the item settled (the poller, Run), and then queues the Subsequent
// Cancel Response to the original prescriber in the outbox, once. A
// Server serves its admin view and metrics once EnableCancellations is
// called; the EPS processor uses it through WithCancellations.
type Cancellations struct {
	tracker cancels.Tracker
	api     TrackerAPI
	opts    CancelOptions
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	// asid is porxgate's own ASID answering as Spine.
	asid string

	// Set by attach (EnableCancellations).
	store  store.Store
	routes *outbox.Routes
	wake   func()
	m      *cancelMetrics
}

// NewCancellations returns the pending-cancellation handling over a
// tracker and the EPS tracker API (nil: no polling; only dispense
// notifications and returns resolve, and expiry). now and newID may be nil
// for time.Now and random UUIDs.
func NewCancellations(tr cancels.Tracker, api TrackerAPI, opts CancelOptions, now func() time.Time, newID func() string, log *slog.Logger) *Cancellations {
	if now == nil {
		now = time.Now
	}
	if newID == nil {
		newID = ids.NewUUID
	}
	return &Cancellations{
		tracker: tr, api: api, opts: opts.withDefaults(), log: log, now: now, newID: newID,
		asid: mapping.DefaultReceiverASID, wake: func() {}, m: newCancelMetrics(nil),
	}
}

// Tracker returns the tracker the cancellations are kept in.
func (c *Cancellations) Tracker() cancels.Tracker { return c.tracker }

// OpenTracker returns the tracker for a gateway's store: on the same Redis
// and prefix when the store is Redis, in memory otherwise.
func OpenTracker(st store.Store, opts CancelOptions) cancels.Tracker {
	if r, ok := st.(*store.Redis); ok {
		return cancels.NewRedis(r.Client(), r.Prefix(), opts.TrackerOptions())
	}
	return cancels.NewMemory(opts.TrackerOptions(), nil)
}

// OpenCancellations builds the pending-cancellation handling Run wires
// in: the tracker on the gateway's store and the poller on the upstream's
// EPS tracker (no polling without an upstream).
func OpenCancellations(cfg Config, st store.Store, up *EPSClient, log *slog.Logger) *Cancellations {
	opts := CancelOptionsFrom(cfg)
	var api TrackerAPI
	if up != nil {
		api = up.PartyTrackerAPI()
	}
	return NewCancellations(OpenTracker(st, opts), api, opts, nil, nil, log.With("component", "cancellations"))
}

// attach gives the cancellations the outbox they answer through.
func (c *Cancellations) attach(st store.Store, routes *outbox.Routes, wake func()) {
	c.store, c.routes = st, routes
	if wake != nil {
		c.wake = wake
	}
}

// track records a pending cancellation the prescriber sent in: by
// prescription id and line item, with the conversation, parties and
// message ids the Subsequent Cancel Response will need, and the request
// itself. An error means it is not recorded (the message is processed
// again later).
func (c *Cancellations) track(ctx context.Context, in *Inbound, out mapping.CancelOutcome) error {
	log := inboundLog(c.log, in).With("prescription", out.Request.PrescriptionID, "line_item", out.Request.LineItemID)
	if in.Transport != TransportEbXML || in.FromParty == "" {
		log.Warn("pending cancellation not tracked: it came without an ebXML sender to answer later", "code", out.FHIRCode)
		return nil
	}
	now := c.now().UTC()
	rec := cancels.Record{
		PrescriptionID: out.Request.PrescriptionID, LineItem: out.Request.LineItemID,
		CancellationID: out.Request.CancellationID, ConversationID: in.ConversationID, MessageID: in.MessageID,
		ResponseID: strings.ToUpper(c.newID()), SenderPartyID: in.FromParty, ReceiverPartyID: in.ToParty,
		SenderASID: out.Request.SenderASID, CPAID: in.CPAID, Request: in.Payload, TraceParent: in.TraceParent, DispenserODS: out.DispenserODS,
		Created: now, NextPoll: now.Add(c.opts.backoff(1)),
	}
	added, err := c.tracker.Track(ctx, rec)
	if err != nil {
		return fmt.Errorf("tracking the pending cancellation of %s item %s: %w", rec.PrescriptionID, rec.LineItem, err)
	}
	if added {
		c.m.tracked.Inc()
		log.Info("pending cancellation tracked", "code", out.FHIRCode, "dispenser", out.DispenserODS,
			"next_poll", rec.NextPoll.Format(time.RFC3339))
	} else {
		log.Info("pending cancellation already tracked", "code", out.FHIRCode)
	}
	return nil
}
