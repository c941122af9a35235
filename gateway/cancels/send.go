package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/v3"
)

// subsequentResponse builds the Subsequent Cancel Response of a resolved
// claim as an outbox item: addressed to the original prescriber (its
// party and route), in the cancel request's conversation, RefToMessageId =
// the cancel request's MessageId, with the MessageId chosen when tracking
// began (so a resend after a crash is a duplicate the prescriber drops).
func (c *Cancellations) subsequentResponse(rec cancels.Record) (outbox.Delivery, error) {
	if rec.Outcome == nil {
		return outbox.Delivery{}, errors.New("the cancellation has no outcome")
	}
	if rec.ResponseID == "" {
		return outbox.Delivery{}, errors.New("the record has no response id")
	}
	var performer *mapping.CancelPerformer
	if o := rec.Outcome; o.DispenserODS != "" && o.DispenserName != "" {
		performer = &mapping.CancelPerformer{ODS: o.DispenserODS, Name: o.DispenserName, Time: o.At}
	}
	now := c.now().UTC()
	env := mapping.Env{Now: now, NewID: func() string { return rec.ResponseID }}
	payload, err := mapping.SubsequentCancelResponse(rec.Request, rec.Outcome.Code, performer,
		mapping.CancelReplyEnds{SenderASID: c.asid, ReceiverASID: rec.SenderASID}, env)
	if err != nil {
		return outbox.Delivery{}, fmt.Errorf("subsequent cancel response: %w", err)
	}
	_, root, err := v3.Parse(payload)
	if err != nil {
		return outbox.Delivery{}, fmt.Errorf("subsequent cancel response: %w", err)
	}
	cpa := rec.CPAID
	if rt, ok := c.routes.Lookup(rec.SenderPartyID); ok && rt.CPAID != "" {
		cpa = rt.CPAID
	}
	addr := outbox.Addressing{
		OurParty: rec.ReceiverPartyID, TheirParty: rec.SenderPartyID, CPAID: cpa,
		ConversationID: rec.ConversationID, RefToMessageID: rec.MessageID,
	}
	d, err := outbox.NewAnswer(addr, root.El.Tag, payload, strings.ToUpper(rec.ResponseID), now)
	d.RequestInteraction, d.TraceParent = requestInteraction(rec), rec.TraceParent
	return d, err
}

// deliver queues the Subsequent Cancel Response of a resolved claim in the
// outbox and then completes the claim. If it stops half way (a crash, a
// store outage) the claim's lease runs out and the poller finds the
// record resolved and delivers it again: the same message, so the
// prescriber's duplicate elimination drops a second copy.
func (c *Cancellations) deliver(ctx context.Context, claim cancels.Claim) {
	log := c.log.With(cancelArgs(claim.Record)...)
	if c.store == nil {
		log.Error("resolved cancellation cannot be answered: no outbox attached (EnableCancellations); retried when its lease runs out")
		return
	}
	d, err := c.subsequentResponse(claim.Record)
	if err != nil {
		c.m.failures.Inc()
		log.Error("resolved cancellation cannot be answered; retried when its lease runs out", "err", err)
		return
	}
	it, err := d.Item(c.now())
	if err == nil {
		err = c.store.Enqueue(ctx, it)
	}
	if err != nil {
		log.Warn("subsequent cancel response not queued; retried when its lease runs out", "err", err)
		return
	}
	c.wake()
	if err := c.tracker.Complete(ctx, claim); err != nil {
		if errors.Is(err, cancels.ErrLeaseLost) {
			log.Warn("subsequent cancel response queued, but another replica took the cancellation over", "delivery_id", d.MessageID)
		} else {
			log.Warn("subsequent cancel response queued, but the cancellation could not be completed; it is queued again (same MessageId) when its lease runs out", "err", err)
		}
		return
	}
	c.m.answered.Inc()
	log.Info("subsequent cancel response queued", "delivery_id", d.MessageID, "delivery_interaction", d.Interaction,
		"code", claim.Outcome.Code, "source", claim.Outcome.Source)
}
