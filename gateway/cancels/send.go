package cancels

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/cancel"
	v3 "github.com/porxgate/porxgate/v3"
)

// Queue takes the Subsequent Cancel Responses durably (the gateway's
// store.Store satisfies it).
type Queue interface {
	// Enqueue adds items to their queues.
	Enqueue(ctx context.Context, items ...store.Item) error
}

// Routes says where a party's messages go (*outbox.Routes satisfies it).
type Routes interface {
	// Lookup returns party's route, if one is configured.
	Lookup(party string) (outbox.Route, bool)
}

// Outbox is where a Service queues its Subsequent Cancel Responses: the
// gateway's outbox queue, its routes and its delivery worker.
type Outbox struct {
	// Queue takes the deliveries.
	Queue Queue
	// Routes gives a party's configured CPAId (nil: the cancel request's).
	Routes Routes
	// Wake tells the delivery worker a delivery is queued (nil: nothing).
	Wake func()
}

// Attach gives the service the outbox it answers through and the
// registry its metrics are counted on (nil: counted, not registered).
func (c *Service) Attach(out Outbox, reg prometheus.Registerer) {
	c.out = out
	if out.Wake != nil {
		c.wake = out.Wake
	}
	if reg != nil {
		c.m = newMetrics(reg)
		_ = reg.Register(newStatsCollector(c))
	}
}

// subsequentResponse builds the Subsequent Cancel Response of a resolved
// claim as an outbox item: addressed to the original prescriber (its
// party and route), in the cancel request's conversation, RefToMessageId =
// the cancel request's MessageId, with the MessageId chosen when tracking
// began (so a resend after a crash is a duplicate the prescriber drops).
func (c *Service) subsequentResponse(rec Record) (outbox.Delivery, error) {
	if rec.Outcome == nil {
		return outbox.Delivery{}, errors.New("the cancellation has no outcome")
	}
	if rec.ResponseID == "" {
		return outbox.Delivery{}, errors.New("the record has no response id")
	}
	var performer *cancel.CancelPerformer
	if o := rec.Outcome; o.DispenserODS != "" && o.DispenserName != "" {
		performer = &cancel.CancelPerformer{ODS: o.DispenserODS, Name: o.DispenserName, Time: o.At}
	}
	now := c.now().UTC()
	env := mapping.Env{Now: now, NewID: func() string { return rec.ResponseID }}
	payload, err := cancel.SubsequentCancelResponse(rec.Request, rec.Outcome.Code, performer,
		cancel.CancelReplyEnds{SenderASID: c.asid, ReceiverASID: rec.SenderASID}, env)
	if err != nil {
		return outbox.Delivery{}, fmt.Errorf("subsequent cancel response: %w", err)
	}
	_, root, err := v3.Parse(payload)
	if err != nil {
		return outbox.Delivery{}, fmt.Errorf("subsequent cancel response: %w", err)
	}
	cpa := rec.CPAID
	if c.out.Routes != nil {
		if rt, ok := c.out.Routes.Lookup(rec.SenderPartyID); ok && rt.CPAID != "" {
			cpa = rt.CPAID
		}
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
func (c *Service) deliver(ctx context.Context, claim Claim) {
	log := c.log.With(logArgs(claim.Record)...)
	if claim.Outcome != nil && claim.Outcome.Code == "" {
		// Nothing is owed (sourceSuperseded): a replica that resolved it
		// stopped before it completed it.
		if err := c.tracker.Complete(ctx, claim); err != nil {
			log.Warn("a superseded cancellation could not be ended; ended when its lease runs out", "err", err)
		}
		return
	}
	if deathCarriedOut(claim.Record) {
		// Spine carries out a pending Notification of Death cancellation
		// without a Subsequent Cancel Response (common.py
		// apply_all_cancellations, is_death).
		if err := c.tracker.Complete(ctx, claim); err != nil {
			log.Warn("a cancellation for the patient's death, carried out, could not be ended; ended when its lease runs out", "err", err)
			return
		}
		log.Info("cancellation for the patient's death carried out: as from Spine, no Subsequent Cancel Response is sent", "source", claim.Outcome.Source)
		return
	}
	if c.out.Queue == nil {
		log.Error("resolved cancellation cannot be answered: no outbox attached (Attach); retried when its lease runs out")
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
		err = c.out.Queue.Enqueue(ctx, it)
	}
	if err != nil {
		log.Warn("subsequent cancel response not queued; retried when its lease runs out", "err", err)
		return
	}
	c.wake()
	if err := c.tracker.Complete(ctx, claim); err != nil {
		if errors.Is(err, ErrLeaseLost) {
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

// deathCarriedOut reports whether rec is a cancellation for the patient's
// death (a reason 0007, Notification of Death) that was carried out
// (resolved 0001): Spine applies such a pending cancellation and sends no
// Subsequent Cancel Response for it (eps-spine-shared common.py,
// apply_all_cancellations skips is_death), as it sends none for one that
// awaited its prescription (FollowedUp). One that was not carried out (the
// item dispensed, not dispensed, expired) is answered as any other.
func deathCarriedOut(rec Record) bool {
	if rec.Outcome == nil || rec.Outcome.Code != cancelCodeCancelled {
		return false
	}
	info, err := cancel.ReadCancelRequestInfo(rec.Request)
	return err == nil && slices.Contains(info.ReasonCodes, reasonNotificationOfDeath)
}
