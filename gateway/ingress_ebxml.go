package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/tracing"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// PathEbXML is the ebXML reliable-messaging front door, as on Spine.
const PathEbXML = "/reliablemessaging/reliablerequest"

// storeTimeout bounds the store calls made while a sender waits.
const storeTimeout = 10 * time.Second

// ebxmlRequest handles POST /reliablemessaging/reliablerequest: it reads
// the multipart ebXML message, checks the sender and the interaction,
// stores the message in the inbox (with duplicate elimination) and only
// then acknowledges it: HTTP 202 with an eb:Acknowledgment when the sender
// asked for one (AckRequested) on the same connection (SyncReply), else
// HTTP 202 with an empty body and, when it asked for one without
// SyncReply, an eb:Acknowledgment delivered asynchronously. 202 is the status
// an MHS reads as accepted (the NHS MHS adaptor takes any other as a
// failure). A message that cannot be taken gets HTTP 500 with an
// eb:MessageError.
func (s *Server) ebxmlRequest(c *fiber.Ctx) error {
	g := s.msg
	now := g.now()
	span := g.startExchange(c, TransportEbXML)
	defer span.End()
	body, berr := frontBody(c, g.cfg.MaxBodyBytes)
	if berr != nil {
		return g.refuse(c, nil, berr.messageError(), g.log.With("transport", TransportEbXML), nil)
	}
	if isTextXML(c.Get(fiber.HeaderContentType)) {
		if sig, err := ebxml.ParseSignalWith(readEnvelope, body); err == nil || errors.As(err, new(*ebxml.ErrorListError)) {
			return g.ebxmlSignal(c, nil, sig, err, g.log.With("transport", TransportEbXML))
		}
	}
	// The SOAP envelope is read with v3's fast reader, which gives etree's
	// document (TestFrontDoorEnvelopeReader), within the payload check's
	// bounds (readEnvelope). The body is the door's own (frontBody): the
	// message's parts are read in place, not copied.
	msg, err := ebxml.ParseRequestInPlace(readEnvelope, c.Get(fiber.HeaderContentType), c.Get("SOAPAction"), body)
	if err != nil {
		var me *ebxml.MessageError
		if !errors.As(err, &me) {
			me = ebxml.NewMessageError(ebxml.CodeUnknown, 0, err.Error())
		}
		return g.refuse(c, msg, me, g.log.With("transport", TransportEbXML), err)
	}
	front := &Inbound{Transport: TransportEbXML, MessageID: msg.MessageID, Interaction: msg.Action,
		ConversationID: msg.ConversationID, FromParty: msg.FromPartyID, TraceParent: tracing.TraceParent(c.UserContext())}
	c.SetUserContext(withCorrelation(c.UserContext(), front))
	// The message's logger, built at its first use (one With: each builds
	// a handler): a message accepted without a hitch logs nothing at the
	// default level, and building it cost about 0.8 % of the gateway's CPU.
	var msgLog *slog.Logger
	log := func() *slog.Logger {
		if msgLog == nil {
			msgLog = g.log.With(append(inboundArgs(front), "cpa_id", msg.CPAID)...)
		}
		return msgLog
	}
	if msg.Service == ebxml.ServiceEbXML {
		sig, err := ebxml.ParseSignalWith(readEnvelope, msg.Envelope)
		return g.ebxmlSignal(c, msg, sig, err, log())
	}
	// Spine refuses a message addressed to another party (as the NHS MHS
	// adaptor does: 501314), before it looks at its sender.
	if !g.toParties.addressedTo(msg.ToPartyID) {
		return g.refuse(c, msg, notAddressedToUs(), log().With("to_party", msg.ToPartyID), nil)
	}
	if err := g.checkSender(msg.FromPartyID, msg.CPAID, c.Context().TLSConnectionState()); err != nil {
		return g.refuse(c, msg, unknownSender(msg.FromPartyID, err), log(), err)
	}
	key := duplicateKey(TransportEbXML, msg.Action, msg.MessageID)
	persist := g.cfg.PersistDurationFor(msg.Action)
	switch {
	case msg.Service != ebxml.ServiceMM:
		return g.refuse(c, msg, ebxml.NewMessageError(ebxml.CodeNotSupported, NumUnsupportedService,
			"eb:Service "+msg.Service+" is not supported"), log(), nil)
	case !g.proc.Supports(msg.Action):
		return g.refuse(c, msg, ebxml.NewMessageError(ebxml.CodeNotSupported, NumUnsupportedInteraction,
			"interaction "+msg.Action+" is not supported"), log(), nil)
	case msg.Payload == nil || len(msg.Payload.Body) == 0:
		return g.refuse(c, msg, ebxml.NewMessageError(ebxml.CodeMimeProblem, NumNoPayload,
			"the message has no HL7 payload part"), log(), nil)
	case !msg.TimeToLive.IsZero() && now.After(msg.TimeToLive):
		// ebMS 2.0 §6.4.4: a message past its time to live is not
		// delivered. One taken while alive, sent again by a sender that
		// missed the acknowledgment, is a duplicate: it goes on to be
		// acknowledged again, not queued again (TestEbXMLTimeToLiveDuplicate),
		// also once its mark has lapsed while it waits in the inbox
		// (TestEbXMLRetryOfAMessageInHand).
		first, taken, err := g.takenBefore(c.UserContext(), key, persist)
		if err == nil && !taken {
			first, taken, err = g.stillInHand(c.UserContext(), key, inboxItemID(msg.Action, msg.MessageID), msg.FromPartyID, persist)
		}
		if err == nil && taken {
			err = g.checkMessageIDParty(c.UserContext(), key, msg.MessageID, msg.FromPartyID, first, persist)
		}
		if err != nil {
			return g.partyCheckFailure(c, msg, log(), err)
		}
		if !taken {
			return g.refuse(c, msg, ebxml.NewMessageError(ebxml.CodeTimeToLiveExpired, NumTimeToLiveExpired,
				"eb:TimeToLive "+msg.TimeToLive.UTC().Format(time.RFC3339Nano)+" has passed"), log(), nil)
		}
	}
	// Not into a backlog (Config.MaxQueueWait): a new message is refused
	// as busy while the inbox workers are behind; a duplicate is taken.
	// Decided as soon as the MessageId is known, before the payload is
	// read and the acknowledgement built: under a load past capacity half
	// the messages may be refused here, and before, each such refusal
	// cost nearly what taking the message did.
	if wait, over := s.doors.queue.over(c.UserContext()); over {
		if _, taken, err := g.takenBefore(c.UserContext(), key, persist); err == nil && !taken {
			return s.doors.refuseBehind(c, wait)
		}
	}
	// A payload that cannot be read as HL7 v3 is refused now, before any
	// acknowledgement: once acknowledged, nothing could answer it.
	payloadRoot, err := checkHL7Payload(msg.Payload.Body)
	if err != nil {
		return g.refuse(c, msg, payloadMessageError(err), log(), err)
	}
	// Spine routes and validates a message by its eb:Action: a payload of
	// another interaction (or family) would be read for what it is, under
	// the action's safeguards, as the SOAP door refuses it too.
	if payloadRoot != msg.Action {
		return g.refuse(c, msg, ebxml.NewMessageError(ebxml.CodeInconsistent, NumPayloadNotAction,
			fmt.Sprintf("the payload is %s, not the interaction %s eb:Action names", payloadRoot, msg.Action)), log(), nil)
	}

	_, family, _ := v3.Canonical(msg.Action)
	entry := inboxEntry{Inbound: Inbound{
		Transport: TransportEbXML, Interaction: msg.Action, Family: family, Service: msg.Service,
		MessageID: msg.MessageID, ConversationID: msg.ConversationID, RefToMessageID: msg.RefToMessageID,
		FromParty: msg.FromPartyID, ToParty: msg.ToPartyID, CPAID: msg.CPAID,
		ReceivedAt: now, Payload: msg.Payload.Body, Attachments: attachmentsOf(msg),
	}}
	if n := len(entry.Inbound.Attachments); n > 0 {
		log().Warn("message carries attachments beyond its HL7 payload; EPS takes none: they are kept with the message and journalled",
			"attachments", n, "content_ids", attachmentIDs(entry.Inbound.Attachments))
	}
	nameExchange(c.UserContext(), &entry.Inbound)
	inItem, err := entry.item(now)
	if err != nil {
		return g.storeFailure(c, msg, log(), err)
	}
	party := inItem.Party // its sender, upper case (entry.item)
	items := []store.Item{inItem}
	var ackItem *store.Item
	if !msg.SyncReply && msg.AckRequested {
		d, err := outbox.NewAcknowledgment(msg, g.newID(), now)
		if err == nil {
			var it store.Item
			d.TraceParent, d.RequestInteraction = entry.Inbound.TraceParent, msg.Action
			it, err = d.Item(now)
			ackItem = &it
		}
		if err != nil {
			return g.storeFailure(c, msg, log(), err)
		}
		items = append(items, *ackItem)
	}
	// ebMS 2.0 §6.3.1: an eb:Acknowledgment answers eb:AckRequested, and
	// eb:SyncReply (§4.3) only says that such signals come back on the
	// same connection. A message with SyncReply alone (the NHS MHS
	// adaptor's async express pattern, which reads only the 202) gets
	// its 202 with no body; before, it was given an Acknowledgment no
	// one asked for.
	syncAckWanted := msg.SyncReply && msg.AckRequested
	var syncAck []byte
	if syncAckWanted {
		if syncAck, err = ebxml.BuildAcknowledgment(msg, g.newID(), now); err != nil {
			return g.storeFailure(c, msg, log(), err)
		}
	}

	ctx, cancel := context.WithTimeout(c.UserContext(), storeTimeout)
	defer cancel()
	// An idle inbox worker takes the message as it is accepted: queued
	// already claimed for it, so that it does not claim it from the store.
	acc, held, err := g.acceptHanded(ctx, key, party, persist, items, entry, now)
	if err != nil {
		return g.storeFailure(c, msg, log(), err)
	}
	outcome := "accepted"
	if acc.Fresh {
		if !held {
			g.wakeInbox()
		}
		if g.log.Enabled(ctx, slog.LevelDebug) {
			log().Debug("accepted", "to_party", msg.ToPartyID, "sync_reply", msg.SyncReply, "ack_requested", msg.AckRequested, "payload_bytes", len(msg.Payload.Body))
		}
	} else {
		if err := g.checkMessageIDParty(ctx, key, msg.MessageID, msg.FromPartyID, acc.Party, 0); err != nil {
			return g.partyCheckFailure(c, msg, log(), err)
		}
		outcome = "duplicate"
		if ackItem != nil {
			if err := g.store.Enqueue(ctx, *ackItem); err != nil {
				return g.storeFailure(c, msg, log(), err)
			}
		}
		log().Info("duplicate: acknowledged again, not processed again", "sync_reply", msg.SyncReply)
	}
	if ackItem != nil {
		g.delivery.Wake()
	}
	g.received(c, TransportEbXML, outcome)
	if syncAckWanted {
		c.Set(fiber.HeaderContentType, xmlContentType)
		return c.Status(fiber.StatusAccepted).Send(syncAck)
	}
	return c.Status(fiber.StatusAccepted).Send(nil)
}

// attachmentsOf returns the parts of msg beyond its HL7 payload.
func attachmentsOf(msg *ebxml.Message) []Attachment {
	var out []Attachment
	for i := range msg.Parts {
		if p := &msg.Parts[i]; p != msg.Payload {
			out = append(out, Attachment{ContentID: p.ContentID, ContentType: p.ContentType, Body: p.Body})
		}
	}
	return out
}

// attachmentIDs lists the Content-Ids of attachments, for the log.
func attachmentIDs(as []Attachment) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ContentID
	}
	return ids
}

// payloadMessageError is the MessageError refusing an unreadable payload
// (checkHL7Payload's error): OtherXml for XML that cannot be read,
// ValueNotRecognized for a root that is not an HL7 v3 interaction.
func payloadMessageError(err error) *ebxml.MessageError {
	var pe *payloadError
	if !errors.As(err, &pe) {
		return ebxml.NewMessageError(ebxml.CodeOtherXML, NumPayloadUnreadable, err.Error())
	}
	code := ebxml.CodeOtherXML
	if pe.Num == NumPayloadNotHL7 {
		code = ebxml.CodeValueNotRecognized
	}
	return ebxml.NewMessageError(code, pe.Num, pe.Reason)
}

// refuse answers with an eb:MessageError and logs why.
func (g *messaging) refuse(c *fiber.Ctx, msg *ebxml.Message, me *ebxml.MessageError, log *slog.Logger, cause error) error {
	args := []any{"error_code", me.Code, "description", me.Description()}
	if cause != nil && cause != error(me) {
		args = append(args, "err", cause)
	}
	log.Warn("refused with a MessageError", args...)
	g.received(c, TransportEbXML, "refused")
	err := g.sendMessageError(c, msg, me)
	g.journalEbXMLRefusal(c, msg, me)
	return err
}

// storeFailure answers a message that could not be stored, never with an
// acknowledgment: HTTP 500 and a SOAP fault with the retryable TMS code
// 200, which an MHS retries (an eb:MessageError would be taken as final).
func (g *messaging) storeFailure(c *fiber.Ctx, msg *ebxml.Message, log *slog.Logger, err error) error {
	log.Error("message could not be stored: refused so that the sender retries", "err", err)
	g.received(c, TransportEbXML, "store_error")
	return sendFault(c, storeUnavailableFault("the message"))
}

// takenBefore reports whether the message whose duplicate-elimination
// key is key was taken within its persist duration, and from which party
// ("" when its mark has none), and if so renews the mark for persist:
// further retries of it are duplicates too.
func (g *messaging) takenBefore(ctx context.Context, key string, persist time.Duration) (party string, taken bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	party, taken, err = g.store.TouchMark(ctx, key, persist)
	if err != nil {
		return "", false, fmt.Errorf("reading the duplicate-elimination mark %s: %w", key, err)
	}
	return party, taken, nil
}

// stillInHand reports whether the message whose duplicate-elimination
// mark (key) has lapsed is still in hand, its inbox item id queued, and
// from which party (upper case, as marks record it). When it is from
// party, the mark is written again for persist with that party (or, were
// one written meanwhile, that one's party is reported), so that the
// message goes on as a duplicate and is never queued again, even should
// its item complete before the caller accepts it: a message past its
// eb:TimeToLive taken once is acknowledged again, not refused
// TimeToLiveExpired while it is still to be answered.
func (g *messaging) stillInHand(ctx context.Context, key, id, party string, persist time.Duration) (first string, inHand bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	b, ok, err := g.store.Peek(ctx, inboxQueue, id)
	if err != nil {
		return "", false, fmt.Errorf("looking for inbox item %s: %w", id, err)
	}
	if !ok {
		return "", false, nil
	}
	e, err := decodeInboxEntry(b)
	if err != nil {
		return "", false, nil // dead-lettered when claimed, never answered
	}
	first, party = strings.ToUpper(e.Inbound.FromParty), strings.ToUpper(party)
	if first != party {
		return first, true, nil
	}
	acc, err := g.store.AcceptFrom(ctx, key, party, persist)
	if err != nil {
		return "", false, fmt.Errorf("marking %s again, its message in hand: %w", key, err)
	}
	if acc.Fresh {
		return party, true, nil
	}
	return acc.Party, true, nil
}

// partyMarkKey names the record of which eb:From party a MessageId taken
// under duplicate-elimination key key belongs to, as porxgate wrote it,
// a write of its own after the mark, before the party went into the
// mark itself (store.Store.AcceptFrom); read for marks without a party
// while such records last (the persist duration).
func partyMarkKey(key string) string { return "party:" + key }

// messageIDOfOtherParty is checkMessageIDParty's error for a message
// whose MessageId was taken, within the persist duration, from another
// eb:From party.
type messageIDOfOtherParty struct{ messageID, first, party string }

func (e *messageIDOfOtherParty) Error() string {
	return "MessageId " + e.messageID + " was taken from party " + e.first + ", sent again by party " + e.party
}

// messageError is the refusal of such a message: Inconsistent, 910041.
func (e *messageIDOfOtherParty) messageError() *ebxml.MessageError {
	return ebxml.NewMessageError(ebxml.CodeInconsistent, NumMessageIDOfOtherParty,
		"eb:MessageId "+e.messageID+" was already used by another party; send the message again under a new eb:MessageId")
}

// checkMessageIDParty reports, as a *messageIDOfOtherParty error,
// whether messageID, taken under duplicate-elimination key key from the
// party first (as its mark or the message in hand records it), was taken
// from a party other than party. A MessageId is its sender's (ebMS 2.0:
// globally unique): another party's message under it is not a retry, and
// taken for one it was acknowledged and never processed. A mark without
// a party (first "") was written before the party went into the mark:
// the party is then read from its record of its own (partyMarkKey), and
// when persist is positive and it is party, renewed for persist, as the
// mark is; a MessageId without either (taken before porxgate kept one)
// is its sender's retry, as it was.
func (g *messaging) checkMessageIDParty(ctx context.Context, key, messageID, party, first string, persist time.Duration) error {
	if first == "" {
		ctx, cancel := context.WithTimeout(ctx, storeTimeout)
		defer cancel()
		b, ok, err := g.store.GetReply(ctx, partyMarkKey(key))
		if err != nil {
			return fmt.Errorf("reading the party of duplicate-elimination mark %s: %w", key, err)
		}
		if !ok {
			return nil
		}
		first = string(b)
		if persist > 0 && first == strings.ToUpper(party) {
			if err := g.store.PutReply(ctx, partyMarkKey(key), b, persist); err != nil {
				return fmt.Errorf("renewing the party of duplicate-elimination mark %s: %w", key, err)
			}
		}
	}
	if first != strings.ToUpper(party) {
		return &messageIDOfOtherParty{messageID: messageID, first: first, party: party}
	}
	return nil
}

// partyCheckFailure answers a message checkMessageIDParty failed: a
// refusal when its MessageId is another party's, else a store failure.
func (g *messaging) partyCheckFailure(c *fiber.Ctx, msg *ebxml.Message, log *slog.Logger, err error) error {
	var other *messageIDOfOtherParty
	if errors.As(err, &other) {
		return g.refuse(c, msg, other.messageError(), log, err)
	}
	return g.storeFailure(c, msg, log, err)
}

// acceptHanded accepts a message's items (the inbox item first, made from
// entry) from party (store.Store.AcceptFrom). When an inbox worker is idle
// (held) it is reserved and the inbox item queued already claimed for it,
// and the lease handed to it with entry if the message is fresh. The reservation is given (or given back) whatever happens, a
// panic included: the worker reserved waits for it, and a reservation
// never given would hold that worker (and the gateway's stop) for ever.
func (g *messaging) acceptHanded(ctx context.Context, key, party string, ttl time.Duration, items []store.Item, entry inboxEntry, now time.Time) (acc store.Accepted, held bool, err error) {
	if !g.inboxHandoff.Reserve() {
		acc, err = g.store.AcceptFrom(ctx, key, party, ttl, items...)
		return acc, false, err
	}
	var lease *store.Lease
	defer func() { g.inboxHandoff.GiveDecoded(lease, entry) }()
	items[0].Token, items[0].Due = ids.NewUUID(), now.Add(g.cfg.Lease)
	acc, err = g.store.AcceptFrom(ctx, key, party, ttl, items...)
	if acc.Fresh && err == nil {
		lease = items[0].HeldLease()
	}
	return acc, true, err
}

// ebxmlSignal handles a messaging-service message an MHS sends us (as
// text/xml, msg nil, or multipart): an asynchronous eb:Acknowledgment of
// one of our deliveries (err nil) ends its retries, when it comes from a
// party the routes know, with a client certificate that meets the party
// key's bindings (else it is refused as such a sender's message is, and
// the delivery keeps its retries) and that party is the one the
// delivery was sent to (else it is refused as Inconsistent, and the
// delivery keeps its retries); an eb:MessageError is logged (the delivery
// keeps its retries and, if never acknowledged, reaches the dead letters).
func (g *messaging) ebxmlSignal(c *fiber.Ctx, msg *ebxml.Message, sig ebxml.Signal, err error, log *slog.Logger) error {
	ref := sig.RefToMessageID
	log = log.With("ref_to_message_id", ref, "from_party", sig.FromPartyID)
	var el *ebxml.ErrorListError
	if err != nil && errors.As(err, &el) {
		if serr := g.checkSender(sig.FromPartyID, sig.CPAID, c.Context().TLSConnectionState()); serr != nil {
			return g.refuse(c, msg, unknownSender(sig.FromPartyID, serr), log, serr)
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), storeTimeout)
		defer cancel()
		refused, rerr := g.refuseDelivery(ctx, ref, sig.FromPartyID, el)
		if rerr != nil {
			log.Warn("messaging-service message about one of our deliveries; whether it refuses a pending one could not be recorded", "err", err, "record_err", rerr)
		} else {
			log.Warn("messaging-service message about one of our deliveries", "err", err, "refused_pending_delivery", refused)
		}
	} else if err != nil {
		log.Warn("messaging-service message about one of our deliveries", "err", err)
	} else {
		if serr := g.checkSender(sig.FromPartyID, sig.CPAID, c.Context().TLSConnectionState()); serr != nil {
			return g.refuse(c, msg, unknownSender(sig.FromPartyID, serr), log, serr)
		}
		ctx, cancel := context.WithTimeout(c.UserContext(), storeTimeout)
		defer cancel()
		d, found, derr := g.dropAcknowledged(ctx, ref, sig.FromPartyID, log)
		var other *ackFromOtherParty
		switch {
		case errors.As(derr, &other):
			return g.refuse(c, msg, ebxml.NewMessageError(ebxml.CodeInconsistent, NumAckNotAddressee,
				"eb:Acknowledgment from a party the message was not sent to"), log, derr)
		case derr != nil:
			log.Warn("asynchronous acknowledgment not recorded; the delivery may be sent again", "err", derr)
		case !found:
			// Not pending: perhaps gone to the dead letters, what it
			// released noted owed, which it then did deliver.
			late, lerr := g.delivery.AcknowledgedLate(ctx, ref, sig.FromPartyID)
			if lerr != nil {
				log.Warn("asynchronous acknowledgment of no pending delivery; whether it was dead-lettered owing prescriptions could not be read", "err", lerr)
			}
			log.Info("asynchronous acknowledgment received", "pending_delivery_found", false, "dead_lettered_owing", late)
		default:
			log.Info("asynchronous acknowledgment received", "pending_delivery_found", found)
			if d != nil {
				g.delivery.Acknowledged(ctx, *d, "asynchronous eb:Acknowledgment from "+sig.FromPartyID)
			}
		}
	}
	g.received(c, TransportEbXML, "signal")
	return c.Status(fiber.StatusAccepted).Send(nil)
}

// ackFromOtherParty is dropAcknowledged's error for an acknowledgment
// from a party other than the delivery's receiver.
type ackFromOtherParty struct{ delivery, receiver, from string }

func (e *ackFromOtherParty) Error() string {
	return "delivery " + e.delivery + " was sent to party " + e.receiver + ", acknowledged by " + e.from
}

// dropAcknowledged ends the retries of the pending delivery ref (as
// written or, as our message ids are, in upper case) when party, the
// acknowledgment's eb:From, is the party it was sent to, and returns it
// (nil when unreadable); found is false when no such delivery is pending
// (already acknowledged, or never ours). A delivery sent to another party
// is kept (*ackFromOtherParty): the party acknowledging it never received
// it.
func (g *messaging) dropAcknowledged(ctx context.Context, ref, party string, log *slog.Logger) (d *outbox.Delivery, found bool, err error) {
	id, data, ok, err := g.pendingDelivery(ctx, ref)
	if err != nil || !ok {
		return nil, false, err
	}
	if pending, derr := outbox.DecodeDelivery(data); derr != nil {
		// The worker sends it to the dead letters when it comes to it;
		// its receiver cannot be told, so the acknowledgment ends it.
		log.Warn("acknowledged delivery unreadable; its receiver not checked", "err", derr)
	} else if pending.Party != party {
		return nil, false, &ackFromOtherParty{delivery: id, receiver: pending.Party, from: party}
	} else {
		d = &pending
		// Marked first: a worker dead-lettering it now reads the mark
		// once it has noted it owed.
		if err := g.delivery.MarkAcknowledged(ctx, pending); err != nil {
			return nil, false, err
		}
	}
	found, err = g.store.Drop(ctx, outbox.Queue, id)
	return d, found, err
}

// pendingDelivery finds the delivery ref in the outbox (as written or, as
// our message ids are, in upper case): its id there and its data.
func (g *messaging) pendingDelivery(ctx context.Context, ref string) (id string, data []byte, found bool, err error) {
	ids := []string{ref}
	if up := strings.ToUpper(ref); up != ref {
		ids = append(ids, up)
	}
	for _, id := range ids {
		data, ok, err := g.store.Peek(ctx, outbox.Queue, id)
		if err != nil || ok {
			return id, data, ok, err
		}
	}
	return "", nil, false, nil
}

// refuseDelivery takes an eb:ErrorList (el) from party about ref: when
// ref is a delivery in the outbox sent to party and el refuses it for
// good, it is not sent again but dead-lettered with the refusal
// (outbox.Worker.Refused). It reports whether it was.
func (g *messaging) refuseDelivery(ctx context.Context, ref, party string, el *ebxml.ErrorListError) (bool, error) {
	_, data, ok, err := g.pendingDelivery(ctx, ref)
	if err != nil || !ok {
		return false, err
	}
	d, err := outbox.DecodeDelivery(data)
	if err != nil || d.Party != party {
		return false, nil // unreadable: the worker dead-letters it; another party's: not its to refuse
	}
	return g.delivery.Refused(ctx, d, el)
}

// unknownSender is the eb:MessageError of a message from a party (or under
// a CPA id, or with a client certificate) the routes do not know; err is
// Routes.CheckSender's.
func unknownSender(party string, err error) *ebxml.MessageError {
	if errors.Is(err, outbox.ErrUnknownCPAID) {
		return ebxml.NewMessageError(ebxml.CodeValueNotRecognized, ebxml.NumUnknownCPAID, "Unknown eb:CPAId")
	}
	if errors.Is(err, outbox.ErrSenderCertificate) {
		return ebxml.NewMessageError(ebxml.CodeSecurityFailure, NumSenderCertificate,
			"the client certificate is not one bound to eb:From/eb:PartyId "+party)
	}
	return ebxml.NewMessageError(ebxml.CodeValueNotRecognized, NumUnknownParty, "Unknown eb:From/eb:PartyId "+party)
}

// isTextXML reports a Content-Type of text/xml (a SOAP envelope alone).
func isTextXML(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/xml")
}
