package cancels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/retry"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/core"
)

// TrackerAPI is the EPS tracker search the poller asks (gateway/upstream.Client
// satisfies it).
type TrackerAPI interface {
	// TrackerGet searches prescriptions: GET Task?query.
	TrackerGet(ctx context.Context, query url.Values) (*upstream.Response, error)
}

// Config tunes the pending-cancellation work.
type Config struct {
	// PollInterval is how often the poller looks for cancellations due a
	// poll and sweeps expired ones.
	PollInterval time.Duration
	// Backoff is the wait before the first poll of a cancellation; it
	// doubles after each poll that finds it pending, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxAge is how long a cancellation may stay pending before it is
	// given up and reported (after a last poll at that age).
	MaxAge time.Duration
	// Rate bounds the EPS tracker queries of the poller (per second, per
	// replica).
	Rate int
	// Lease is how long one replica holds a tracked cancellation while it
	// polls or answers it.
	Lease time.Duration
}

// DefaultMaxAge is how long a cancellation stays tracked pending by
// default: as long as Spine may still resolve it and send the Subsequent
// Cancel Response. An item stays with the dispenser until its prescription
// expires, six months after it was written, twelve for repeat dispensing
// (eps-spine-shared common.py PRESCRIPTION_EXPIRY_PERIOD_MONTHS,
// REPEAT_DISP_EXPIRY_PERIOD_MONTHS; a "with dispenser - active" issue
// after WD_ACTIVE_EXPIRY_PERIOD_DAYS, 180), and a cancellation that came
// before its prescription is kept 180 days (CANCELLED_DELETE_PERIOD): a
// year, with five weeks to spare for the poller's last looks.
const DefaultMaxAge = 400 * 24 * time.Hour

// DefaultConfig is the pending-cancellation settings a gateway starts
// with: a first look after five minutes, then doubling up to six hours;
// given up after DefaultMaxAge; two EPS tracker queries a second.
func DefaultConfig() Config {
	return Config{PollInterval: 30 * time.Second, Backoff: 5 * time.Minute, MaxBackoff: 6 * time.Hour,
		MaxAge: DefaultMaxAge, Rate: 2, Lease: 30 * time.Second}
}

// withDefaults fills what o leaves unset with DefaultConfig's values.
func (o Config) withDefaults() Config {
	d := DefaultConfig()
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
func (o Config) backoff(n int) time.Duration {
	return retry.Exponential{First: o.Backoff, Max: o.MaxBackoff}.Nth(n)
}

// TrackerOptions are the Options of a Tracker these settings mean.
func (o Config) TrackerOptions() Options {
	o = o.withDefaults()
	return Options{LeaseTTL: o.Lease, MaxAge: o.MaxAge, Backoff: o.backoff}
}

// ServiceOptions are what a Service is built from.
type ServiceOptions struct {
	// Tracker keeps the cancellations (OpenTracker, NewRedis, NewMemory).
	Tracker Tracker
	// EPS answers the poller's tracker queries; nil: no polling (only
	// dispense notifications and returns resolve, and expiry).
	EPS TrackerAPI
	// Config tunes the work; unset fields take DefaultConfig's values.
	Config Config
	// Log receives the service's lines.
	Log *slog.Logger
	// Now is the clock (nil: time.Now); NewID makes the Subsequent Cancel
	// Responses' MessageIds (nil: random UUIDs).
	Now   func() time.Time
	NewID func() string
}

// Service is the handling of pending cancellations (cancel requests EPS
// answered "with dispenser, marked for cancellation"): it tracks them
// (Track), resolves them when a dispense notification or return for the
// prescription passes through (Settle) or when the EPS tracker shows the
// item settled (the poller, Run), and then queues the Subsequent Cancel
// Response to the original prescriber in the outbox (Attach), once. It
// serves its admin view (ServeAdmin) and its metrics (Attach).
type Service struct {
	tracker Tracker
	api     TrackerAPI
	opts    Config
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	// asid is porxgate's own ASID answering as Spine.
	asid string

	// Set by Attach.
	out  Outbox
	wake func()
	m    *metrics

	// awaiting is the count of cancellations awaiting their prescription
	// as last read (awaitingNow).
	awaiting awaitingCount
}

// awaitingCountFor is how long Settle trusts a count of the cancellations
// awaiting their prescription: every prescription passing asks, and the
// count is a Redis round trip. A cancellation another replica starts
// tracking meanwhile is resolved by the poller instead, a poll later; one
// this process tracks counts at once.
const awaitingCountFor = time.Second

// awaitingCount is a count of the cancellations awaiting their
// prescription and when it was read.
type awaitingCount struct {
	mu sync.Mutex
	n  int
	at time.Time
}

// awaitingNow returns how many cancellations await their prescription,
// from the tracker at most once every awaitingCountFor.
func (c *Service) awaitingNow(ctx context.Context) (int, error) {
	now := c.now()
	c.awaiting.mu.Lock()
	defer c.awaiting.mu.Unlock()
	if !c.awaiting.at.IsZero() && now.Sub(c.awaiting.at) < awaitingCountFor && now.Sub(c.awaiting.at) >= 0 {
		return c.awaiting.n, nil
	}
	st, err := c.tracker.Stats(ctx, now)
	if err != nil {
		return 0, err
	}
	c.awaiting.n, c.awaiting.at = st.Awaiting, now
	return st.Awaiting, nil
}

// noteAwaiting counts at once a cancellation this process started tracking
// as awaiting its prescription.
func (c *Service) noteAwaiting() {
	c.awaiting.mu.Lock()
	defer c.awaiting.mu.Unlock()
	c.awaiting.n++
}

// NewService returns the pending-cancellation handling o describes.
func NewService(o ServiceOptions) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = ids.NewUUID
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		tracker: o.Tracker, api: o.EPS, opts: o.Config.withDefaults(), log: o.Log, now: o.Now, newID: o.NewID,
		asid: core.DefaultReceiverASID, wake: func() {}, m: newMetrics(nil),
	}
}

// Tracker returns the tracker the cancellations are kept in.
func (c *Service) Tracker() Tracker { return c.tracker }

// Stats counts the tracked cancellations now.
func (c *Service) Stats(ctx context.Context) (Stats, error) { return c.tracker.Stats(ctx, c.now()) }

// OpenTracker returns the tracker for a gateway's store: on the same Redis
// and prefix when the store is Redis, in memory otherwise.
func OpenTracker(st store.Store, cfg Config) Tracker {
	if r, ok := st.(*store.Redis); ok {
		return NewRedis(r.Client(), r.Prefix(), cfg.TrackerOptions())
	}
	return NewMemory(cfg.TrackerOptions(), nil)
}

// Exchange is what the service needs of a legacy message passing through
// the gateway (a cancel request, a dispense notification, a return).
type Exchange struct {
	// EbXML is set when the message came over ebXML, with a sender that a
	// later answer can be sent to.
	EbXML bool
	// MessageID and ConversationID are its ebXML ids.
	MessageID, ConversationID string
	// FromParty, ToParty and CPAID are its ebXML parties and CPAId.
	FromParty, ToParty, CPAID string
	// TraceParent is the W3C traceparent of its exchange ("" untraced).
	TraceParent string
	// Payload is its v3 payload.
	Payload []byte
	// LogAttrs are its correlation fields, for every line about it.
	LogAttrs []slog.Attr
}

// logger returns the service's logger with the exchange's fields.
func (c *Service) logger(ex Exchange) *slog.Logger {
	return c.log.With(attrArgs(ex.LogAttrs)...)
}

// reasonNotificationOfDeath is the cancellation reason (…16.27) of a
// cancellation for the patient's death.
const reasonNotificationOfDeath = "0007"

// FollowedUp reports whether Spine sends the prescriber a Subsequent
// Cancel Response some time after the Cancel Response out describes, so
// that the gateway must Track it: when the item is with a dispenser and
// marked for cancellation (0002, 0003), and when the prescription was not
// found (0008) because it had not reached Spine yet, which keeps the
// cancellation, carries it out when the prescription comes and then
// answers "Subsequent cancellation", 0001 (eps-spine-shared
// interactions/create_prescription.py and common.py,
// apply_all_cancellations) — except for a Notification of Death (reason
// 0007), carried out without an answer (is_death).
func FollowedUp(out cancel.CancelOutcome) bool {
	return out.Pending || awaitsPrescription(out)
}

// awaitsPrescription reports whether out is a not-found answer whose
// cancellation Spine carries out, and answers, when the prescription comes.
func awaitsPrescription(out cancel.CancelOutcome) bool {
	return !out.Pending && out.Code.Code == cancelCodeNotFound && !slices.Contains(out.Request.ReasonCodes, reasonNotificationOfDeath)
}

// Track records a pending cancellation the prescriber sent in: by
// prescription id and line item, with the conversation, parties and
// message ids the Subsequent Cancel Response will need, and the request
// itself. A cancellation answered not found (FollowedUp) is tracked as
// awaiting its prescription. An error means it is not recorded (the
// message is processed again later).
func (c *Service) Track(ctx context.Context, in Exchange, out cancel.CancelOutcome) error {
	log := c.logger(in).With("prescription", out.Request.PrescriptionID, "line_item", out.Request.LineItemID)
	if !in.EbXML || in.FromParty == "" {
		log.Warn("pending cancellation not tracked: it came without an ebXML sender to answer later", "code", out.FHIRCode)
		return nil
	}
	now := c.now().UTC()
	rec := Record{
		PrescriptionID: out.Request.PrescriptionID, LineItem: out.Request.LineItemID,
		CancellationID: out.Request.CancellationID, ConversationID: in.ConversationID, MessageID: in.MessageID,
		ResponseID: strings.ToUpper(c.newID()), SenderPartyID: in.FromParty, ReceiverPartyID: in.ToParty,
		SenderASID: out.Request.SenderASID, CPAID: in.CPAID, Request: in.Payload, TraceParent: in.TraceParent, DispenserODS: out.DispenserODS,
		AwaitingPrescription: awaitsPrescription(out), Created: now, NextPoll: now.Add(c.opts.backoff(1)),
	}
	added, err := c.tracker.Track(ctx, rec)
	if err == nil && !added && !rec.AwaitingPrescription {
		added, err = c.supersede(ctx, log, rec)
	}
	if err != nil {
		return fmt.Errorf("tracking the pending cancellation of %s item %s: %w", rec.PrescriptionID, rec.LineItem, err)
	}
	if added {
		if rec.AwaitingPrescription {
			c.noteAwaiting()
		}
		c.m.tracked.Inc()
		log.Info("pending cancellation tracked", "code", out.FHIRCode, "dispenser", out.DispenserODS,
			"awaiting_prescription", rec.AwaitingPrescription, "next_poll", rec.NextPoll.Format(time.RFC3339))
	} else {
		log.Info("pending cancellation already tracked (or this request already answered): nothing new to track", "code", out.FHIRCode)
	}
	return nil
}

// supersede tracks rec, a cancellation EPS answered pending, in place of
// an earlier cancel request of the same item that awaits its prescription
// (answered not found), and reports whether it did. That one can no
// longer be carried out — EPS knows the prescription now, the item not
// cancelled — so it ends unanswered, as from Spine; kept, it would have
// taken rec's Subsequent Cancel Response for its own request. While
// it is being ended (resolved, by this call or another, not yet
// completed) rec cannot be tracked: the error has the message processed
// again.
func (c *Service) supersede(ctx context.Context, log *slog.Logger, rec Record) (bool, error) {
	old, err := c.tracker.Get(ctx, rec.PrescriptionID, rec.LineItem)
	if errors.Is(err, ErrNotFound) {
		return c.tracker.Track(ctx, rec) // ended meanwhile
	}
	if err != nil {
		return false, err
	}
	if !old.AwaitingPrescription || answeredID(old.MessageID) == answeredID(rec.MessageID) {
		return false, nil // tracked already
	}
	if old.State == StatePending {
		claim, ok, err := c.tracker.Resolve(ctx, rec.PrescriptionID, rec.LineItem, Outcome{Source: sourceSuperseded, At: c.now().UTC()}, c.now())
		if err != nil {
			return false, err
		}
		if ok {
			if err := c.tracker.Complete(ctx, claim); err != nil {
				return false, err
			}
			log.Warn("an earlier cancellation of the item, answered not found, was not carried out when its prescription came (as Spine, no Subsequent Cancel Response is sent for it); no longer tracked",
				"superseded_message_id", old.MessageID)
			return c.tracker.Track(ctx, rec)
		}
	}
	return false, fmt.Errorf("an earlier cancellation of the item (%s), answered not found, is being ended", old.MessageID)
}
