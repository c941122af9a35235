package cancels

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"

	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/tracing"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// Poller batch sizes.
const (
	// dueBatch is how many due cancellations one Due call leases: one, so
	// that a lease is taken just before its cancellation is worked on. A
	// lease covers one rate-limited EPS query (up to half the lease); the
	// leases of a larger batch ran out while the claims before them were
	// polled, and those claims came back due at once without their polls
	// counted or backed off.
	dueBatch = 1
	// expireBatch is how many expired cancellations one Expire call
	// removes.
	expireBatch = 100
)

// Run is the pending-cancellation poller: every PollInterval it reports
// (and removes) cancellations pending past MaxAge, then leases the ones
// due a poll, asks the EPS tracker about each (at most Rate a second) and
// resolves and answers those that settled, or reschedules the others with
// backoff. Resolved cancellations whose resolver died are answered too.
// It returns when ctx is done; a cancellation it holds then is left to
// its lease, which another replica takes over when it runs out.
func (c *Service) Run(ctx context.Context) {
	t := time.NewTicker(c.opts.PollInterval)
	defer t.Stop()
	lim := newRateLimiter(c.opts.Rate)
	for {
		c.sweep(ctx)
		c.pollDue(ctx, lim)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweep reports every cancellation pending past its expiry: an error log
// line and the expired metric each, and the expired list of the admin view.
func (c *Service) sweep(ctx context.Context) {
	for ctx.Err() == nil {
		gone, err := c.tracker.Expire(ctx, c.now(), expireBatch)
		for _, r := range gone {
			c.m.expired.Inc()
			c.log.Error("pending cancellation expired unresolved: the prescriber got no subsequent cancel response",
				"prescription", r.PrescriptionID, "line_item", r.LineItem, "cancellation_id", r.CancellationID,
				"conversation_id", r.ConversationID, "message_id", r.MessageID, "party", r.SenderPartyID,
				"dispenser", r.DispenserODS, "created", r.Created.UTC().Format(time.RFC3339),
				"polls", r.Attempts, "last_error", r.LastError)
		}
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("expiry sweep of pending cancellations failed", "err", err)
			}
			return
		}
		if len(gone) < expireBatch {
			return
		}
	}
}

// pollDue works through the cancellations due now, a batch at a time.
func (c *Service) pollDue(ctx context.Context, lim *rate.Limiter) {
	for ctx.Err() == nil {
		claims, err := c.tracker.Due(ctx, c.now(), dueBatch)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("pending cancellations due a poll could not be read", "err", err)
			}
			// Claims already leased are retried when their leases run out.
		}
		for _, cl := range claims {
			if ctx.Err() != nil {
				return
			}
			c.work(ctx, lim, cl)
		}
		if err != nil || len(claims) < dueBatch {
			return
		}
	}
}

// work handles one leased cancellation: a resolved one is answered; a
// pending one is looked up in the EPS tracker and resolved or rescheduled.
func (c *Service) work(ctx context.Context, lim *rate.Limiter, cl Claim) {
	log := c.log.With(logArgs(cl.Record)...)
	if cl.State == StateResolved && cl.Outcome != nil {
		log.Info("answering a cancellation resolved by a replica that did not finish")
		c.deliver(ctx, cl)
		return
	}
	claimed := time.Now()
	if err := lim.Wait(ctx); err != nil {
		return
	}
	if time.Since(claimed) > c.opts.Lease/2 {
		if err := c.tracker.Extend(ctx, cl); err != nil {
			log.Info("lease of a pending cancellation lost while waiting to poll", "err", err)
			return
		}
	}
	// The poll goes to EPS under the prescriber's own upstream identity
	// (per-party identities) and its lines carry the exchange's fields.
	// Its EPS spans join the cancel request's trace.
	qctx := tracing.WithTraceParent(upstream.WithParty(ctx, cl.SenderPartyID), cl.TraceParent)
	qctx, cancel := context.WithTimeout(logctx.With(qctx, logAttrs(cl.Record)...), c.opts.Lease/2)
	v, err := c.askTracker(qctx, cl.PrescriptionID)
	cancel()
	if ctx.Err() != nil {
		return // stopping: the lease runs out and another replica polls
	}
	c.m.polls.Inc()
	// A cancellation awaiting its prescription stays pending while EPS
	// does not know the prescription, and ends once EPS lists it: answered
	// if it was carried out, else unanswered.
	notYet := cl.AwaitingPrescription && errors.Is(err, ErrNotInTracker)
	if cl.AwaitingPrescription && err == nil {
		if _, done := v.awaitedCode(cl.LineItem); !done {
			c.endUnanswered(ctx, cl, v)
			return
		}
	}
	code, settled := "", false
	if err == nil {
		var found bool
		code, settled, found = v.itemCode(cl.LineItem)
		if !found {
			err = errors.New("the EPS tracker does not list the line item")
		}
	}
	if notYet {
		err = nil
	}
	if err != nil || !settled {
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		rec, rerr := c.tracker.Reschedule(ctx, cl, c.now(), msg)
		switch {
		case rerr != nil:
			log.Warn("pending cancellation could not be rescheduled; polled again when its lease runs out", "err", rerr)
		case err != nil:
			log.Warn("EPS tracker poll failed; will retry", "attempts", rec.Attempts, "next_poll", rec.NextPoll.Format(time.RFC3339), "err", err)
		default:
			log.Debug("cancellation still pending", "attempts", rec.Attempts, "next_poll", rec.NextPoll.Format(time.RFC3339))
		}
		return
	}
	owner := v.Owner
	if owner == "" {
		owner = cl.DispenserODS
	}
	o := Outcome{Code: code, Source: sourceTracker, DispenserODS: owner, At: c.now().UTC()}
	rc, ok, err := c.tracker.Resolve(ctx, cl.PrescriptionID, cl.LineItem, o, c.now())
	if err != nil {
		log.Warn("settled cancellation could not be resolved; polled again when its lease runs out", "err", err)
		return
	}
	if !ok {
		return // resolved by a dispense notification or return meanwhile
	}
	c.m.resolved.WithLabelValues(sourceTracker).Inc()
	c.deliver(ctx, rc)
}

// endUnanswered ends the tracking of a cancellation that awaited its
// prescription when the EPS tracker lists the prescription without the
// cancellation carried out (the item not cancelled, or not on it): Spine
// sends no Subsequent Cancel Response then, and the cancellation will
// never take effect.
func (c *Service) endUnanswered(ctx context.Context, cl Claim, v TrackerView) {
	log := c.log.With(logArgs(cl.Record)...)
	if err := c.tracker.Complete(ctx, cl); err != nil {
		log.Warn("a cancellation its prescription did not carry out could not be ended; looked at again when its lease runs out", "err", err)
		return
	}
	log.Warn("a cancellation answered not found was not carried out when its prescription came (as Spine, no Subsequent Cancel Response is sent); no longer tracked",
		"prescription_status", v.Status, "item_status", v.Items[cl.LineItem])
}

// newRateLimiter allows perSecond calls a second (at least 1), one at a
// time: no burst, so the EPS tracker sees the poller's queries evenly spaced.
func newRateLimiter(perSecond int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(max(perSecond, 1)), 1)
}
