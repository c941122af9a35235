package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	v3 "github.com/porxgate/porxgate/v3"
)

// A replay gives the first answer. Processing is at least once (a crash,
// a store failure, a lease takeover, a SOAP retry all run a message
// again), and EPS is not idempotent: a prescription sent twice is refused
// the second time as a duplicate, a nominated release repeated releases
// nothing. So the EPS processor
//
//   - records EPS's answer to each message durably (OutcomeLog, keyed by
//     transport, interaction and MessageId) before it acts on it, and on
//     a replay answers from the record without calling EPS again;
//   - records, before calling EPS, that it is about to send the message;
//   - where the answer is missing (it could not be stored, or the process
//     died first) but the message was sent before, and EPS now refuses the
//     prescription as DUPLICATE_PRESCRIPTION_ID, asks EPS
//     what it holds under that prescription id (the tracker, GET
//     Task?focus:identifier=) and, when it is what porxgate sent (same
//     short-form id, same line items — random UUIDs porxgate's sender
//     chose), answers as EPS answered the first time: accepted. The same
//     prescription sent again under a new MessageId is still refused, as
//     Spine refuses it. Dispense notifications, claims, returns,
//     withdrawals and cancellations refused as already done are confirmed
//     the same way (processor_replay_confirm.go).

// OutcomeLog keeps EPS's answers for replays (store.Store satisfies it).
type OutcomeLog interface {
	// PutReply keeps body under key for ttl.
	PutReply(ctx context.Context, key string, body []byte, ttl time.Duration) error
	// GetReply returns what is kept under key, and whether there is one.
	GetReply(ctx context.Context, key string) ([]byte, bool, error)
}

// DefaultOutcomeTTL is how long EPS's answer to a message is kept for
// replays: longer than any message stays in the inbox in practice (its
// processing retries back off to 15 minutes each).
const DefaultOutcomeTTL = 24 * time.Hour

// recordedAnswer is EPS's answer as kept in the OutcomeLog.
type recordedAnswer struct {
	// Status 0 records an attempt: the message was about to be sent, and
	// EPS's answer is not known.
	Status int    `json:"status"`
	Body   []byte `json:"body"`
	// Confirmed: EPS refused the message sent again and porxgate
	// confirmed through the tracker that the first sending had taken
	// effect; the answer is the one that sending would have had.
	Confirmed bool `json:"confirmed,omitempty"`
	// At is when the attempt was recorded (status 0): a state EPS reached
	// before it was not reached by this message.
	At time.Time `json:"at,omitzero"`
	// From is the message's sender (senderOf): the record answers a
	// replay from that sender only. Empty in records written before it
	// was kept, which are taken as they were.
	From string `json:"from,omitempty"`
	// Handover: the prescriptions the answer delivers were owed to the
	// dispenser under the request's tag before it was recorded
	// (release_handover.go); a replay delivers those still owed so.
	Handover bool `json:"handover,omitempty"`
}

// senderOf is the sender a record of EPS's answer belongs to: the
// eb:From party of an ebXML message, the sender ASID of a SOAP one, else
// its client certificate (FromCert; "" without one: anyone's).
func senderOf(in *Inbound) string {
	if in.FromParty != "" {
		return strings.ToUpper(in.FromParty)
	}
	if in.FromASID != "" {
		return in.FromASID
	}
	return in.FromCert
}

// checkRecordSender refuses, permanently, a message whose MessageId has a
// record of EPS's answer kept for another sender: the record (kept far
// longer than a door remembers a MessageId) must never answer another
// sender — it may hold released prescriptions — and a sender never reuses
// another's MessageId, so the message is not one to send to EPS either.
func checkRecordSender(in *Inbound, rec recordedAnswer) error {
	if rec.From == "" || rec.From == senderOf(in) {
		return nil
	}
	return Permanent(fmt.Errorf("%s %s: this MessageId was used by another sender: refused, EPS not asked; send the message again under a new MessageId",
		in.Interaction, in.MessageID))
}

// WithOutcomeLog makes p record EPS's answers in l for ttl (0:
// DefaultOutcomeTTL) and answer replays from the record. Without it every
// replay calls EPS again (duplicate confirmation still applies).
func (p *EPSProcessor) WithOutcomeLog(l OutcomeLog, ttl time.Duration) *EPSProcessor {
	if ttl <= 0 {
		ttl = DefaultOutcomeTTL
	}
	p.outcomes, p.outcomeTTL = l, ttl
	if ix, ok := l.(ReleaseIndex); ok {
		p.index = ix // release_recovery.go
	}
	if h, ok := l.(ReleaseHolds); ok {
		p.holds = h // release_hold.go
	}
	return p
}

// outcomeKey names the record of EPS's answer to in.
func outcomeKey(in *Inbound, canon string) string {
	return "eps-outcome:" + string(in.Transport) + ":" + canon + ":" + strings.ToUpper(in.MessageID)
}

// upstreamAnswer returns EPS's answer to in: the recorded one on a replay,
// else a fresh call's, recorded before it is returned. A call that fails
// returns its error unrecorded (nothing happened that a replay must
// repeat); an answer that cannot be recorded is an error too, so that it
// is not acted on before it is durable.
//
// The answer to a SOAP nominated release that delivers prescriptions
// comes with its handover (release_handover.go), which the caller
// settles once the answer is handed to the sender (or is not); nil
// otherwise.
func (p *EPSProcessor) upstreamAnswer(ctx context.Context, in *Inbound, canon string, op operation, body []byte) (*upstream.Response, bool, *handover, error) {
	key := outcomeKey(in, canon)
	sentBefore, noted := false, false
	attemptAt := p.now().UTC()
	handing := p.isHandover(ctx, in, canon)
	if p.outcomes != nil {
		b, ok, n, err := p.beginAttempt(ctx, in, key, canon, body, attemptAt)
		if err != nil {
			return nil, false, nil, err
		}
		noted = n
		if ok {
			var rec recordedAnswer
			readable := json.Unmarshal(b, &rec) == nil
			if readable {
				if err := checkRecordSender(in, rec); err != nil {
					return nil, false, nil, err
				}
			}
			if readable && rec.Status != 0 {
				return p.answerRecorded(ctx, in, canon, op, body, rec, handing)
			}
			sentBefore, attemptAt = true, rec.At
		}
	}
	// hold is the dispenser's release hold, given up on return unless a
	// handover takes it (drop set to nil).
	var hold *releaseHold
	drop := func() { hold.drop() }
	defer func() {
		if drop != nil {
			drop()
		}
	}()
	if op == opRelease {
		// Until what this release delivers is off the index, no other
		// release of the dispenser may recover it (release_hold.go).
		var err error
		if hold, err = p.holdDispenser(ctx, releaseOwner(body)); err != nil {
			return nil, false, nil, Deferred(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
		}
		if sentBefore && hold != nil {
			// Another processing of this message (a worker that stalled
			// past its inbox lease) may have recorded EPS's answer while
			// this one waited for the hold; EPS releases nothing twice, so
			// that answer is this one's.
			rec, found, err := p.recordedAfterWait(ctx, in, key)
			if err != nil {
				return nil, false, nil, err
			}
			if found {
				drop = nil
				hold.drop() // a handover's replay takes it again
				return p.answerRecorded(ctx, in, canon, op, body, rec, handing)
			}
		}
	}
	if sentBefore && canon == v3.NominatedReleaseRequest {
		// EPS may have released prescriptions whose answer never came back;
		// those porxgate submitted are recovered below, others cannot be
		// found (EPS offers no search by dispenser): say so.
		p.log.Warn("nominated release sent again after an attempt whose answer is unknown: prescriptions EPS released then and porxgate did not submit cannot be recovered",
			"interaction", in.Interaction, "message_id", in.MessageID, "from_party", in.FromParty)
	}
	if isPrescriptionOrder(canon) && !noted {
		p.noteNomination(ctx, body) // before EPS can release it
	}
	callAt := p.now()
	// No attempt starts once the dispenser's hold is lost (a retry then
	// would release under no hold): the message is tried again later.
	resp, err := p.call(upstream.StopRetriesOn(ctx, hold.lostSignal()), op, body)
	if errors.Is(err, upstream.ErrRetriesStopped) {
		return nil, false, nil, Deferred(fmt.Errorf("%s %s: the release hold of dispenser %s was lost while EPS was retried: %w",
			in.Interaction, in.MessageID, releaseOwner(body), err))
	}
	if err != nil {
		return nil, false, nil, &callError{err}
	}
	if unreadableAnswer(canon, resp) {
		// EPS acted, but what it released or how the cancellation stands
		// cannot be told: record nothing, try again later — the replay
		// finds out (release recovery, cancel confirmation).
		return nil, false, nil, Deferred(fmt.Errorf("%s %s: EPS answered %d with a body that cannot be read (request %s)",
			in.Interaction, in.MessageID, resp.Status, resp.RequestID))
	}
	if notFHIRRefusal(resp) {
		// A proxy or gateway in front of EPS refused the call: not EPS's
		// verdict on the message. Nothing recorded; an ordinary failure,
		// retried and counted, so a lasting one still ends as a dead letter.
		return nil, false, nil, fmt.Errorf("%s %s: %d answer without a FHIR resource (not from EPS itself?), request %s: %.200q",
			in.Interaction, in.MessageID, resp.Status, resp.RequestID, resp.Body)
	}
	noOwed := false // the dispenser's owed set read, and empty (recoverRelease)
	if canon == v3.NominatedReleaseRequest && p.index != nil && !hold.held() {
		// Another release of the dispenser may have delivered some of
		// what EPS released meanwhile (release_hold_lapse.go).
		if resp, err = p.answerAfterLostHold(ctx, hold, in, body, resp, callAt); err != nil {
			return nil, false, nil, err
		}
	}
	if canon == v3.NominatedReleaseRequest {
		// An earlier attempt may have released prescriptions whose answer
		// was lost: recover them into this answer, and those an earlier
		// recovery could not (release_recovery.go).
		resp, noOwed = p.recoverRelease(ctx, hold, body, resp, attemptAt, sentBefore || resp.Attempts > 1)
	}
	rec := recordedAnswer{Status: resp.Status, Body: resp.Body, From: senderOf(in)}
	// An earlier sending may have taken effect: porxgate's own (recorded
	// attempt) or the upstream client's (a retry after a lost answer).
	if confirm := p.replayConfirmation(sentBefore || resp.Attempts > 1, canon, resp); confirm != nil {
		first, cerr := confirm(ctx, body, resp, attemptAt)
		switch {
		case cerr != nil:
			// Not known either way: never answer a false rejection; try later.
			return nil, false, nil, Deferred(fmt.Errorf("%s %s: EPS refused a replay (%d) and what it holds could not be checked: %w", in.Interaction, in.MessageID, resp.Status, cerr))
		case first != nil:
			p.log.Info("EPS refused a replayed message whose first sending it had applied: answered as the first sending was",
				"interaction", in.Interaction, "message_id", in.MessageID, "upstream_status", resp.Status, "answer_status", first.Status)
			p.countReplay(canon, replayConfirmed)
			resp = first
			rec = recordedAnswer{Status: resp.Status, Body: resp.Body, Confirmed: true, From: senderOf(in)}
		default:
			p.countReplay(canon, replayRefused)
		}
	}
	var h *handover
	if handing && p.outcomes != nil {
		// Owed until handed to the sender, before it is recorded: a
		// process that dies before it writes the answer leaves them owed.
		if h = p.handoverOf(in, releaseOwner(body), resp, drop); h != nil {
			drop = nil // the handover holds the dispenser until it settles
			if err := p.oweHandover(ctx, in, h); err != nil {
				h.settle(ctx, false)
				return nil, false, nil, Deferred(err)
			}
			rec.Handover = true
		}
	}
	tag := ""
	if h != nil {
		tag = h.tag
	}
	var unwritten map[string][]string
	switch {
	case p.outcomes != nil && op == opRelease:
		// Recorded, and what it delivers off the index, in one step.
		unwritten, err = p.recordDelivered(ctx, key, rec, body, resp, tag, noOwed)
	case p.outcomes != nil:
		err = p.record(ctx, key, rec)
	case op == opRelease:
		unwritten = p.forgetDelivered(ctx, body, resp, tag)
	}
	if err != nil {
		h.settle(ctx, false) // unanswered: what it released stays owed
		return nil, false, nil, Deferred(fmt.Errorf("%s %s: EPS answered %d but the answer could not be recorded: %w", in.Interaction, in.MessageID, resp.Status, err))
	}
	if h != nil {
		h.unwritten = unwritten
	}
	if isPrescriptionOrder(canon) && !sentBefore && resp.Attempts <= 1 && resp.Status >= 400 && resp.Status < 500 &&
		!isDuplicateRefusal(resp) && !isDuplicateMessage(resp) {
		// Refused at its only sending: EPS does not hold it, so it can
		// never be released; its nomination leaves the index. (Refused as
		// a duplicate, or as a message EPS took already, EPS may hold it.)
		p.forgetNomination(ctx, body)
	}
	return resp, false, h, nil
}

// answerRecorded answers in, a replay, from rec, EPS's recorded answer.
func (p *EPSProcessor) answerRecorded(ctx context.Context, in *Inbound, canon string, op operation, body []byte, rec recordedAnswer, handing bool) (*upstream.Response, bool, *handover, error) {
	p.countReplay(canon, replayRecorded)
	resp := &upstream.Response{Status: rec.Status, Body: rec.Body}
	if handing && rec.Handover {
		return p.replayHandover(ctx, in, body, resp)
	}
	if op == opRelease {
		// The first processing may have stopped between the record and
		// this: what the answer delivers leaves the index, or a later
		// recovery would deliver it again.
		p.forgetDelivered(ctx, body, resp, "")
	}
	return resp, true, nil, nil
}

// recordedAfterWait reads EPS's answer to in again (under key), once a
// release has waited for its dispenser's hold after seeing only an
// attempt recorded: found when another processing of in recorded it
// meanwhile.
func (p *EPSProcessor) recordedAfterWait(ctx context.Context, in *Inbound, key string) (recordedAnswer, bool, error) {
	b, ok, err := p.outcomes.GetReply(ctx, key)
	if err != nil {
		return recordedAnswer{}, false, Deferred(fmt.Errorf("%s %s: recorded EPS answer unreadable (store unavailable): %w", in.Interaction, in.MessageID, err))
	}
	var rec recordedAnswer
	if !ok || json.Unmarshal(b, &rec) != nil || rec.Status == 0 {
		return recordedAnswer{}, false, nil
	}
	if err := checkRecordSender(in, rec); err != nil {
		return recordedAnswer{}, false, err
	}
	return rec, true, nil
}

// AttemptLog is an OutcomeLog that reads the record under a key and,
// when there is none, records the attempt and indexes the prescription's
// nomination in one atomic step: one round trip to the store instead of
// three (store.Memory and store.Redis satisfy it).
type AttemptLog interface {
	ReserveReply(ctx context.Context, key string, body []byte, ttl time.Duration, adds ...store.SetAddition) ([]byte, bool, error)
}

// beginAttempt returns what the outcome log holds under key (found true),
// and otherwise records the attempt at at. With an AttemptLog that is one
// step, which also indexes a prescription's nomination (noted true: the
// first attempt noted it, so a replay does not again); otherwise a read,
// then a write.
func (p *EPSProcessor) beginAttempt(ctx context.Context, in *Inbound, key, canon string, body []byte, at time.Time) (kept []byte, found, noted bool, err error) {
	if al, ok := p.outcomes.(AttemptLog); ok {
		attempt, err := json.Marshal(recordedAnswer{At: at, From: senderOf(in)})
		if err != nil {
			return nil, false, false, fmt.Errorf("encode EPS attempt: %w", err)
		}
		var adds []store.SetAddition
		if p.index != nil && isPrescriptionOrder(canon) {
			if a, ok := nominationAddition(body); ok {
				adds = append(adds, a)
			}
		}
		kept, found, err = al.ReserveReply(ctx, key, attempt, p.outcomeTTL, adds...)
		if err != nil {
			return nil, false, false, Deferred(fmt.Errorf("%s %s: attempt could not be recorded (store unavailable): %w", in.Interaction, in.MessageID, err))
		}
		return kept, found, true, nil
	}
	kept, found, err = p.outcomes.GetReply(ctx, key)
	if err != nil {
		return nil, false, false, Deferred(fmt.Errorf("%s %s: recorded EPS answer unreadable (store unavailable): %w", in.Interaction, in.MessageID, err))
	}
	if found {
		return kept, true, false, nil
	}
	if err := p.record(ctx, key, recordedAnswer{At: at, From: senderOf(in)}); err != nil {
		return nil, false, false, Deferred(fmt.Errorf("%s %s: attempt could not be recorded (store unavailable): %w", in.Interaction, in.MessageID, err))
	}
	return nil, false, false, nil
}

// record keeps rec under key in the outcome log.
func (p *EPSProcessor) record(ctx context.Context, key string, rec recordedAnswer) error {
	return p.recordFor(ctx, key, rec, p.outcomeTTL)
}

// recordFor keeps rec under key in the outcome log for ttl.
func (p *EPSProcessor) recordFor(ctx context.Context, key string, rec recordedAnswer, ttl time.Duration) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode EPS answer: %w", err)
	}
	return p.outcomes.PutReply(ctx, key, b, ttl)
}

// DeadLetteredOutcomeTTL is how long EPS's answer is kept for a message
// that goes to the dead letters after EPS applied it (a release or
// cancellation whose answer porxgate cannot write): a resend after a fix,
// however long the fix takes to deploy, answers from it, since asking EPS
// again releases nothing a second time.
const DeadLetteredOutcomeTTL = 90 * 24 * time.Hour

// keepForResend keeps EPS's 2xx answer to a message that fails
// permanently for DeadLetteredOutcomeTTL. It is logged, not returned, when
// it cannot be kept: the message goes to the dead letters either way, its
// error naming what EPS did.
func (p *EPSProcessor) keepForResend(ctx context.Context, in *Inbound, canon string, resp *upstream.Response) {
	if p.outcomes == nil || resp.Status/100 != 2 {
		return
	}
	if err := p.recordFor(ctx, outcomeKey(in, canon), recordedAnswer{Status: resp.Status, Body: resp.Body, From: senderOf(in)}, DeadLetteredOutcomeTTL); err != nil {
		p.log.With(inboundArgs(in)...).Warn("EPS's answer to a message going to the dead letters could not be kept for its resend; a resend after the outcome log's TTL asks EPS again", "err", err)
	}
}

// callError marks the failure of the upstream call itself (EPS
// unreachable, failing, its breaker open), as against a failure to
// record or check its answer.
type callError struct{ err error }

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// replayConfirmation returns how to check that EPS already holds what a
// refused replay would have done, or nil when the refusal stands. It
// applies after a sending whose outcome is unknown (mayHaveApplied) to: a
// prescription refused as DUPLICATE_PRESCRIPTION_ID, a dispense
// notification refused (already dispensed, invalid transition), and a
// claim, return, withdrawal or cancellation refused as already done
// (processor_replay_confirm.go); and to each of them refused as a message
// EPS took already (202 Duplicate HL7 ID Error: the same message sent
// again, which is how EPS answers a replay of one it applied).
func (p *EPSProcessor) replayConfirmation(mayHaveApplied bool, canon string, resp *upstream.Response) confirmFunc {
	switch {
	case !mayHaveApplied || resp.Status < 400 || resp.Status >= 500:
		return nil
	case isPrescriptionOrder(canon) && (isDuplicateRefusal(resp) || isDuplicateMessage(resp)):
		return accepted(p.confirmDuplicate)
	case canon == v3.DispenseNotification:
		return accepted(p.confirmDispensed)
	case operations[canon] == opClaim && refusedAs(resp, codeInvalidStateTransition, codeAmendMismatch, codeDuplicateHL7ID):
		return p.confirmClaimed
	case canon == v3.DispenseProposalReturn && refusedAs(resp, codeInvalidStateTransition, codeWithAnotherDispenser, codePrescriptionCancelled, codeDuplicateHL7ID):
		return p.confirmReturned
	case canon == v3.DispenserWithdraw && refusedAs(resp, codeInvalidStateTransition, codeAmendMismatch, codeDuplicateHL7ID):
		return p.confirmWithdrawn
	case canon == v3.CancelRequest && isDuplicateMessage(resp):
		return p.confirmCancelResent
	case canon == v3.CancelRequest:
		return p.confirmCancelled
	}
	return nil
}

// isPrescriptionOrder reports the interactions that create a prescription.
func isPrescriptionOrder(canon string) bool {
	return canon == v3.ParentPrescription || canon == v3.ParentPrescriptionNonUrgent
}

// isDuplicateMessage reports EPS's refusal of a message it took already
// (the same HL7 message id: Bundle, Claim or Task identifier): Spine's
// acknowledgement code 202, Duplicate HL7 ID Error, which the EPS API
// passes on as a Spine-ErrorOrWarningCode coding under HTTP 400.
func isDuplicateMessage(resp *upstream.Response) bool {
	return refusedAs(resp, codeDuplicateHL7ID)
}

// isDuplicateRefusal reports EPS's DUPLICATE_PRESCRIPTION_ID refusal.
func isDuplicateRefusal(resp *upstream.Response) bool {
	return refusedAs(resp, "DUPLICATE_PRESCRIPTION_ID")
}

// confirmedOutcome is the answer recorded for a confirmed replay: the
// informational OperationOutcome EPS gives an accepted message.
func confirmedOutcome() []byte {
	return []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational",` +
		`"diagnostics":"EPS had already applied this message as porxgate sent it (confirmed through the tracker)"}]}`)
}

// sentPrescription is what identifies a prescription porxgate sent.
type sentPrescription struct {
	ShortFormID string
	Items       []string // line item ids, upper case, sorted
}

// sentPrescriptionOf reads the short-form id and line items of a
// prescription-order Bundle porxgate built.
func sentPrescriptionOf(bundleJSON []byte) (sentPrescription, error) {
	b, err := fhir.ParseBundle(bundleJSON)
	if err != nil {
		return sentPrescription{}, fmt.Errorf("prescription sent: %w", err)
	}
	return sentPrescriptionIn(b)
}

// sentPrescriptionIn is sentPrescriptionOf over a Bundle already decoded.
func sentPrescriptionIn(b *fhir.Bundle) (sentPrescription, error) {
	var sp sentPrescription
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		if mr.GroupIdentifier != nil && mr.GroupIdentifier.System == fhir.SystemShortFormID {
			sp.ShortFormID = strings.ToUpper(mr.GroupIdentifier.Value)
		}
		for _, id := range mr.Identifier {
			if id.System == fhir.SystemLineItemID {
				sp.Items = append(sp.Items, strings.ToUpper(id.Value))
			}
		}
	}
	if sp.ShortFormID == "" || len(sp.Items) == 0 {
		return sentPrescription{}, errors.New("prescription sent: no short-form id or line items")
	}
	slices.Sort(sp.Items)
	return sp, nil
}

// confirmDuplicate asks EPS's tracker what it holds under the short-form
// id of the prescription in bundleJSON and reports whether it is that
// prescription: the same line items. An error means it could not be told.
func (p *EPSProcessor) confirmDuplicate(ctx context.Context, bundleJSON []byte) (bool, error) {
	sp, err := sentPrescriptionOf(bundleJSON)
	if err != nil {
		return false, err
	}
	view, err := p.trackerView(ctx, sp.ShortFormID)
	if errors.Is(err, cancels.ErrNotInTracker) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	held := make([]string, 0, len(view.Items))
	for id := range view.Items {
		held = append(held, strings.ToUpper(id))
	}
	slices.Sort(held)
	return slices.Equal(held, sp.Items), nil
}

// sentDispense reads a dispense-notification Bundle porxgate built: the
// short-form id and each line item's dispense status (medicationdispense-type).
func sentDispense(bundleJSON []byte) (string, map[string]string, error) {
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string                `json:"resourceType"`
				Type         *fhir.CodeableConcept `json:"type"`
				Contained    []json.RawMessage     `json:"contained"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		return "", nil, fmt.Errorf("dispense notification sent: %w", err)
	}
	shortForm, items := "", map[string]string{}
	for _, e := range b.Entry {
		if e.Resource.ResourceType != "MedicationDispense" {
			continue
		}
		st := ""
		if c := fhir.FindCoding(e.Resource.Type, fhir.CodeSystemMedicationDispenseType); c != nil {
			st = c.Code
		}
		for _, raw := range e.Resource.Contained {
			var mr fhir.MedicationRequest
			if json.Unmarshal(raw, &mr) != nil || mr.GroupIdentifier == nil {
				continue
			}
			for _, id := range mr.Identifier {
				if id.System == fhir.SystemLineItemID && st != "" {
					items[strings.ToUpper(id.Value)] = st
					shortForm = strings.ToUpper(mr.GroupIdentifier.Value)
				}
			}
		}
	}
	if shortForm == "" || len(items) == 0 {
		return "", nil, errors.New("dispense notification sent: no prescription or line items")
	}
	return shortForm, items, nil
}

// confirmDispensed asks the EPS tracker whether every line item of the
// dispense notification in bundleJSON already has the status it sets.
func (p *EPSProcessor) confirmDispensed(ctx context.Context, bundleJSON []byte) (bool, error) {
	shortForm, items, err := sentDispense(bundleJSON)
	if err != nil {
		return false, err
	}
	view, err := p.trackerView(ctx, shortForm)
	if errors.Is(err, cancels.ErrNotInTracker) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for id, st := range items {
		if view.Items[id] != st {
			return false, nil
		}
	}
	return true, nil
}

// trackerView asks the EPS tracker about one prescription.
func (p *EPSProcessor) trackerView(ctx context.Context, shortForm string) (cancels.TrackerView, error) {
	tr, ok := p.api.(cancels.TrackerAPI)
	if !ok {
		return cancels.TrackerView{}, errors.New("the EPS API has no tracker to ask")
	}
	resp, err := tr.TrackerGet(ctx, url.Values{"focus:identifier": {fhir.SystemShortFormID + "|" + shortForm}})
	if err != nil {
		return cancels.TrackerView{}, fmt.Errorf("EPS tracker %s: %w", shortForm, err)
	}
	if resp.Status != http.StatusOK {
		return cancels.TrackerView{}, fmt.Errorf("EPS tracker %s: answered %d", shortForm, resp.Status)
	}
	return cancels.ParseTrackerAnswer(resp.Body, shortForm)
}
