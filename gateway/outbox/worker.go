package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/tracing"
)

// Store is the part of the gateway's store the delivery worker uses.
type Store interface {
	Leaser
	// Claim leases the longest-due item of a queue.
	Claim(ctx context.Context, queue string, now time.Time, lease time.Duration) (*store.Lease, error)
	// Retry makes a leased item due again with new data.
	Retry(ctx context.Context, l *store.Lease, data []byte, due time.Time) error
	// Complete removes a leased item, writing f in the same step.
	Complete(ctx context.Context, l *store.Lease, f store.Finish) error
	// Peek returns the data of an item, leased or not, and whether it is
	// there.
	Peek(ctx context.Context, queue, id string) ([]byte, bool, error)
	// PutReply keeps body under key for ttl: the worker's marks of what
	// receivers said asynchronously (MarkAcknowledged, Refused) and its
	// records of dead letters noted owed (AcknowledgedLate).
	PutReply(ctx context.Context, key string, body []byte, ttl time.Duration) error
	// GetReply returns what PutReply keeps under key, and whether there
	// is anything.
	GetReply(ctx context.Context, key string) ([]byte, bool, error)
}

// Results a Worker reports to its Observe hook.
const (
	// ResultDelivered: the receiver took the message.
	ResultDelivered = "delivered"
	// ResultRetry: the attempt failed; the message will be retried.
	ResultRetry = "retry"
	// ResultDeadLetter: the message was given up on.
	ResultDeadLetter = "dead_letter"
	// ResultKept: no routing table; the message was kept for its party
	// (WorkerConfig.Keep) instead of dead-lettered.
	ResultKept = "kept"
)

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Store holds the outbox.
	Store Store
	// Routes is the routing table; nil sends everything to Keep, or to the
	// dead letters without it.
	Routes *Routes
	// Client sends the messages; nil uses a client with Timeout. The Worker
	// uses a copy that follows no redirect.
	Client *http.Client
	// ReadXML reads a receiver's answer (an eb:Acknowledgment or
	// eb:ErrorList envelope) into a tree; nil uses etree's own reader,
	// unbounded. The gateway passes the reader its front door reads
	// envelopes with, which refuses one past its element and depth bounds
	// before building any tree.
	ReadXML ebxml.XMLReader
	// Log receives one line per attempt outcome.
	Log *slog.Logger
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
	// Workers is the number of concurrent deliveries (at least 1).
	Workers int
	// Lease is how long a claimed delivery is held before others may take
	// it over; it is extended while an attempt runs.
	Lease time.Duration
	// Poll is the wait between looks at an empty outbox.
	Poll time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Grace is how long attempts in hand may finish after Run's context ends.
	Grace time.Duration
	// Observe, when set, is told each attempt's result (Result*).
	Observe func(result string)
	// Report, when set, is told each attempt's result with the delivery
	// (its body included) and a detail (the URL, or the reason), e.g. for
	// the exchange journal.
	Report func(d Delivery, result, detail string)
	// Keep, when set, keeps a message for its party when no routing table
	// is configured (e.g. in the journal, shown on the admin page) instead
	// of dead-lettering it; an error from Keep dead-letters it as before.
	Keep func(ctx context.Context, d Delivery) error
	// NoteDeadLetter, when set, is given each dead letter before it is
	// recorded, and may note what it leaves undone and say so on it (e.g.
	// the prescriptions an undelivered release response leaves owed,
	// DeadLetter.Owed). An error keeps the message out of the dead letters
	// for now: it is taken up again when its lease runs out.
	NoteDeadLetter func(ctx context.Context, dl *DeadLetter) error
	// NoteDelivered, when set, undoes what NoteDeadLetter noted owed
	// (DeadLetter.Owed) for a delivery whose receiver took it after all:
	// one acknowledged asynchronously (Acknowledged), also while a worker
	// was dead-lettering it (MarkAcknowledged). An error is logged: what
	// it names stays owed.
	NoteDelivered func(ctx context.Context, d Delivery) error
}

// Worker drains the outbox: it delivers each message over its party's
// route, retrying and dead-lettering as the route's policy says.
type Worker struct {
	cfg     WorkerConfig
	wake    chan struct{}
	handoff *Handoff
	failing FailureLog
}

// NewWorker returns a Worker; zero durations take defaults (lease 30s,
// poll 500ms, timeout 30s, grace 5s).
func NewWorker(cfg WorkerConfig) *Worker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: cfg.Timeout}
	}
	// A receiver's redirect is not followed: a message goes only to the
	// endpoint its route names, and a 3xx answer did not take it (send).
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client
	w := &Worker{cfg: cfg, wake: make(chan struct{}, 1)}
	w.handoff = NewHandoff(cfg.Workers, func(ctx context.Context, l *store.Lease, decoded any) {
		if d, ok := decoded.(Delivery); ok { // handed with the delivery it was queued from
			_ = w.attempt(ctx, l, d, w.cfg.Now())
			return
		}
		_ = w.deliver(ctx, l, w.cfg.Now())
	})
	return w
}

// Handoff takes deliveries queued already claimed (store.Item.Token) by
// whoever queues them straight to an idle delivery worker, while Run runs:
// Reserve before queueing, Give the lease after, or GiveDecoded it with
// the Delivery its item was made from (Delivery.Item), which the worker
// then attempts without decoding the item.
func (w *Worker) Handoff() *Handoff { return w.handoff }

// Wake tells an idle worker to look at the outbox now (something was queued).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then lets attempts in hand finish (for
// at most the grace period) and returns. A worker claims again at once
// only when another delivery was due as it claimed one (store.Lease.More),
// and then wakes another worker for it; else it waits to be woken (Wake),
// for its pool's poll tick (Loop) or for a delivery handed to it
// (Handoff).
func (w *Worker) Run(ctx context.Context) {
	w.handoff.Loop(ctx, w.cfg.Workers, w.cfg.Poll, w.wake, w.cfg.Grace, func(ctx context.Context) bool {
		l, now, _ := w.claim(ctx)
		if l == nil {
			return false
		}
		if l.More {
			w.Wake()
		}
		_ = w.deliver(ctx, l, now)
		return l.More
	})
}

// DeliverOne claims one due delivery and attempts it. It reports whether
// there was one; the error is the store's, if it failed.
func (w *Worker) DeliverOne(ctx context.Context) (bool, error) {
	l, now, err := w.claim(ctx)
	if l == nil {
		return false, err
	}
	return true, w.deliver(ctx, l, now)
}

// claim claims the delivery due longest, if any, and says when.
func (w *Worker) claim(ctx context.Context) (*store.Lease, time.Time, error) {
	now := w.cfg.Now()
	l, err := w.cfg.Store.Claim(ctx, Queue, now, w.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			w.failing.Failed(w.cfg.Log, "outbox", err)
		}
		return nil, now, err
	}
	w.failing.Succeeded(w.cfg.Log, "outbox")
	return l, now, nil
}

// deliver attempts the delivery claimed (l) at now; the error is the
// store's, if it failed.
func (w *Worker) deliver(ctx context.Context, l *store.Lease, now time.Time) error {
	d, err := DecodeDelivery(l.Data)
	if err != nil {
		w.deadLetter(ctx, l, Delivery{MessageID: l.ID}, "", fmt.Sprintf("unreadable outbox entry: %v", err), now)
		return nil
	}
	return w.attempt(ctx, l, d, now)
}

// attempt is deliver once d, the delivery l holds, is read.
func (w *Worker) attempt(ctx context.Context, l *store.Lease, d Delivery, now time.Time) error {
	route, ok := w.cfg.Routes.Lookup(d.Party)
	switch {
	case !w.cfg.Routes.Configured() && w.keep(ctx, l, d):
		return nil
	case !w.cfg.Routes.Configured():
		w.deadLetter(ctx, l, d, "", fmt.Sprintf("no route to party %s: no routing table is configured (--routes)", d.Party), now)
		return nil
	case !ok:
		w.deadLetter(ctx, l, d, "", fmt.Sprintf("no route to party %s in the routing table", d.Party), now)
		return nil
	}
	expiry := d.CreatedAt.Add(route.PersistDuration)
	if now.After(expiry) {
		w.deadLetter(ctx, l, d, route.URL, fmt.Sprintf("expired: persist duration %s passed (queued %s) after %d attempts%s",
			route.PersistDuration, d.CreatedAt.UTC().Format(time.RFC3339), d.Attempts, lastErr(d)), now)
		return nil
	}

	if d.Attempts > 0 {
		if reason, refused := w.refusal(ctx, d); refused {
			w.deadLetter(ctx, l, d, route.URL, reason, now)
			return nil
		}
	}

	stop := Hold(ctx, w.cfg.Store, l, w.cfg.Lease, w.cfg.Now)
	// The attempt's context names the delivery: its span (and any line
	// logged with it) carries the ids.
	actx := logctx.With(tracing.WithTraceParent(ctx, d.TraceParent), append(d.logAttrs(), slog.Int("attempt", d.Attempts+1))...)
	actx, cancel := context.WithTimeout(actx, w.cfg.Timeout)
	sendErr := send(actx, w.cfg.Client, w.cfg.ReadXML, route.URL, d)
	cancel()
	stop()
	now = w.cfg.Now()

	if sendErr == nil {
		d.Attempts++
		sctx, cancel := storeCtx(ctx)
		defer cancel()
		w.deliveredOwing(sctx, d)
		if err := w.cfg.Store.Complete(sctx, l, store.Finish{}); errors.Is(err, store.ErrLeaseLost) {
			w.leaseLost(sctx, l, &d, "delivered")
			return nil
		} else if err != nil {
			w.logFor(&d).Warn("delivered but the outbox entry could not be removed; it may be sent again", "attempts", d.Attempts, "err", err)
			return err
		}
		if w.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
			w.logFor(&d).Debug("delivered", "attempts", d.Attempts, "url", route.URL)
		}
		w.observe(ResultDelivered)
		w.report(d, ResultDelivered, route.URL)
		return nil
	}
	sctx, cancelStore := storeCtx(ctx)
	defer cancelStore()
	if ctx.Err() != nil { // stopped in mid-attempt: not the receiver's fault, try again at once
		_ = w.cfg.Store.Retry(sctx, l, l.Data, now)
		return nil
	}
	d.Attempts++
	d.LastError = sendErr.Error()
	next := now.Add(route.RetryInterval)
	if isFinal(sendErr) {
		w.deadLetter(ctx, l, d, route.URL, "refused by the receiver: "+sendErr.Error(), now)
		return nil
	}
	// The receiver may have refused it asynchronously meanwhile.
	if reason, refused := w.refusal(sctx, d); refused {
		w.deadLetter(ctx, l, d, route.URL, reason+lastErr(d), now)
		return nil
	}
	switch {
	case d.Attempts > route.Retries:
		w.deadLetter(ctx, l, d, route.URL, fmt.Sprintf("not acknowledged after %d attempts%s", d.Attempts, lastErr(d)), now)
		return nil
	case next.After(expiry):
		w.deadLetter(ctx, l, d, route.URL, fmt.Sprintf("expired: persist duration %s ends before the next retry, after %d attempts%s",
			route.PersistDuration, d.Attempts, lastErr(d)), now)
		return nil
	}
	it, err := d.Item(next)
	if err == nil {
		err = w.cfg.Store.Retry(sctx, l, it.Data, next)
	}
	if errors.Is(err, store.ErrLeaseLost) {
		w.leaseLost(sctx, l, &d, "attempt failed ("+sendErr.Error()+")")
		return nil
	} else if err != nil {
		w.logFor(&d).Warn("delivery attempt failed and could not be rescheduled; the lease will run out and it is retried", "attempts", d.Attempts, "err", err)
		return err
	}
	w.logFor(&d).Warn("delivery attempt failed; will retry", "attempts", d.Attempts, "retries", route.Retries, "next", next.UTC().Format(time.RFC3339), "err", sendErr)
	w.observe(ResultRetry)
	w.report(d, ResultRetry, sendErr.Error())
	return nil
}

// leaseLost logs what became of d, whose lease (l) went during its
// attempt (what the attempt came to): its receiver acknowledged it
// asynchronously, which removed it from the outbox, or its lease ran out
// and another worker took it over, which sends it again.
func (w *Worker) leaseLost(ctx context.Context, l *store.Lease, d *Delivery, attempt string) {
	_, queued, err := w.cfg.Store.Peek(ctx, Queue, l.ID)
	switch {
	case err != nil:
		w.logFor(d).Warn("delivery attempt over, its lease lost meanwhile: acknowledged asynchronously, or taken over by another worker, which sends it again",
			"attempt", attempt, "attempts", d.Attempts, "err", err)
	case queued:
		w.logFor(d).Warn("delivery attempt over, its lease ran out meanwhile: another worker has taken the message over and sends it again",
			"attempt", attempt, "attempts", d.Attempts)
	default:
		w.logFor(d).Info("delivery attempt over, the message acknowledged asynchronously meanwhile: nothing left to send",
			"attempt", attempt, "attempts", d.Attempts)
	}
}

// storeCtx returns a context for recording an outcome: the work context,
// or a short one of its own when that is already cancelled.
func storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// deadLetter removes a leased delivery and records it as a dead letter.
func (w *Worker) deadLetter(ctx context.Context, l *store.Lease, d Delivery, url, reason string, now time.Time) {
	dl := deadLetterOf(d, url, reason, now)
	log := w.cfg.Log.With(d.logArgs()...)
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	if w.cfg.NoteDeadLetter != nil {
		// The lease is held while the note is made, as during an attempt:
		// it may wait (for another release of a dispenser), and another
		// worker must not take the message over meanwhile and send it again.
		stop := Hold(sctx, w.cfg.Store, l, w.cfg.Lease, w.cfg.Now)
		err := w.cfg.NoteDeadLetter(sctx, &dl)
		if err == nil && dl.Owed {
			w.keepOwed(sctx, d)
		}
		stop()
		if err != nil {
			log.Warn("could not move to the dead letters (what it leaves undone could not be noted); tried again when the lease runs out", "reason", reason, "err", err)
			return
		}
		reason = dl.Reason
	}
	err := w.cfg.Store.Complete(sctx, l, dl.Finish())
	acked := dl.Owed && w.acknowledgedMeanwhile(sctx, d, err == nil)
	if err != nil {
		if !acked && !errors.Is(err, store.ErrLeaseLost) {
			log.Warn("could not move to the dead letters; will try again when the lease runs out", "reason", reason, "err", err)
		}
		return
	}
	log.Error("undeliverable: moved to the dead letters", "attempts", d.Attempts, "reason", reason)
	w.observe(ResultDeadLetter)
	w.report(d, ResultDeadLetter, reason)
}

// keep hands a delivery to the Keep hook and removes it from the outbox;
// false when there is no hook or it failed (then it is dead-lettered). A
// keep cut short by a stop (ctx done) is not the message's fault: it is
// left in the outbox, due at once, for the next run.
func (w *Worker) keep(ctx context.Context, l *store.Lease, d Delivery) bool {
	if w.cfg.Keep == nil {
		return false
	}
	log := w.cfg.Log.With(d.logArgs()...)
	err := w.cfg.Keep(ctx, d)
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	if err != nil {
		if ctx.Err() != nil {
			if rerr := w.cfg.Store.Retry(sctx, l, l.Data, w.cfg.Now()); rerr != nil {
				log.Warn("stopped before the message was kept for its party; kept when its lease runs out", "err", rerr)
			}
			return true
		}
		log.Warn("could not keep the message for its party; dead-lettered instead", "err", err)
		return false
	}
	if err := w.cfg.Store.Complete(sctx, l, store.Finish{}); err != nil {
		log.Warn("kept for its party, but the outbox entry could not be removed; it may be kept again", "err", err)
		return true
	}
	log.Info("no routing table: kept for its party (see the admin page)")
	w.observe(ResultKept)
	w.report(d, ResultKept, "no routing table is configured (--routes): kept for party "+d.Party)
	return true
}

// ackMarkTTL is how long the mark of an asynchronous acknowledgment
// (MarkAcknowledged) is kept: far longer than a worker takes to
// dead-letter a delivery once its last attempt is over.
const ackMarkTTL = time.Hour

// ackMarkKey names the store key that marks delivery id acknowledged
// asynchronously (our MessageIds are upper case).
func ackMarkKey(id string) string { return "outbox-acked:" + strings.ToUpper(id) }

// MarkAcknowledged marks d acknowledged by its receiver, asynchronously,
// before its outbox entry is removed for it. A worker may be
// dead-lettering d at that moment, its last attempt failed on its own
// exchange: it notes what d leaves owed (NoteDeadLetter) before it finds
// the entry gone, and reads the mark then (the note and the entry are in
// different places of the store, and cannot go in one step), so that it
// undoes its note (NoteDelivered). Only a delivery that a dead letter
// notes something for (Released, with NoteDelivered set) is marked.
func (w *Worker) MarkAcknowledged(ctx context.Context, d Delivery) error {
	if d.Released == nil || w.cfg.NoteDelivered == nil {
		return nil
	}
	if err := w.cfg.Store.PutReply(ctx, ackMarkKey(d.MessageID), []byte(d.RefToMessageID), ackMarkTTL); err != nil {
		return fmt.Errorf("mark delivery %s acknowledged: %w", d.MessageID, err)
	}
	return nil
}

// owedRecordTTL is how long a delivery dead-lettered with what it
// released noted owed is kept for an asynchronous acknowledgment that
// comes after (AcknowledgedLate).
const owedRecordTTL = 24 * time.Hour

// owedKey names the store key that keeps delivery id, dead-lettered with
// what it released noted owed (keepOwed).
func owedKey(id string) string { return "outbox-owed:" + strings.ToUpper(id) }

// keepOwed keeps d (without its body), whose dead letter notes owed what
// it released, for owedRecordTTL, so that its receiver's asynchronous
// acknowledgment after it went to the dead letters undoes the note
// (AcknowledgedLate). Kept before the dead letter is recorded: a stop in
// between leaves a record of a note that stands, which is all it says.
func (w *Worker) keepOwed(ctx context.Context, d Delivery) {
	if w.cfg.NoteDelivered == nil || d.Released == nil {
		return
	}
	head := d
	head.Body = nil
	b, err := json.Marshal(head)
	if err == nil {
		err = w.cfg.Store.PutReply(ctx, owedKey(d.MessageID), b, owedRecordTTL)
	}
	if err != nil {
		w.logFor(&d).Warn("what it released stays owed even if its receiver acknowledges it after it went to the dead letters: the record of the note could not be kept", "err", err)
	}
}

// deliveredOwing undoes the note (NoteDelivered) of d, delivered, when an
// earlier turn noted what it released owed (keepOwed) but did not record
// its dead letter (the store failed, or the process stopped, in between),
// so that it was sent again, and taken. Only a delivery that releases
// something is looked up.
func (w *Worker) deliveredOwing(ctx context.Context, d Delivery) {
	if w.cfg.NoteDelivered == nil || d.Released == nil {
		return
	}
	_, noted, err := w.cfg.Store.GetReply(ctx, owedKey(d.MessageID))
	if err == nil && noted {
		err = w.cfg.NoteDelivered(ctx, d)
	}
	if err != nil {
		w.logFor(&d).Warn("delivered, but whether an earlier turn noted what it released owed could not be checked, or the note not undone; it may stay owed", "err", err)
	}
}

// AcknowledgedLate handles an asynchronous eb:Acknowledgment, from party,
// of delivery id that is no longer in the outbox. When the delivery went
// to the dead letters with what it released noted owed (keepOwed), and
// was sent to party, its receiver took it after all: the note is undone
// (NoteDelivered) and the delivery reported delivered (Acknowledged); the
// dead letter stays listed, for the record (it is not resent, being owed).
// It reports whether id was such a delivery.
func (w *Worker) AcknowledgedLate(ctx context.Context, id, party string) (bool, error) {
	if w.cfg.NoteDelivered == nil {
		return false, nil
	}
	b, ok, err := w.cfg.Store.GetReply(ctx, owedKey(id))
	if err != nil || !ok {
		return false, err
	}
	var d Delivery
	if err := json.Unmarshal(b, &d); err != nil {
		return false, fmt.Errorf("dead-lettered delivery %s: record unreadable: %w", id, err)
	}
	if d.Party != party || d.Released == nil {
		return false, nil
	}
	w.logFor(&d).Warn("acknowledged asynchronously after it went to the dead letters: what it released is no longer owed; the dead letter is kept for the record, not to be resent",
		"attempts", d.Attempts)
	w.Acknowledged(ctx, d, "asynchronous eb:Acknowledgment from "+party+", after it went to the dead letters")
	return true, nil
}

// refusedKey names the store key that keeps why the receiver of delivery
// id refused it asynchronously (Refused).
func refusedKey(id string) string { return "outbox-refused:" + strings.ToUpper(id) }

// Refused takes a receiver's asynchronous eb:ErrorList (el) about d, a
// delivery in the outbox that was sent to it. When el refuses d for good
// (an error of severity Error other than DeliveryFailure and Unknown, as
// for a refusal on an attempt's own exchange), d is not sent again: the
// worker sends it to the dead letters with the refusal as the reason,
// after the attempt in hand or at its next turn. It reports whether el
// refused d so.
func (w *Worker) Refused(ctx context.Context, d Delivery, el *ebxml.ErrorListError) (bool, error) {
	if errs := el.Refusing(); len(errs) == 0 || retryableErrors(errs) {
		return false, nil
	}
	// The mark names the sending refused (its CreatedAt): an operator's
	// resend of the dead letter, queued afresh, is not held to it.
	mark := d.CreatedAt.UTC().Format(time.RFC3339Nano) + "\n" + el.Error()
	if err := w.cfg.Store.PutReply(ctx, refusedKey(d.MessageID), []byte(mark), owedRecordTTL); err != nil {
		return false, fmt.Errorf("note delivery %s refused: %w", d.MessageID, err)
	}
	return true, nil
}

// refusal returns why d's receiver refused it asynchronously (Refused),
// if it did: this sending of it, queued at d.CreatedAt.
func (w *Worker) refusal(ctx context.Context, d Delivery) (string, bool) {
	b, ok, err := w.cfg.Store.GetReply(ctx, refusedKey(d.MessageID))
	if err != nil {
		w.logFor(&d).Warn("could not tell whether the receiver refused the message asynchronously; it is sent as before", "err", err)
		return "", false
	}
	if !ok {
		return "", false
	}
	sent, reason, _ := strings.Cut(string(b), "\n")
	if at, err := time.Parse(time.RFC3339Nano, sent); err != nil || !at.Equal(d.CreatedAt) {
		return "", false // about an earlier sending of the message
	}
	return "refused by the receiver (asynchronous eb:MessageError): " + reason, true
}

// acknowledgedMeanwhile reports, for d, whose dead letter noted owed what
// it released, whether its receiver acknowledged it asynchronously
// meanwhile (MarkAcknowledged): then the note is undone (NoteDelivered).
// The dead letter was recorded (recorded) when the acknowledgment came
// just after the worker's Complete; else (the entry gone) the
// acknowledgment removed it and reported it delivered.
func (w *Worker) acknowledgedMeanwhile(ctx context.Context, d Delivery, recorded bool) bool {
	if w.cfg.NoteDelivered == nil || d.Released == nil {
		return false
	}
	_, acked, err := w.cfg.Store.GetReply(ctx, ackMarkKey(d.MessageID))
	if err != nil {
		w.logFor(&d).Warn("could not tell whether the message, noted owed as it went to the dead letters, was acknowledged meanwhile; it stays owed",
			"err", err)
		return false
	}
	if !acked {
		return false
	}
	if err := w.cfg.NoteDelivered(ctx, d); err != nil {
		w.logFor(&d).Warn("acknowledged asynchronously as it went to the dead letters, but what it was noted to owe could not be taken back; it stays owed",
			"err", err)
		return false
	}
	if recorded {
		w.logFor(&d).Warn("acknowledged asynchronously just after it went to the dead letters: what it released is no longer owed; the dead letter is kept for the record, not to be resent",
			"attempts", d.Attempts)
		return true
	}
	w.logFor(&d).Info("delivery attempt over, the message acknowledged asynchronously meanwhile: not dead-lettered, and what it released is no longer owed",
		"attempts", d.Attempts)
	return true
}

// Acknowledged tells the worker's hooks (Observe, Report) that d, removed
// from the outbox on its receiver's asynchronous eb:Acknowledgment, was
// delivered; detail says how, as the URL does for one acknowledged on
// its own exchange. What a dead letter of d may have noted owed (a worker
// stopped between its note and its Complete) is no longer owed
// (NoteDelivered).
func (w *Worker) Acknowledged(ctx context.Context, d Delivery, detail string) {
	if w.cfg.NoteDelivered != nil && d.Released != nil {
		if err := w.cfg.NoteDelivered(ctx, d); err != nil {
			w.logFor(&d).Warn("acknowledged asynchronously, but what it would have left owed could not be checked off", "err", err)
		}
	}
	if w.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		w.logFor(&d).Debug("delivered", "attempts", d.Attempts, "acknowledged", detail)
	}
	w.observe(ResultDelivered)
	w.report(d, ResultDelivered, detail)
}

// logFor is the worker's logger with d's ids. A delivery builds it only
// when it logs: one that goes well logs nothing above debug.
func (w *Worker) logFor(d *Delivery) *slog.Logger { return w.cfg.Log.With(d.logArgs()...) }

// report tells the Report hook.
func (w *Worker) report(d Delivery, result, detail string) {
	if w.cfg.Report != nil {
		w.cfg.Report(d, result, detail)
	}
}

// observe reports a result to the Observe hook.
func (w *Worker) observe(result string) {
	if w.cfg.Observe != nil {
		w.cfg.Observe(result)
	}
}

// lastErr formats a delivery's last error for a reason, or "".
func lastErr(d Delivery) string {
	if d.LastError == "" {
		return ""
	}
	return "; last error: " + d.LastError
}
