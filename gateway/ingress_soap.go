package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/tracing"
	v3 "github.com/porxgate/porxgate/v3"
)

// PathSOAP is the SOAP sync front door of the medicines-management
// service, as on Spine.
const PathSOAP = "/syncservice-mm/mm"

// syncTimeout bounds the processing of one SOAP sync request (the
// server's write timeout is 60s).
const syncTimeout = 55 * time.Second

// keptReply is a SOAP sync answer kept for duplicates of its request.
type keptReply struct {
	Status int    `json:"status"`
	Body   []byte `json:"body"`
	// Sender is the sender of the request answered (soapSender): only a
	// duplicate from the same sender is given the answer again. Empty: a
	// request with no sender to tell (no ASID, no client certificate), or
	// kept before the sender was.
	Sender string `json:"sender,omitempty"`
}

// soapSender is who sent a SOAP request, for what is kept of it: its
// sender ASID, else (none sent) its client certificate (certIdentity),
// else "" (no one to tell apart). Before, a request without an ASID was
// no one's: another system over its own certificate, reusing the
// wsa:MessageID, was given the first one's kept answer (a release
// response with its patients' prescriptions).
func soapSender(asid string, cs *tls.ConnectionState) string {
	if asid != "" {
		return asid
	}
	return certIdentity(cs)
}

// certIdentity names the client certificate of cs: "cert:" and the
// SHA-256 of the leaf certificate; "" without one.
func certIdentity(cs *tls.ConnectionState) string {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
	return "cert:" + hex.EncodeToString(sum[:])
}

// soapRequest handles POST /syncservice-mm/mm: it reads the WS-Addressing
// envelope, runs the payload through the Processor and answers in the same
// HTTP response: HTTP 200 with the reply payload and wsa:RelatesTo, or
// HTTP 500 with a Spine-style SOAP fault. A duplicate wsa:MessageID within
// the persist duration gets the first request's answer again without
// being processed again; one from another sender ASID is refused.
func (s *Server) soapRequest(c *fiber.Ctx) error {
	g := s.msg
	now := g.now()
	span := g.startExchange(c, TransportSOAP)
	defer span.End()
	if ct := c.Get(fiber.HeaderContentType); !isSOAPContentType(ct) {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeMalformed, "Content-Type "+ct+" is not a SOAP envelope's (text/xml)"),
			g.log.With("transport", TransportSOAP), nil)
	}
	body, berr := frontBody(c, g.cfg.MaxBodyBytes)
	if berr != nil {
		return g.refuseSOAP(c, berr.fault(), g.log.With("transport", TransportSOAP), nil)
	}
	// The whole envelope passes the bounded readability check first: no
	// DTD, valid UTF-8, nesting within maxXMLDepth (payload_check.go).
	if _, err := checkXMLDocument(body); err != nil {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeNotWellFormed, "The message is not well formed: "+err.Error()), g.log.With("transport", TransportSOAP), err)
	}
	msg, err := ebxml.ParseSOAPRequest(body)
	if err != nil {
		var f *ebxml.SOAPFault
		if !errors.As(err, &f) {
			f = fault(ebxml.TMSCodeMalformed, err.Error())
		}
		return g.refuseSOAP(c, f, g.log.With("transport", TransportSOAP), err)
	}
	c.Locals(soapMessageLocal, msg) // for the journal of a refusal
	interaction := msg.Interaction()
	front := &Inbound{Transport: TransportSOAP, MessageID: msg.MessageUUID(), Interaction: interaction, FromASID: msg.SenderASID,
		TraceParent: tracing.TraceParent(c.UserContext())}
	c.SetUserContext(withCorrelation(c.UserContext(), front))
	log := inboundLog(g.log, front)
	sender := soapSender(msg.SenderASID, c.Context().TLSConnectionState())
	if err := g.claimBound(msg.SenderASID, c.Context().TLSConnectionState()); err != nil {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeMalformed, fmt.Sprintf("%d:the client certificate is not one bound to the sender ASID %s",
			NumSenderCertificate, msg.SenderASID)), log, err)
	}
	if err := checkHL7Root(msg.PayloadName); err != nil {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeMalformed, err.Error()), log, err)
	}
	if !g.proc.Supports(interaction) {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeMalformed, "interaction "+interaction+" is not supported"), log, nil)
	}
	if msg.PayloadName.Local != interaction {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeMalformed, fmt.Sprintf("%d:the payload is %s, not the interaction %s wsa:Action names",
			NumPayloadNotAction, msg.PayloadName.Local, interaction)), log, nil)
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), syncTimeout)
	defer cancel()
	ctx, stopCut := cutWith(ctx, g.syncCut.done())
	defer stopCut()
	key := duplicateKey(TransportSOAP, interaction, msg.MessageUUID())
	ttl := g.cfg.PersistDurationFor(interaction)
	// The request is marked "in progress" for a few seconds only, renewed
	// while it runs: if this process dies, a retry is taken again within
	// soapMarkTTL, and the EPS processor's outcome record makes it give the
	// first answer. Once answered, the mark lasts the persist duration.
	fresh, err := g.store.MarkSeen(ctx, key, soapMarkTTL)
	if err != nil {
		log.Error("request could not be recorded: refused so that the sender retries", "err", err)
		g.received(c, TransportSOAP, "store_error")
		return sendFault(c, storeUnavailableFault("the request"))
	}
	if !fresh {
		return g.soapDuplicate(c, ctx, key, sender, log)
	}
	g.received(c, TransportSOAP, "accepted")

	_, family, _ := v3.Canonical(interaction)
	service := ebxml.ServiceMM
	if i := strings.LastIndexByte(msg.Action, '/'); i > 0 {
		service = msg.Action[:i]
	}
	in := &Inbound{
		Transport: TransportSOAP, Interaction: interaction, Family: family, Service: service,
		MessageID: msg.MessageUUID(), RefToMessageID: msg.RelatesTo,
		FromASID: msg.SenderASID, ToASID: msg.ReceiverASID, FromAddress: msg.FromAddress, ToAddress: msg.To,
		ReceivedAt: now, Payload: msg.Payload,
	}
	if msg.SenderASID == "" {
		in.FromCert = sender
	}
	nameExchange(ctx, in)
	start := time.Now()
	stopMark := g.keepMarked(ctx, key, log)
	out, perr := g.safeProcess(withCorrelation(ctx, in), in)
	stopMark()
	var handed *handover // what the answer delivers, owed until handed over
	if out != nil && out.Reply != nil {
		handed = out.Reply.handover
	}
	defer handed.settle(ctx, false) // unless handed over below: stays owed
	var reply keptReply
	if perr == nil && out != nil && out.Fault != nil && out.Fault.Retryable() {
		// EPS unavailable and the like: the sender retries; the fault is
		// not kept, so the retry is processed again.
		perr = out.Fault
	}
	if perr == nil {
		reply, perr = g.soapAnswer(msg, in, out, log)
	}
	if perr != nil {
		if !IsPermanent(perr) {
			// Even when the breaker refused the call: it may have refused
			// the client's retry of an attempt that reached EPS.
			g.oweUnknown(ctx, in, log)
			g.forgetFailed(ctx, key, log)
			return g.answerUnavailable(c, span, in, start, perr, log)
		}
		log.Error("processing failed permanently", "err", perr)
		f, _ := ebxml.BuildSOAPFault(*permanentFault())
		reply = keptReply{Status: fiber.StatusInternalServerError, Body: f}
	}
	reply.Sender = sender
	if perr == nil && g.oweUnanswered(ctx, c, in, out, handed, log) {
		// What it delivers stays owed, so it is neither kept nor written:
		// a sender that had only half-closed its connection would read it,
		// and get the prescriptions again from its next release. In its
		// place a retryable fault (if the sender reads at all); a retry
		// under the same wsa:MessageID is processed again, answered from
		// EPS's recorded answer.
		g.forgetFailed(ctx, key, log)
		return g.answerUnavailable(c, span, in, start, errSenderGone, log)
	}
	if b, err := json.Marshal(reply); err == nil {
		sctx := context.WithoutCancel(ctx)
		var settled []store.SetRemoval // what it delivers leaves those owed as it is kept
		if perr == nil {
			settled = handed.removals()
		}
		if _, err := g.store.KeepReply(sctx, key, b, ttl, settled...); err != nil {
			log.Warn("answer not kept for duplicates, nor the duplicate-elimination mark extended to the persist duration", "err", err)
			if handed != nil && perr == nil {
				// What it delivers stays owed (the deferred settle), so it
				// is not written either (it would go out twice): a retry
				// under the same wsa:MessageID, answered from EPS's record,
				// or the pharmacy's next release delivers it.
				g.journalNotWritten(in, out.Reply, "it could not be kept for a retry under the same wsa:MessageID (the store failing)",
					"a retryable fault was answered in its place; the prescriptions it released stay owed to the dispenser and go out with its next nominated release, or a retry under the same wsa:MessageID")
				g.forgetFailed(ctx, key, log)
				return g.answerUnavailable(c, span, in, start, fmt.Errorf("release answer not kept: %w", err), log)
			}
		} else if perr == nil {
			// Kept for a retry under the same wsa:MessageID, and written
			// next: no longer owed.
			handed.settle(ctx, true)
			g.noteUnwritten(in, out.Reply, handed, log)
		}
	}
	outcome := exchangeOutcome(out)
	if perr != nil {
		outcome = OutcomeFailed
	}
	g.metrics.exchange(interaction, outcome, in.ReceivedAt, g.now())
	span.SetAttributes(attribute.String("porx.outcome", outcome), attribute.Int("http.response.status_code", reply.Status))
	outArgs := outcomeArgs(out)
	if perr != nil {
		outArgs = []any{"outcome", OutcomeFailed, "outcome_code", ebxml.TMSCodeMalformed, "outcome_text", notProcessedText}
	}
	log.Info("answered", append(outArgs, "http_status", reply.Status, "duration_ms", time.Since(start).Milliseconds())...)
	c.Set(fiber.HeaderContentType, xmlContentType)
	return c.Status(reply.Status).Send(reply.Body)
}

// errSenderGone: the SOAP sender had gone before its answer.
var errSenderGone = errors.New("the SOAP sender had gone before its answer")

// forgetFailed forgets the wsa:MessageID of a request answered with a
// retryable fault, so that its retry is processed again.
func (g *messaging) forgetFailed(ctx context.Context, key string, log *slog.Logger) {
	if err := g.store.Forget(context.WithoutCancel(ctx), key); err != nil {
		log.Warn("could not forget the failed request; a retry within the persist duration is answered as in progress", "err", err)
	}
}

// answerUnavailable answers in's request with a retryable fault (cause's,
// else 200 "System failure to process message"). The exchange ends there
// for this request (the sender retries it as a new one): counted and
// logged as every exchange is.
func (g *messaging) answerUnavailable(c *fiber.Ctx, span trace.Span, in *Inbound, start time.Time, cause error, log *slog.Logger) error {
	var f *ebxml.SOAPFault
	if !errors.As(cause, &f) || !f.Retryable() {
		f = fault(ebxml.TMSCodeSystemFailure, "System failure to process message")
	}
	g.metrics.exchange(in.Interaction, OutcomeUnavailable, in.ReceivedAt, g.now())
	span.SetAttributes(attribute.String("porx.outcome", OutcomeUnavailable), attribute.Int("http.response.status_code", fiber.StatusInternalServerError))
	code, text := outcomeDetail(&Outcome{Fault: f})
	log.Warn("answered", "outcome", OutcomeUnavailable, "outcome_code", code, "outcome_text", text,
		"http_status", fiber.StatusInternalServerError, "duration_ms", time.Since(start).Milliseconds(), "err", cause)
	return sendFault(c, f)
}

// soapAnswer turns an Outcome into the HTTP answer of a SOAP request.
func (g *messaging) soapAnswer(msg *ebxml.SOAPMessage, in *Inbound, out *Outcome, log *slog.Logger) (keptReply, error) {
	if out == nil {
		return keptReply{}, errors.New("processor gave no outcome")
	}
	if len(out.Answers) > 0 {
		log.Warn("processor gave async answers to a SOAP sync request; they are dropped", "answers", len(out.Answers))
	}
	f := out.Fault
	if f == nil && out.MessageError != nil {
		f = fault(ebxml.TMSCodeMalformed, out.MessageError.Description())
	}
	if f != nil {
		body, err := ebxml.BuildSOAPFault(*f)
		if err != nil {
			return keptReply{}, Permanent(fmt.Errorf("building the processor's fault: %w", err))
		}
		return keptReply{Status: fiber.StatusInternalServerError, Body: body}, nil
	}
	if out.Reply == nil {
		return keptReply{}, Permanent(errors.New("processor gave neither a reply nor a fault"))
	}
	body, err := ebxml.BuildSOAPResponse(ebxml.SOAPResponse{
		MessageID: g.newID(), Action: in.Service + "/" + out.Reply.Interaction,
		FromAddress: msg.To, ReceiverASID: msg.SenderASID, SenderASID: msg.ReceiverASID,
		RelatesTo: msg.MessageID, Payload: out.Reply.Payload,
	})
	if err != nil {
		return keptReply{}, Permanent(fmt.Errorf("building the SOAP response: %w", err))
	}
	return keptReply{Status: fiber.StatusOK, Body: body}, nil
}

// oweUnanswered keeps owed to their dispenser (UndeliveredNoter) the
// prescriptions out's reply releases when the sender is known to be gone
// (peerGone: it closed its connection, its HTTP timeout shorter than
// EPS's answer took), and reports whether it did. The HTTP response is
// the delivery of a SOAP answer: without this, EPS held them with the
// pharmacy, off its nominations, and a release sent again under a new
// wsa:MessageID was answered that there were none (stranded). Now the
// pharmacy's next nominated release delivers them, whatever its
// wsa:MessageID. With a handover (h) they are owed already, and stay so.
// What it reports owed is neither kept nor written (soapRequest).
func (g *messaging) oweUnanswered(ctx context.Context, c *fiber.Ctx, in *Inbound, out *Outcome, h *handover, log *slog.Logger) bool {
	if out == nil || out.Reply == nil || out.Reply.Released == nil || (g.noteUndelivered == nil && h == nil) || !peerGone(c.Context().Conn()) {
		return false
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), soapNoteTimeout)
	defer cancel()
	dl := &outbox.DeadLetter{At: g.now(), Stage: outbox.StageDelivery, MessageID: in.MessageID, RefToMessageID: in.MessageID,
		Interaction: out.Reply.Interaction, Released: out.Reply.Released, Reason: "the SOAP sender had gone before its answer"}
	if h != nil {
		// Owed already, until handed over (release_handover.go): they stay so.
		h.settle(nctx, false)
		dl.Owed = true
	} else if err := g.noteUndelivered(nctx, dl); err != nil {
		log.Error("the SOAP sender had gone before its release answer, and what it released could not be kept owed to the dispenser; only a retry under the same wsa:MessageID delivers it",
			"dispenser", out.Reply.Released.Dispenser, "prescriptions", out.Reply.Released.Prescriptions, "err", err)
		return false
	}
	if dl.Owed {
		r := out.Reply.Released
		log.Warn("the SOAP sender had gone before its release answer: what it released is owed to the dispenser, delivered by its next nominated release",
			"dispenser", r.Dispenser, "prescriptions", len(r.Prescriptions))
		g.journalNotWritten(in, out.Reply, "the SOAP sender had gone before its answer",
			fmt.Sprintf("the prescriptions it released (%s) are owed to dispenser %s and go out with its next nominated release, or a retry under the same wsa:MessageID",
				strings.Join(r.Prescriptions, ", "), r.Dispenser))
	}
	return dl.Owed
}

// journalNotWritten adds to in's exchange, whose journal says its answer
// reply was "answered in the HTTP response", a delivery step saying it
// was not, why, and what follows (note).
func (g *messaging) journalNotWritten(in *Inbound, reply *Answer, why, note string) {
	if g.journal == nil {
		return
	}
	g.journal.Record(journal.Event{Exchange: in.MessageID, Step: &journal.Step{At: g.now(), Kind: journal.StepDelivery,
		Interaction: reply.Interaction, Title: reply.Interaction + " not delivered: " + why, Note: note}})
}

// noteUnwritten says, in the log and in the journal of each earlier
// request concerned, that the answer reply (to in, handed over as h)
// delivers prescriptions of earlier answers never handed to their sender
// (the process died before writing it, or the sender had gone:
// release_handover.go). A crashed one's journal says only "answered in
// the HTTP response": without this the operator was left believing its
// prescriptions went out then, and again now.
func (g *messaging) noteUnwritten(in *Inbound, reply *Answer, h *handover, log *slog.Logger) {
	if h == nil {
		return
	}
	for tag, sfs := range h.unwritten {
		log.Warn("this release answer delivers prescriptions of an earlier SOAP answer never handed to its sender",
			"unwritten_message_id", tag, "dispenser", h.owner, "prescriptions", sfs)
		if g.journal != nil {
			g.journal.Record(journal.Event{Exchange: tag, Step: &journal.Step{At: g.now(), Kind: journal.StepDelivery,
				Interaction: reply.Interaction, Title: reply.Interaction + " not delivered: its SOAP answer never reached the sender",
				Note: fmt.Sprintf("the gateway stopped before writing it, or the sender had gone; the prescriptions it released (%s) went out once, in the answer to %s",
					strings.Join(sfs, ", "), in.MessageID)}})
		}
	}
}

// oweUnknown notes what a SOAP request answered with a retryable fault
// may have left with its sender unseen (the processor's DeadLetterNoter):
// a nominated release whose EPS call may have released prescriptions whose
// answer never came back (the connection dropped, the sync deadline ran
// out). Its dispenser's nominations are owed against that attempt, so the
// pharmacy's next nominated release recovers what EPS released then,
// whatever its wsa:MessageID; before, only a retry under the same
// wsa:MessageID did, and a new request found them stranded.
func (g *messaging) oweUnknown(ctx context.Context, in *Inbound, log *slog.Logger) {
	n, ok := underlying[DeadLetterNoter](g.proc)
	if !ok {
		return
	}
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	if err := n.NoteDeadLetter(sctx, in); err != nil {
		log.Error("a SOAP request refused with a retryable fault may have had EPS act unseen, and that could not be noted; only a retry under the same wsa:MessageID recovers it", "err", err)
	}
}

// errStopping ends a SOAP request's wait when the gateway stops.
var errStopping = errors.New("the gateway is stopping")

// cutWith returns ctx ended (cause errStopping) once cut is closed, and
// its stop.
func cutWith(ctx context.Context, cut <-chan struct{}) (context.Context, func()) {
	cctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-cut:
			cancel(errStopping)
		case <-cctx.Done():
		}
	}()
	return cctx, func() { cancel(nil) }
}

// soapNoteTimeout bounds oweUnanswered's note (the dispenser's release
// hold, then a write to the store).
const soapNoteTimeout = 10 * time.Second

// soapMarkTTL is how long a SOAP request's "in progress" mark lasts unless
// renewed; soapMarkRenew is how often it is renewed while the request runs.
const (
	soapMarkTTL   = 10 * time.Second
	soapMarkRenew = 3 * time.Second
)

// soapDuplicateWait is how long a duplicate of a request still in progress
// waits for its answer before it is told to retry.
const soapDuplicateWait = 5 * time.Second

// keepMarked renews the in-progress mark key every soapMarkRenew until the
// returned function is called.
func (g *messaging) keepMarked(ctx context.Context, key string, log *slog.Logger) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(soapMarkRenew)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := g.store.Touch(ctx, key, soapMarkTTL); err != nil {
					log.Warn("in-progress mark not renewed; a retry may be processed alongside", "err", err)
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// soapDuplicate answers a request whose wsa:MessageID was seen: with the
// kept answer when the request came from the same sender (soapSender:
// its ASID, else its client certificate; an answer kept for no one in
// particular, "", goes to anyone, as before); while the
// first is still being processed, it waits up to soapDuplicateWait for
// that answer, then gives a retryable fault. A request from another
// sender ASID is refused (fault 300, NumMessageIDReused), never given the
// first sender's answer.
func (g *messaging) soapDuplicate(c *fiber.Ctx, ctx context.Context, key, sender string, log *slog.Logger) error {
	b, ok, err := g.store.GetReply(ctx, key)
	wait := time.NewTimer(soapDuplicateWait)
	defer wait.Stop()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for err == nil && !ok {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-wait.C:
			err = errInProgress
		case <-poll.C:
			b, ok, err = g.store.GetReply(ctx, key)
		}
	}
	if errors.Is(err, errInProgress) {
		err, ok = nil, false
	}
	var kept keptReply
	if err == nil && ok {
		err = json.Unmarshal(b, &kept)
	}
	if err == nil && ok && kept.Sender != "" && kept.Sender != sender {
		return g.refuseSOAP(c, fault(ebxml.TMSCodeMalformed, fmt.Sprintf("%d:wsa:MessageID was already used by another sender; send the request with a new wsa:MessageID",
			NumMessageIDReused)), log, fmt.Errorf("wsa:MessageID answered to sender ASID %q, reused by ASID %q", kept.Sender, sender))
	}
	g.received(c, TransportSOAP, "duplicate")
	switch {
	case err != nil:
		log.Warn("duplicate: kept answer unreadable", "err", err)
		return sendFault(c, fault(ebxml.TMSCodeSystemFailure, "System failure to process message"))
	case !ok:
		log.Info("duplicate while the first is in progress: retryable fault")
		return sendFault(c, fault(ebxml.TMSCodeSystemFailure, "a request with this wsa:MessageID is being processed; send it again later"))
	}
	log.Info("duplicate: answered again, not processed again", "status", kept.Status)
	c.Set(fiber.HeaderContentType, xmlContentType)
	return c.Status(kept.Status).Send(kept.Body)
}

// isSOAPContentType reports whether a request's Content-Type may carry a
// SOAP envelope: text/xml (SOAP 1.1, as Spine's senders use),
// application/soap+xml or application/xml; a missing one is taken as XML.
func isSOAPContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "", "text/xml", "application/soap+xml", "application/xml":
		return true
	}
	return false
}

// errInProgress: the first request of a duplicate is still being processed.
var errInProgress = errors.New("request in progress")

// refuseSOAP answers with a SOAP fault and logs why.
func (g *messaging) refuseSOAP(c *fiber.Ctx, f *ebxml.SOAPFault, log *slog.Logger, cause error) error {
	args := []any{"fault", f.Error()}
	if cause != nil && cause != error(f) {
		args = append(args, "err", cause)
	}
	log.Warn("refused with a SOAP fault", args...)
	g.received(c, TransportSOAP, "refused")
	err := sendFault(c, f)
	g.journalSOAPRefusal(c, f)
	return err
}

// notProcessedText is the description of permanentFault.
const notProcessedText = "the message could not be processed"

// permanentFault is the SOAP fault a SOAP sender gets for a message whose
// processing failed permanently.
func permanentFault() *ebxml.SOAPFault { return fault(ebxml.TMSCodeMalformed, notProcessedText) }
