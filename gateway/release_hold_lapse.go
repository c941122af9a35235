package gateway

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway/upstream"
)

// A hold lost while EPS answers. A nominated release holds its dispenser
// from before it asks EPS until what EPS's answer delivers is off the
// index (release_hold.go). When the hold is lost while EPS answers (the
// gateway cut off from Redis, or Redis hung, past the hold's ttl),
// another release of the dispenser may have taken the hold meanwhile and
// its recovery found the prescriptions EPS released in this answer
// nominated and with the dispenser, released them again by id and
// delivered them: this answer, recorded and written as if the hold had
// been held throughout, delivered them a second time.
//
// So every recovery that delivers prescriptions it released again notes
// them, under its hold and before its answer is recorded, in the
// dispenser's recoveredSet; and a nominated release that finds its hold
// lost once EPS has answered takes the hold again (waiting for the other
// release, as at the start) and leaves out of EPS's answer the
// prescriptions a recovery delivered since it called EPS. What it leaves
// out went out once, in the other release's answer; the rest goes out in
// its own, under the hold again. When the hold cannot be taken again
// (the store still unreachable after releaseHoldWait), EPS's answer is
// not recorded: the message waits to be processed again
// (SOAP: a retryable fault), and its replay, an attempt of it recorded,
// recovers what EPS released as for any answer that was lost.

// recoveredSet names the set of the prescriptions recoveries of the
// dispenser ods delivered lately: recoveredMember's
// "<short-form id>@<unix milliseconds>".
func recoveredSet(ods string) string { return "release-recovered:" + strings.ToUpper(ods) }

// recoveredTTL is how long a recovery's note stays: far longer than a
// release waits for EPS (its call's total timeout) and hands its answer
// over (handoverLimit).
const recoveredTTL = time.Hour

// recoveredMember is the recoveredSet member of sf, recovered at at.
func recoveredMember(sf string, at time.Time) string {
	return sf + "@" + strconv.FormatInt(at.UnixMilli(), 10)
}

// parseRecovered reads a recoveredSet member; false when it is not one.
func parseRecovered(m string) (string, time.Time, bool) {
	sf, at, ok := strings.Cut(m, "@")
	ms, err := strconv.ParseInt(at, 10, 64)
	if !ok || sf == "" || err != nil {
		return "", time.Time{}, false
	}
	return sf, time.UnixMilli(ms).UTC(), true
}

// noteRecovered notes, in owner's recoveredSet, the prescriptions sfs a
// recovery of owner's releases is about to deliver.
func (p *EPSProcessor) noteRecovered(ctx context.Context, owner string, sfs []string) error {
	now := p.now()
	members := make([]string, len(sfs))
	for i, sf := range sfs {
		members[i] = recoveredMember(sf, now)
	}
	if err := p.index.SetAdd(ctx, recoveredSet(owner), recoveredTTL, members...); err != nil {
		return fmt.Errorf("the prescriptions a release recovery of dispenser %s delivers not noted: %w", owner, err)
	}
	return nil
}

// retakeWithin takes hold again (retake), trying again while the store
// fails (the gateway still cut off from it) until wait has passed: what
// EPS released is answered once the store is back, rather than left
// unrecorded for the message's replay.
func retakeWithin(ctx context.Context, hold *releaseHold, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, time.Second) {
		err := hold.retake(ctx)
		if err == nil || time.Now().Add(pause).After(deadline) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// answerAfterLostHold is EPS's answer resp to the nominated release in
// (requestJSON, EPS called at callAt) whose dispenser's hold was lost
// while EPS answered: the hold taken again, and the answer less the
// prescriptions a recovery delivered since callAt (less replayClockSkew:
// the recovery ran on another replica's clock). An error, Deferred, when
// the hold cannot be taken again or the notes read: the answer is not
// recorded.
func (p *EPSProcessor) answerAfterLostHold(ctx context.Context, hold *releaseHold, in *Inbound, requestJSON []byte, resp *upstream.Response, callAt time.Time) (*upstream.Response, error) {
	owner := releaseOwner(requestJSON)
	ids := releasedIDs(resp.Body)
	if err := retakeWithin(ctx, hold, releaseHoldWait); err != nil {
		p.log.Error("the dispenser's release hold was lost while EPS answered and could not be taken again: EPS's answer is not recorded; the message's replay recovers what it released",
			"message_id", in.MessageID, "dispenser", owner, "released", ids, "err", err)
		return nil, Deferred(fmt.Errorf("%s %s: the release hold of dispenser %s was lost while EPS answered: %w", in.Interaction, in.MessageID, owner, err))
	}
	if len(ids) == 0 {
		return resp, nil
	}
	members, err := p.index.SetMembers(ctx, recoveredSet(owner))
	if err != nil {
		return nil, Deferred(fmt.Errorf("%s %s: the release hold of dispenser %s was lost while EPS answered, and what recoveries delivered meanwhile is unreadable: %w",
			in.Interaction, in.MessageID, owner, err))
	}
	released := make(map[string]bool, len(ids))
	for _, sf := range ids {
		released[sf] = true
	}
	from, expired := callAt.Add(-replayClockSkew), p.now().Add(-recoveredTTL)
	gone := map[string]bool{}
	var old []string
	for _, m := range members {
		sf, at, ok := parseRecovered(m)
		switch {
		case !ok || at.Before(expired):
			old = append(old, m)
		case released[sf] && !at.Before(from):
			gone[sf] = true
		}
	}
	if len(old) > 0 {
		if err := p.index.SetRemove(ctx, recoveredSet(owner), old...); err != nil {
			p.log.Warn("old notes of release recoveries not removed", "dispenser", owner, "err", err)
		}
	}
	if len(gone) == 0 {
		p.log.Warn("the dispenser's release hold was lost while EPS answered and is taken again: no other release delivered what EPS released meanwhile",
			"message_id", in.MessageID, "dispenser", owner)
		return resp, nil
	}
	doc, err := parseReleaseAnswer(resp.Body)
	if err != nil {
		return nil, Deferred(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
	}
	body, err := doc.keepPassed(func(sf string) bool { return !gone[sf] })
	if err != nil {
		return nil, Deferred(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
	}
	delivered := make([]string, 0, len(gone))
	for _, sf := range ids {
		if gone[sf] {
			delivered = append(delivered, sf)
		}
	}
	p.log.Warn("the dispenser's release hold was lost while EPS answered: the prescriptions another release's recovery delivered meanwhile are left out of this answer",
		"message_id", in.MessageID, "dispenser", owner, "delivered_elsewhere", delivered)
	out := *resp
	out.Body = body
	return &out, nil
}

// oweRecovered owes to owner (owedSet) the candidates of todo a recovery
// recovered (outcomes) and then could not deliver, those not owed
// already (owedAt).
func (p *EPSProcessor) oweRecovered(ctx context.Context, owner string, todo []candidate, outcomes []candidateOutcome, owedAt map[string][]string) {
	var owed []string
	for i, c := range todo {
		if outcomes[i].result == candidateRecovered && len(owedAt[c.sf]) == 0 {
			owed = append(owed, owedMember(c))
		}
	}
	if len(owed) == 0 {
		return
	}
	if err := p.index.SetAdd(ctx, owedSet(owner), nominationTTL, owed...); err != nil {
		p.log.Error("prescriptions a release recovery released again and could not deliver could not be kept for the dispenser's next release", "dispenser", owner, "err", err)
	}
}
