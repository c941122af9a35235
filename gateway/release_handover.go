package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	v3 "github.com/porxgate/porxgate/v3"
)

// A SOAP answer is delivered by being written in the HTTP response, and a
// process that dies (kill -9, the node lost) between recording EPS's
// release answer and writing it loses it: EPS holds the prescriptions
// with the pharmacy, off its nominations, and a release sent again under
// a new wsa:MessageID was answered that there were none (stranded). Only
// a retry under the same wsa:MessageID, answered from the record, got
// them.
//
// So the prescriptions a SOAP nominated release answer delivers are owed
// to the dispenser (owedSet, handoverMember: tagged with the request's
// wsa:MessageID) before the answer is recorded, and stay owed until the
// answer is handed to the sender: they leave the owed set in the step
// that keeps the answer for a retry under the same wsa:MessageID
// (handover.removals), just before the door writes it, and the handover
// settles. One that is not written (the sender gone, the answer not kept)
// leaves them owed. The dispenser's release
// hold (release_hold.go) is held until then, so no other release of the
// dispenser recovers them meanwhile. If the process dies first, they stay
// owed, and the hold runs out (releaseHoldTTL). Then whichever comes
// first delivers them, once:
//
//   - the pharmacy's next nominated release, under any wsa:MessageID,
//     recovers them as it recovers any owed prescription (the EPS tracker
//     shows them with the dispenser: released again by id);
//   - a retry under the same wsa:MessageID is answered from EPS's recorded
//     answer, less the prescriptions no longer owed under its tag: those
//     another release delivered since. When none is left it is answered
//     as EPS answers a release with nothing (more) to release (0006).

// handover keeps the prescriptions of a SOAP nominated release answer
// owed to their dispenser, and its release hold, until settle.
type handover struct {
	p     *EPSProcessor
	owner string
	tag   string
	ids   []string
	drop  func()
	once  sync.Once
	// unwritten names, by tag, the prescriptions of other requests'
	// answers never handed over (a process died first) that this answer
	// delivers (forgetDelivered).
	unwritten map[string][]string
	// expire settles it (not handed) after handoverLimit.
	expire *time.Timer
}

// handoverTag is the tag of the handoverMembers of a request: its
// wsa:MessageID as sent, which names its exchange in the journal. A retry
// may write it in the other letter case (the door and the outcome record
// read it without regard to case): stillHanded finds the members under
// the tag as the first attempt wrote it.
func handoverTag(in *Inbound) string { return in.MessageID }

// isHandover reports whether in's answer, delivering prescriptions, is
// handed over (a SOAP nominated release outside a shadow run).
func (p *EPSProcessor) isHandover(ctx context.Context, in *Inbound, canon string) bool {
	return p.index != nil && in.Transport == TransportSOAP && canon == v3.NominatedReleaseRequest && !isShadowRun(ctx)
}

// oweHandover writes the prescriptions of h owed to its dispenser under
// in's tag.
func (p *EPSProcessor) oweHandover(ctx context.Context, in *Inbound, h *handover) error {
	if err := p.index.SetAdd(ctx, owedSet(h.owner), nominationTTL, h.members()...); err != nil {
		return fmt.Errorf("%s %s: the prescriptions its answer delivers could not be kept owed to dispenser %s until it is written: %w",
			in.Interaction, in.MessageID, h.owner, err)
	}
	return nil
}

// stillHanded returns, for a replay of in's recorded answer resp (its
// prescriptions owed under in's tag before it was recorded), the answer
// less the prescriptions no longer owed under that tag: another release
// delivered them since (or its answer was handed over). It returns the
// tag too, as the first attempt wrote it: in's wsa:MessageID may differ
// from it in letter case.
func (p *EPSProcessor) stillHanded(ctx context.Context, in *Inbound, owner string, resp *upstream.Response) (*upstream.Response, string, error) {
	tag := handoverTag(in)
	ids := releasedIDs(resp.Body)
	if len(ids) == 0 {
		return resp, tag, nil
	}
	owed, err := p.index.SetMembers(ctx, owedSet(owner))
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: the prescriptions owed to dispenser %s unreadable: %w", in.Interaction, in.MessageID, owner, err)
	}
	left := map[string]bool{}
	for _, m := range owed {
		if sf, _, ok := parseOwed(m); ok && strings.EqualFold(owedTag(m), tag) {
			left[sf] = true
			tag = owedTag(m)
		}
	}
	if len(left) == len(ids) {
		return resp, tag, nil
	}
	doc, err := parseReleaseAnswer(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: recorded answer: %w", in.Interaction, in.MessageID, err)
	}
	body, err := doc.keepPassed(func(sf string) bool { return left[sf] })
	if err != nil {
		return nil, "", fmt.Errorf("%s %s: recorded answer: %w", in.Interaction, in.MessageID, err)
	}
	var gone []string
	for _, sf := range ids {
		if !left[sf] {
			gone = append(gone, sf)
		}
	}
	p.log.Warn("nominated release retried under its wsa:MessageID after its answer was never written: answered without the prescriptions another release delivered since",
		"message_id", in.MessageID, "dispenser", owner, "delivered_since", gone)
	out := *resp
	out.Body = body
	return &out, tag, nil
}

// removals returns, for the door's KeepReply, the owed members of the
// handover: they leave the owed set in the same step as the answer is
// kept for a retry under the same wsa:MessageID, so that a process dying
// between the two leaves them delivered by one of the two, not both.
func (h *handover) removals() []store.SetRemoval {
	if h == nil {
		return nil
	}
	return []store.SetRemoval{{Set: owedSet(h.owner), Members: h.members()}}
}

// members returns the handover's owedSet members.
func (h *handover) members() []string {
	members := make([]string, len(h.ids))
	for i, sf := range h.ids {
		members[i] = handoverMember(sf, h.tag)
	}
	return members
}

// settle ends the handover, once: handed, the sender is given the answer
// and its prescriptions leave those owed; otherwise (the sender had gone,
// the answer could not be written) they stay owed, delivered by the
// dispenser's next nominated release or a retry under the same
// wsa:MessageID. Either way the dispenser's release hold is given up.
func (h *handover) settle(ctx context.Context, handed bool) {
	if h == nil {
		return
	}
	h.expire.Stop()
	h.end(ctx, handed)
}

// end is settle without stopping the expiry (which calls it).
func (h *handover) end(ctx context.Context, handed bool) {
	h.once.Do(func() {
		defer h.drop()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if !handed {
			// Owed again, under the hold: the door's KeepReply, which
			// takes them off, may have been applied though it failed (its
			// reply lost, or the replicas not confirming in time:
			// store.ErrNotReplicated), and the answer was not written.
			if err := h.p.index.SetAdd(sctx, owedSet(h.owner), nominationTTL, h.members()...); err != nil {
				h.p.log.Error("release answer not handed to its sender, and its prescriptions could not be kept owed to the dispenser: if the answer's keeping was applied, they are stranded with the pharmacy",
					"message_id", h.tag, "dispenser", h.owner, "prescriptions", h.ids, "err", err)
			}
			return
		}
		// Taken off with the kept answer already (removals) when the door's
		// store is the processor's, as Run wires them: again here, for one
		// that is not.
		if err := h.p.index.SetRemove(sctx, owedSet(h.owner), h.members()...); err != nil {
			h.p.log.Error("release answer handed to its sender, but its prescriptions not taken off those owed to the dispenser: its next nominated release may deliver them again",
				"message_id", h.tag, "dispenser", h.owner, "prescriptions", h.ids, "err", err)
		}
	})
}

// replayHandover answers a replay of a SOAP nominated release whose
// recorded answer was handed over (recordedAnswer.Handover): under the
// dispenser's release hold, with that answer less what another release
// delivered since (stillHanded), handed over again.
func (p *EPSProcessor) replayHandover(ctx context.Context, in *Inbound, body []byte, resp *upstream.Response) (*upstream.Response, bool, *handover, error) {
	owner := releaseOwner(body)
	hold, err := p.holdDispenser(ctx, owner)
	if err != nil {
		return nil, false, nil, Deferred(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
	}
	drop := hold.drop
	resp, tag, err := p.stillHanded(ctx, in, owner, resp)
	if err != nil {
		drop()
		return nil, false, nil, Deferred(err)
	}
	unwritten := p.forgetDelivered(ctx, body, resp, tag)
	h := p.handoverOf(in, owner, resp, drop)
	if h == nil {
		drop()
		return resp, true, nil, nil
	}
	h.tag, h.unwritten = tag, unwritten
	return resp, true, h, nil
}

// handoverOf returns the handover of the prescriptions an answer's body
// delivers to owner, nil when it delivers none.
func (p *EPSProcessor) handoverOf(in *Inbound, owner string, resp *upstream.Response, drop func()) *handover {
	ids := releasedIDs(resp.Body)
	if len(ids) == 0 || owner == "" {
		return nil
	}
	h := &handover{p: p, owner: strings.ToUpper(owner), tag: handoverTag(in), ids: ids, drop: drop}
	// A caller that never settles it (not the door) does not keep the
	// dispenser's hold renewed for ever: what it delivers stays owed.
	h.expire = time.AfterFunc(handoverLimit, func() { h.end(context.Background(), false) })
	return h
}

// handoverLimit bounds a handover left unsettled: longer than the door
// takes to answer (syncTimeout) and write (the server's write timeout).
const handoverLimit = 2 * time.Minute
