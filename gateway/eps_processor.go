package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	ackmap "github.com/porxgate/porxgate/mapping/ack"
	"github.com/porxgate/porxgate/mapping/cancel"
	claimmap "github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	dispensemap "github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/release"
	taskmap "github.com/porxgate/porxgate/mapping/task"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSAPI is what the EPS processor calls upstream: the EPS FHIR client's
// operations (gateway/upstream.Client satisfies it).
type EPSAPI interface {
	ProcessMessage(ctx context.Context, bundleJSON []byte) (*upstream.Response, error)
	Release(ctx context.Context, parametersJSON []byte) (*upstream.Response, error)
	PostTask(ctx context.Context, taskJSON []byte) (*upstream.Response, error)
	PostClaim(ctx context.Context, claimJSON []byte) (*upstream.Response, error)
}

// operation names the EPS FHIR call an interaction goes to.
type operation string

const (
	opProcessMessage operation = "process-message"
	opRelease        operation = "release"
	opTask           operation = "task"
	opClaim          operation = "claim"
)

// operations maps each supported interaction (UK family) to its upstream
// call. The Dispense Reimbursement Claim, Dispense No Claim Notification and
// Rebuild Dispense History have no EPS FHIR operation (their porxgate
// Bundles are no Claim EPS takes): they are not supported, so the door
// refuses them (NotSupported) rather than EPS refusing them as invalid.
var operations = map[string]operation{
	v3.ParentPrescription:          opProcessMessage,
	v3.ParentPrescriptionNonUrgent: opProcessMessage,
	v3.CancelRequest:               opProcessMessage,
	v3.DispenseNotification:        opProcessMessage,
	v3.PatientReleaseRequest:       opRelease,
	v3.NominatedReleaseRequest:     opRelease,
	v3.DispenseProposalReturn:      opTask,
	v3.DispenserWithdraw:           opTask,
	v3.DispenseClaimInformation:    opClaim,
}

// EPSProcessor runs legacy messages through the mappings and the EPS FHIR
// API: v3 → FHIR, the upstream call, and the answer back to v3 (an MCCI
// acknowledgement, a Cancel Response, a release response or rejection).
type EPSProcessor struct {
	reg   *mapping.Registry
	api   EPSAPI
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	// asid is porxgate's own ASID when it answers as Spine.
	asid string
	// cancels tracks and resolves pending cancellations (cancel_wiring.go);
	// nil: pending cancellations are only logged.
	cancels *cancels.Service
	// guardRefusals counts prescriptions the signature guard kept back
	// (signature_guard.go).
	guardRefusals prometheus.Counter
	// unwrittenReleased counts released prescriptions left out of a
	// release response because they cannot be written as v3
	// (oweUnwritten).
	unwrittenReleased prometheus.Counter
	// outcomes records EPS's answers for replays (processor_replay.go);
	// nil: none are recorded.
	outcomes   OutcomeLog
	outcomeTTL time.Duration
	// index keeps nominations for release recovery (release_recovery.go).
	index ReleaseIndex
	// holds serialises the releases of one dispenser (release_hold.go);
	// nil: not serialised.
	holds ReleaseHolds
	// holdTTL is how long a release hold lasts unrenewed (0:
	// releaseHoldTTL).
	holdTTL time.Duration
	// metrics counts replays and release recoveries (replay_metrics.go).
	metrics replayMetrics
	// scratch lends the translations memory for their v3 trees, reused
	// from message to message (core.Env.Scratch).
	scratch *v3.Scratch
}

// NewEPSProcessor returns a processor over the given registry and EPS API.
// now and newID may be nil for time.Now and random UUIDs.
func NewEPSProcessor(reg *mapping.Registry, api EPSAPI, now func() time.Time, newID func() string, log *slog.Logger) *EPSProcessor {
	if now == nil {
		now = time.Now
	}
	if newID == nil {
		newID = ids.NewUUID
	}
	return &EPSProcessor{reg: reg, api: api, now: now, newID: newID, log: log, asid: core.DefaultReceiverASID,
		guardRefusals: newGuardRefusals(), unwrittenReleased: newUnwrittenReleased(), metrics: newReplayMetrics(), scratch: v3.NewScratch()}
}

// Supports implements Processor: an interaction with a translator and an
// upstream operation.
func (p *EPSProcessor) Supports(interaction string) bool {
	canon, _, err := v3.Canonical(interaction)
	if err != nil {
		return false
	}
	_, ok := operations[canon]
	return ok && p.reg.ByInteraction(canon) != nil && p.answerer(canon) != nil
}

// Process implements Processor.
func (p *EPSProcessor) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	canon, fam, err := v3.Canonical(in.Interaction)
	if err != nil {
		return nil, Permanent(fmt.Errorf("interaction %q: %w", in.Interaction, err))
	}
	t := p.reg.ByInteraction(canon)
	op, ok := operations[canon]
	if t == nil || !ok {
		return nil, Permanent(fmt.Errorf("interaction %s: not supported", in.Interaction))
	}
	env := mapping.Env{Now: p.now().UTC(), NewID: p.newID, Family: fam, Scratch: p.scratch}
	body, meta, err := t.ToFHIR(in.Payload, env)
	if err != nil {
		// The message cannot be read: the sender gets a business rejection
		// naming the element path, as Spine answers a message it cannot process.
		return p.rejectUnreadable(in, canon, "message cannot be mapped", err, env)
	}
	if err := epsCannotTake(op, canon, in.Interaction, body); err != nil {
		return p.rejectUnreadable(in, canon, "message refused: the EPS FHIR API cannot take it", err, env)
	}
	if isPrescription(canon) {
		if err := checkSignature(in.Payload, body, env); err != nil {
			return p.refuseSignature(in, canon, meta, err, env)
		}
	}
	ctx = upstream.WithCorrelationID(ctx, in.MessageID)
	if meta.Agent != nil {
		ctx = upstream.WithSessionURID(ctx, meta.Agent.RoleProfileID)
	}
	if op == opClaim {
		if body, err = p.withClaimPatient(ctx, body); err != nil {
			return nil, Deferred(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
		}
	}
	resp, replayed, h, err := p.upstreamAnswer(ctx, in, canon, op, body)
	if err != nil {
		var ce *callError
		if !errors.As(err, &ce) {
			return nil, err // the answer could not be recorded or checked: try again later
		}
		err = ce.err
		if in.Transport == TransportSOAP {
			code, retryable := core.SyncFaultCode(err)
			f := fault(code, spineFaultDescription(code, retryable))
			f.Err = err
			return &Outcome{Fault: f}, nil
		}
		// EPS unreachable, failing with 5xx after the client's retries, or its
		// breaker open: the upstream is at fault, not the message, so it
		// waits in the store without using up its attempts.
		return nil, Deferred(fmt.Errorf("%s %s upstream %s: %w", in.Interaction, in.MessageID, op, err))
	}
	answer, err := p.answerFor(ctx, in, canon, body, meta, resp, env)
	if err != nil {
		h.settle(ctx, false) // not to be written: what it released stays owed
		if IsPermanent(err) {
			p.keepForResend(ctx, in, canon, resp)
		}
		return nil, err
	}
	if canon == v3.NominatedReleaseRequest {
		answer.Released = releasedTo(body, resp)
		answer.handover = h
	}
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.DebugContext(ctx, "message processed", "operation", string(op), "upstream_status", resp.Status, "answer", answer.Interaction, "replayed", replayed)
	}
	return p.deliver(in, answer), nil
}

// epsCannotTake says why EPS cannot take a return, withdraw, claim,
// dispense notification or release request the MIM allows (its translation
// fails on it with HTTP 500 every time), nil when it can: such a message is
// refused at once, not retried until the poison rule takes it.
func epsCannotTake(op operation, canon, interaction string, body []byte) error {
	switch {
	case op == opTask:
		return taskmap.EPSCannotTake(interaction, body)
	case op == opClaim:
		return claimmap.EPSCannotTake(interaction, body)
	case op == opRelease:
		return release.EPSCannotTake(interaction, body)
	case canon == v3.DispenseNotification:
		return dispensemap.EPSCannotTake(interaction, body)
	}
	return nil
}

// deliver places the answer where the transport wants it.
func (p *EPSProcessor) deliver(in *Inbound, a Answer) *Outcome {
	if in.Transport == TransportSOAP {
		return &Outcome{Reply: &a}
	}
	return &Outcome{Answers: []Answer{a}}
}

func (p *EPSProcessor) call(ctx context.Context, op operation, body []byte) (*upstream.Response, error) {
	switch op {
	case opProcessMessage:
		return p.api.ProcessMessage(ctx, body)
	case opRelease:
		return p.api.Release(ctx, body)
	case opTask:
		return p.api.PostTask(ctx, body)
	case opClaim:
		return p.api.PostClaim(ctx, body)
	}
	return nil, fmt.Errorf("unknown operation %q", op)
}

// answerFunc turns EPS's answer into the v3 answer for the legacy side.
type answerFunc func(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, error)

// answerer chooses how an interaction's answer is made; nil when none is
// available yet.
func (p *EPSProcessor) answerer(canon string) answerFunc {
	switch canon {
	case v3.CancelRequest:
		return p.cancelAnswer
	case v3.PatientReleaseRequest, v3.NominatedReleaseRequest:
		return p.releaseAnswer
	}
	return p.ackAnswer
}

// ackAnswer answers with an MCCI acknowledgement: AA on success, AE/AR with
// EPS's codes mapped to Spine's otherwise.
func (p *EPSProcessor) ackAnswer(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, error) {
	oo, err := outcomeOf(resp)
	if err != nil {
		return Answer{}, err
	}
	ack, _, err := ackmap.AckFromOutcome(oo, resp.Status, ackmap.AckRequest{
		RequestID: meta.MessageID, Interaction: canon, SenderASID: p.asid, ReceiverASID: meta.SenderASID,
	}, env)
	if err != nil {
		return Answer{}, err
	}
	b, err := ackmap.BuildAckWith(env.Scratch, ack)
	if err != nil {
		return Answer{}, err
	}
	return Answer{Interaction: v3.ApplicationAcknowledgement, Payload: b}, nil
}

// unwrittenAnswer answers a release or cancellation whose EPS answer
// porxgate could not write as the v3 answer it stands for (what; err says
// why). An OperationOutcome (one that carries only acknowledgement codes,
// which a release response or Cancel Response cannot say) gets its MCCI
// acknowledgement; another answer under a non-2xx status gives err back.
// A 2xx Parameters or Bundle means EPS applied the release or
// cancellation: its MCCI would be an AA in place of the prescriptions
// released or the cancellation's outcome, so it is a permanent failure,
// never that AA.
func (p *EPSProcessor) unwrittenAnswer(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env, what string, err error) (Answer, error) {
	if oo, oerr := outcomeOf(resp); oerr == nil && oo != nil {
		if ack, ackErr := p.ackAnswer(in, canon, meta, resp, env); ackErr == nil {
			return ack, nil
		}
	}
	if resp.Status/100 != 2 {
		return Answer{}, err
	}
	return Answer{}, Permanent(fmt.Errorf("%s %s: EPS's answer (HTTP %d) cannot be written as the %s: %w",
		in.Interaction, in.MessageID, resp.Status, what, err))
}

// cancelAnswer answers a Cancel Request with a Cancel Response; an answer
// that only carries acknowledgement codes (e.g. a duplicate) gets an MCCI AR.
func (p *EPSProcessor) cancelAnswer(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, error) {
	a, outcome, err := p.cancelReply(in, canon, meta, resp, env)
	if err == nil && outcome != nil && outcome.Pending && p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.With(inboundArgs(in)...).Debug("cancellation pending with dispenser",
			"prescription", outcome.Request.PrescriptionID, "line_item", outcome.Request.LineItemID, "dispenser", outcome.DispenserODS, "code", outcome.FHIRCode)
	}
	return a, err
}

// cancelReply makes the Cancel Response (labelled in the request's own
// family, as CancelResponseFromEPS writes it) and says what EPS answered;
// the outcome is nil when the answer is an MCCI acknowledgement instead.
func (p *EPSProcessor) cancelReply(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, *cancel.CancelOutcome, error) {
	b, outcome, err := cancel.CancelResponseFromEPS(in.Payload, resp.Body, resp.Status,
		cancel.CancelReplyEnds{SenderASID: p.asid, ReceiverASID: meta.SenderASID}, env)
	if err != nil {
		a, err := p.unwrittenAnswer(in, canon, meta, resp, env, "Cancel Response", err)
		return a, nil, err
	}
	fam := env.Family
	if _, f, err := v3.Canonical(outcome.Request.Interaction); err == nil {
		fam = f
	}
	return Answer{Interaction: v3.InFamily(v3.CancelResponse, fam), Payload: b}, &outcome, nil
}

// releaseAnswer answers a release request with the release response
// (each prescription a full, still verifiable ParentPrescription) or a
// Prescription Release Rejection with EPS's reason mapped to Spine's; an
// answer that only carries acknowledgement codes gets an MCCI AR.
func (p *EPSProcessor) releaseAnswer(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, error) {
	a, _, err := p.releaseReply(in, canon, meta, resp, env)
	return a, err
}

// releaseReply is releaseAnswer that also says what EPS answered; the
// outcome is nil when the answer is an MCCI acknowledgement instead.
func (p *EPSProcessor) releaseReply(in *Inbound, canon string, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, *release.ReleaseOutcome, error) {
	b, outcome, err := release.ReleaseAnswerFromEPS(in.Payload, resp.Body, resp.Status,
		release.ReleaseReplyEnds{SenderASID: p.asid, ReceiverASID: meta.SenderASID}, env)
	if err != nil {
		a, err := p.unwrittenAnswer(in, canon, meta, resp, env, "release response; the prescriptions EPS released to the dispenser ["+
			strings.Join(releasedIDs(resp.Body), " ")+"] stay with it until the message is resent or they are returned", err)
		return a, nil, err
	}
	if p.log.Enabled(context.Background(), slog.LevelDebug) { // the fields cost as much as the line: not built for nothing
		p.log.With(inboundArgs(in)...).Debug("release answered", "answer", outcome.Interaction,
			"released", outcome.Released, "withheld", outcome.Withheld, "with_dispenser", outcome.DispenserODS)
	}
	return Answer{Interaction: outcome.Interaction, Payload: b}, &outcome, nil
}

// newUnwrittenReleased returns the counter of released prescriptions left
// out of a release response because they cannot be written as v3
// (oweUnwritten).
func newUnwrittenReleased() prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porxgate_release_unwritten_total",
		Help: "Prescriptions EPS released that porxgate could not write as v3, left out of the release response sent to the dispenser (logged at error level with the reason; a nominated release's are owed to the dispenser's next one).",
	})
}

// oweUnwritten keeps in sight the prescriptions EPS released that the
// release response leaves out because porxgate could not write them as v3
// (release.ReleaseOutcome.Unwritten): EPS holds them as with the
// dispenser, which has not seen them. They are counted and logged at
// error level with the reason, for an operator; the short-form ids of a
// nominated release are owed to the dispenser (owedSet, as an undelivered
// response's are), so that its next nominated release asks EPS for them
// again and delivers them once porxgate can write them.
func (p *EPSProcessor) oweUnwritten(ctx context.Context, in *Inbound, canon string, outcome *release.ReleaseOutcome) {
	p.unwrittenReleased.Add(float64(len(outcome.Unwritten)))
	owner := outcome.Request.OwnerODS
	ids, reasons := make([]string, 0, len(outcome.Unwritten)), make([]string, 0, len(outcome.Unwritten))
	owed := make([]string, 0, len(outcome.Unwritten))
	for _, u := range outcome.Unwritten {
		ids = append(ids, u.ShortFormID)
		reasons = append(reasons, u.Err.Error())
		if u.ShortFormID != "" {
			// upper case, as the index holds it (sentPrescriptionIn)
			owed = append(owed, owedMember(candidate{sf: strings.ToUpper(u.ShortFormID), since: undeliveredSince}))
		}
	}
	log := p.log.With(inboundArgs(in)...)
	kept := "not owed (no release index): an operator must give the dispenser their prescription ids, by which it downloads them (patient release)"
	if canon == v3.NominatedReleaseRequest && p.index != nil && owner != "" && len(owed) > 0 {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.index.SetAdd(sctx, owedSet(owner), nominationTTL, owed...); err != nil {
			log.Error("prescriptions left out of the release response could not be owed to the dispenser", "dispenser", owner, "prescriptions", ids, "err", err)
		} else {
			kept = "owed to the dispenser: its next nominated release asks EPS for them again"
		}
	}
	log.Error("release response leaves out prescriptions EPS released to the dispenser: porxgate cannot write them as v3; EPS holds them as with the dispenser, "+kept,
		"dispenser", owner, "prescriptions", ids, "reasons", reasons, "delivered", outcome.Released)
}

// rejectUnreadable answers a payload porxgate cannot map, or one EPS
// cannot take, with an MCCI rejection naming the element path; over SOAP,
// a non-retryable fault. why is the warning logged.
func (p *EPSProcessor) rejectUnreadable(in *Inbound, canon, why string, mapErr error, env mapping.Env) (*Outcome, error) {
	p.log.With(inboundArgs(in)...).Warn(why, "err", mapErr)
	var ve *v3.Error
	path := ""
	if errors.As(mapErr, &ve) {
		path = ve.Path
	}
	oo := &fhir.OperationOutcome{Issue: []fhir.Issue{{
		Severity: "error", Code: "value",
		Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{
			System: fhir.CodeSystemSpineErrorOrWarning, Code: "INVALID_VALUE", Display: "Invalid value"}}},
		Diagnostics: mapErr.Error(),
	}}}
	if path != "" {
		oo.Issue[0].Expression = []string{path}
	}
	if canon == v3.CancelRequest {
		return p.refuseCancel(in, oo, mapErr, env)
	}
	requestID, senderASID := requestIDOf(in.Payload)
	if requestID == "" {
		return nil, Permanent(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, mapErr))
	}
	ack, _, err := ackmap.AckFromOutcome(oo, 400, ackmap.AckRequest{RequestID: requestID, Interaction: canon, SenderASID: p.asid, ReceiverASID: senderASID}, env)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s %s: %w (and no rejection could be made: %v)", in.Interaction, in.MessageID, mapErr, err))
	}
	b, err := ackmap.BuildAckWith(env.Scratch, ack)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s %s: %w (and no rejection could be built: %v)", in.Interaction, in.MessageID, mapErr, err))
	}
	return p.deliver(in, Answer{Interaction: v3.ApplicationAcknowledgement, Payload: b}), nil
}

// refuseCancel answers a Cancel Request porxgate cannot map, or that EPS
// cannot take, as Spine answers a cancellation it cannot process: with a
// Cancel Response, AE, 5000 "Unable to process message. Information
// missing or invalid - " and the element path and problem (oo, as
// rejectUnreadable words it; cancel.CancelRefusal). Over ebXML the message
// still goes to the dead letters (the cancellation never reached EPS: an
// operator sees it there), its sender told by that Cancel Response in
// place of the MessageError; over SOAP the Cancel Response is the reply. A
// request too broken to repeat in a Cancel Response (no patient, author,
// prescription id or cancellation id) gets the MessageError as before.
func (p *EPSProcessor) refuseCancel(in *Inbound, oo *fhir.OperationOutcome, mapErr error, env mapping.Env) (*Outcome, error) {
	failed := fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, mapErr)
	_, senderASID := requestIDOf(in.Payload)
	b, err := cancel.CancelRefusal(in.Payload, oo, cancel.CancelReplyEnds{SenderASID: p.asid, ReceiverASID: senderASID}, env)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%w (and no Cancel Response could be made: %v)", failed, err))
	}
	fam := env.Family
	if _, f, err := v3.Canonical(in.Interaction); err == nil {
		fam = f
	}
	a := Answer{Interaction: v3.InFamily(v3.CancelResponse, fam), Payload: b}
	if in.Transport == TransportSOAP {
		return p.deliver(in, a), nil
	}
	return nil, PermanentTold(failed, a)
}

// requestIDOf reads the transmission id and the sender's ASID of a v3
// payload, "" where unreadable. The sender's ASID is the device id under
// the ASID root, as Spine reads it (the device may carry other ids first);
// a wrapper that names none, or two, gives the device's first id.
func requestIDOf(payload []byte) (id, senderASID string) {
	_, root, err := v3.Parse(payload)
	if err != nil {
		return "", ""
	}
	w, _ := v3.ReadWrapper(root)
	if senderASID = w.SenderASID; senderASID == "" {
		senderASID = root.Opt("communicationFunctionSnd").Opt("device").Opt("id").OptAttr("extension")
	}
	return root.Opt("id").OptAttr("root"), senderASID
}

// outcomeOf decodes an OperationOutcome answer; a 2xx answer of another
// resource type gives nil.
func outcomeOf(resp *upstream.Response) (*fhir.OperationOutcome, error) {
	if len(resp.Body) == 0 {
		if resp.Status >= 300 {
			return nil, fmt.Errorf("EPS answered %d with no body", resp.Status)
		}
		return nil, nil
	}
	res, err := fhir.DecodeResource(resp.Body)
	if err != nil {
		if resp.Status >= 300 {
			return nil, fmt.Errorf("EPS answered %d with an unreadable body: %w", resp.Status, err)
		}
		return nil, nil
	}
	oo, _ := res.(*fhir.OperationOutcome)
	if oo == nil && resp.Status >= 300 {
		return nil, fmt.Errorf("EPS answered %d with a %s, not an OperationOutcome", resp.Status, res.GetResourceType())
	}
	return oo, nil
}

// unreadableAnswer reports a 2xx answer that is not a FHIR resource to an
// interaction whose v3 answer is made from that body (a release, a
// cancellation): acting on it would answer an MCCI AA in place of the
// release response or the Cancel Response.
func unreadableAnswer(canon string, resp *upstream.Response) bool {
	if resp.Status < 200 || resp.Status >= 300 {
		return false
	}
	switch canon {
	case v3.CancelRequest, v3.PatientReleaseRequest, v3.NominatedReleaseRequest:
	default:
		return false
	}
	return !looksLikeResource(resp.Body)
}

// looksLikeResource is a cheap test that body can be read as a FHIR
// resource: well-formed JSON (a body cut short or garbled is not) that
// names a resourceType. The answer's mapping decodes the body next, so
// decoding it here too would double the cost of a release: for the 40 KB
// sandbox release response this check takes about 25 µs, a full decode
// about 275 µs.
func looksLikeResource(body []byte) bool {
	return gojson.Valid(body) && bytes.Contains(body, []byte(`"resourceType"`))
}

// notFHIRRefusal reports a 4xx answer whose body is not a FHIR resource:
// EPS refuses with an OperationOutcome (or, to a cancellation, a Bundle),
// so an HTML page or another JSON comes from something in front of it (a
// web proxy, the API gateway: a wrong path, a firewall rule). An empty
// body is left to the answer mappings, which read it as a refusal without
// details.
func notFHIRRefusal(resp *upstream.Response) bool {
	if resp.Status < 400 || len(resp.Body) == 0 {
		return false
	}
	_, err := fhir.DecodeResource(resp.Body)
	return err != nil
}

// spineFaultDescription words a sync fault as Spine does.
func spineFaultDescription(code string, retryable bool) string {
	if retryable {
		return "System failure to process message - please retry (" + code + ")"
	}
	return "Message could not be processed (" + code + ")"
}
