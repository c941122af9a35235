package cancels

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/porxgate/porxgate/internal/retry"
)

// Tracker keeps pending cancellations; Redis and Memory implement it with
// the same behaviour.
type Tracker interface {
	// Track starts tracking a pending cancellation. It reports false (and
	// changes nothing) when the prescription id and line item are tracked
	// already, or when this cancel request (same MessageID) was answered
	// (Complete) within Options.AnsweredTTL, so a redelivered answer or a
	// replayed cancel request is harmless.
	Track(ctx context.Context, rec Record) (bool, error)
	// Get returns a tracked record, or ErrNotFound.
	Get(ctx context.Context, prescriptionID, lineItem string) (Record, error)
	// Resolve marks a pending cancellation resolved with outcome and returns
	// it with a lease, exactly once across replicas: ok is false when it is
	// not tracked or another caller resolved it already.
	Resolve(ctx context.Context, prescriptionID, lineItem string, outcome Outcome, now time.Time) (Claim, bool, error)
	// Due leases up to limit records that need work at now: pending ones
	// whose next poll is due and resolved ones whose resolver's lease ran
	// out (Claim.Outcome is set on those).
	Due(ctx context.Context, now time.Time, limit int) ([]Claim, error)
	// Extend renews a claim's lease for another Options.LeaseTTL.
	Extend(ctx context.Context, c Claim) error
	// Reschedule releases a pending claim until its next poll, after
	// Options.Backoff(Attempts+1) but no later than the record's Expires
	// (the last look before it is given up), recording the attempt and
	// lastError.
	Reschedule(ctx context.Context, c Claim, now time.Time, lastError string) (Record, error)
	// Complete ends a claim's record: its Subsequent Cancel Response is on
	// its way, or none is owed. The cancel request is remembered as answered for
	// Options.AnsweredTTL (see Track).
	Complete(ctx context.Context, c Claim) error
	// Expire removes up to limit pending records whose Expires is at or
	// before now, that were looked at since (their next poll is after
	// Expires: Track and Reschedule never schedule it later than Expires)
	// and that nobody holds a lease on, and returns them, once; they are
	// kept in the expired list.
	Expire(ctx context.Context, now time.Time, limit int) ([]Record, error)
	// ListExpired returns up to limit expired records, newest first,
	// without their Request: the cancel request's payload (patient data)
	// is not kept once a cancellation is given up.
	ListExpired(ctx context.Context, limit int) ([]Record, error)
	// List returns up to limit tracked records (every one when limit ≤ 0),
	// oldest first.
	List(ctx context.Context, limit int) ([]Record, error)
	// Stats counts the tracked records at now.
	Stats(ctx context.Context, now time.Time) (Stats, error)
}

// State is where a tracked cancellation stands.
type State string

// The states of a tracked cancellation.
const (
	// StatePending: still with the dispenser, marked for cancellation.
	StatePending State = "pending"
	// StateResolved: settled; the Subsequent Cancel Response is being sent.
	StateResolved State = "resolved"
)

// Record is one tracked cancellation.
type Record struct {
	// PrescriptionID is the short-form prescription id (upper case).
	PrescriptionID string `json:"prescriptionId"`
	// LineItem is the cancelled line item's id (upper case).
	LineItem string `json:"lineItem"`
	// CancellationID is the CancellationRequest id the responses refer to.
	CancellationID string `json:"cancellationId,omitempty"`
	// ConversationID is the ebXML ConversationId of the cancel request; the
	// Subsequent Cancel Response goes in the same conversation.
	ConversationID string `json:"conversationId"`
	// MessageID is the cancel request's ebXML MessageId (the answers'
	// RefToMessageId).
	MessageID string `json:"messageId"`
	// ResponseID is the MessageId the Subsequent Cancel Response will have,
	// chosen when tracking starts so that a resend is a duplicate.
	ResponseID string `json:"responseId,omitempty"`
	// SenderPartyID is the prescriber's ebXML PartyId (where answers go).
	SenderPartyID string `json:"senderPartyId"`
	// ReceiverPartyID is the PartyId the cancel request was sent to
	// (porxgate answering as Spine): the answers' eb:From.
	ReceiverPartyID string `json:"receiverPartyId,omitempty"`
	// SenderASID is the prescriber's ASID.
	SenderASID string `json:"senderAsid,omitempty"`
	// CPAID is the ebXML CPAId of the conversation.
	CPAID string `json:"cpaId,omitempty"`
	// Request is the cancel request's v3 payload, from which the Subsequent
	// Cancel Response is made.
	Request []byte `json:"request,omitempty"`
	// TraceParent is the W3C traceparent of the cancel request's exchange:
	// the polls and the Subsequent Cancel Response's delivery join its
	// trace ("" with tracing off).
	TraceParent string `json:"traceParent,omitempty"`
	// DispenserODS is the dispenser holding the item, when EPS named one.
	DispenserODS string `json:"dispenserOds,omitempty"`
	// AwaitingPrescription marks a cancellation EPS answered "not found"
	// (0008): the prescription had not reached it. Spine keeps such a
	// cancellation, carries it out when the prescription comes and then
	// sends the Subsequent Cancel Response (0001). It resolves only so;
	// once the EPS tracker lists the prescription without the item
	// cancelled, the cancellation was not carried out and none is owed.
	AwaitingPrescription bool `json:"awaitingPrescription,omitempty"`
	// Created is when tracking started.
	Created time.Time `json:"created"`
	// Expires is when a cancellation still pending is given up (Expire),
	// once the poller has looked at it at or after that time. Zero means
	// Created + Options.MaxAge.
	Expires time.Time `json:"expires"`

	// State, NextPoll, Attempts, LastError and Outcome change while the
	// record is tracked.
	State State `json:"state"`
	// NextPoll is when the poller should next ask the EPS tracker. Zero on
	// Track means at once (Created); never later than Expires while that
	// has not come.
	NextPoll time.Time `json:"nextPoll"`
	// Attempts counts the polls that found the item still pending.
	Attempts int `json:"attempts"`
	// LastError is the last poll's problem, if any.
	LastError string `json:"lastError,omitempty"`
	// Outcome is how the cancellation resolved; nil while pending.
	Outcome *Outcome `json:"outcome,omitempty"`
}

// Key returns the record's id: "<prescription id>:<line item>".
func (r Record) Key() string { return recordKey(r.PrescriptionID, r.LineItem) }

// Age is how long the record has been tracked at now.
func (r Record) Age(now time.Time) time.Duration { return now.Sub(r.Created) }

// Outcome says how a pending cancellation resolved.
type Outcome struct {
	// Code is the …17.19 cancellation response code of the Subsequent
	// Cancel Response: 0001 cancelled, 0004 dispensed, 0010 not dispensed,
	// 0005 expired…
	Code string `json:"code"`
	// Source tells what settled it: "dispense-notification", "return",
	// "withdraw", "tracker" or another word of the caller's.
	Source string `json:"source"`
	// DispenserODS and DispenserName name the dispenser, when known.
	DispenserODS  string `json:"dispenserOds,omitempty"`
	DispenserName string `json:"dispenserName,omitempty"`
	// At is when it resolved.
	At time.Time `json:"at"`
}

// Claim is a record leased to one caller.
type Claim struct {
	Record
	// Token identifies the lease.
	Token string
}

// Stats are the tracker's figures for /metrics.
type Stats struct {
	// Tracked counts the tracked records (pending and resolved ones still
	// being answered).
	Tracked int
	// Pending counts the records still pending.
	Pending int
	// Awaiting counts the tracked records that await their prescription
	// (Record.AwaitingPrescription), pending or resolved and being answered.
	Awaiting int
	// OldestAge is the age of the oldest tracked record (0 when none).
	OldestAge time.Duration
	// Expired counts the entries of the expired list (at most ExpiredCap).
	Expired int
}

// Errors of a Tracker.
var (
	// ErrNotFound: no such tracked record.
	ErrNotFound = errors.New("cancels: not tracked")
	// ErrLeaseLost: the claim's lease ran out or was taken over.
	ErrLeaseLost = errors.New("cancels: lease lost")
)

// Options tune a Tracker.
type Options struct {
	// LeaseTTL is how long a claim is held (default 30s).
	LeaseTTL time.Duration
	// MaxAge is how long a cancellation may stay pending before Expire
	// reports it (default DefaultMaxAge), for records tracked without Expires.
	MaxAge time.Duration
	// Backoff gives the wait before the next poll after the n-th poll that
	// found the item pending (n ≥ 1). Default DefaultBackoff.
	Backoff func(n int) time.Duration
	// ExpiredCap bounds the expired list (default 1000).
	ExpiredCap int
	// AnsweredTTL is how long a completed cancellation's request
	// MessageID is remembered, so that the cancel request processed again
	// (its recorded EPS answer, pending, replayed) does not track it anew
	// and answer the prescriber twice (default 7 days: longer than the
	// gateway keeps EPS's answers for replays).
	AnsweredTTL time.Duration
}

func (o Options) withDefaults() Options {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.ExpiredCap <= 0 {
		o.ExpiredCap = 1000
	}
	if o.AnsweredTTL <= 0 {
		o.AnsweredTTL = 7 * 24 * time.Hour
	}
	return o
}

// DefaultBackoff doubles the wait from five minutes up to six hours: 5m,
// 10m, 20m … 6h, 6h. Polls of a pending cancellation are cheap but the
// dispenser may take days.
func DefaultBackoff(n int) time.Duration {
	return retry.Exponential{First: 5 * time.Minute, Max: 6 * time.Hour}.Nth(n)
}

// recordKey normalises a prescription id and line item into a record id.
func recordKey(prescriptionID, lineItem string) string {
	return strings.ToUpper(strings.TrimSpace(prescriptionID)) + ":" + strings.ToUpper(strings.TrimSpace(lineItem))
}

// checkIDs rejects an empty id or one with a separator or white space.
func checkIDs(prescriptionID, lineItem string) error {
	for _, v := range [...]struct{ name, s string }{{"prescription id", prescriptionID}, {"line item", lineItem}} {
		s := strings.TrimSpace(v.s)
		if s == "" || strings.ContainsAny(s, ": \t\r\n") {
			return fmt.Errorf("cancels: %s %q: empty or holds ':' or white space", v.name, v.s)
		}
	}
	return nil
}

// prepare checks and completes a record about to be tracked.
func prepare(rec Record, o Options) (Record, error) {
	if err := checkIDs(rec.PrescriptionID, rec.LineItem); err != nil {
		return Record{}, err
	}
	if rec.Created.IsZero() {
		return Record{}, fmt.Errorf("cancels: record %s has no Created time", rec.Key())
	}
	rec.PrescriptionID = strings.ToUpper(strings.TrimSpace(rec.PrescriptionID))
	rec.LineItem = strings.ToUpper(strings.TrimSpace(rec.LineItem))
	if rec.Expires.IsZero() {
		rec.Expires = rec.Created.Add(o.MaxAge)
	}
	if rec.NextPoll.IsZero() {
		rec.NextPoll = rec.Created
	}
	if rec.NextPoll.After(rec.Expires) {
		rec.NextPoll = rec.Expires // a look at the maximum age at the latest
	}
	// Poll times are kept to the millisecond, as Redis scores are.
	rec.NextPoll = rec.NextPoll.Truncate(time.Millisecond)
	rec.State, rec.Attempts, rec.LastError, rec.Outcome = StatePending, 0, "", nil
	return rec, nil
}

// nextPoll is when a cancellation found pending at now is looked at
// again: after wait, but at its expiry at the latest, so that it is never
// given up without a look at or after its expiry. Kept to the millisecond.
func nextPoll(now time.Time, wait time.Duration, expires time.Time) time.Time {
	next := now.Add(wait)
	if now.Before(expires) && next.After(expires) {
		next = expires
	}
	return next.Truncate(time.Millisecond)
}

// answeredID is the form of a cancel request's MessageID that marks it
// answered (ebXML MessageIds compare without regard to case).
func answeredID(messageID string) string { return strings.ToUpper(strings.TrimSpace(messageID)) }

// newToken returns a random lease token.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cancels: lease token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
