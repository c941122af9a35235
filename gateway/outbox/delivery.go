package outbox

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/tracing"
)

// Queue is the name of the store queue deliveries wait in.
const Queue = "outbox"

// Kind says what a delivery carries.
type Kind string

// The kinds of delivery.
const (
	// KindAnswer is an async answer to a request (multipart ebXML with an
	// HL7 payload); it is delivered when the receiver acknowledges it.
	KindAnswer Kind = "answer"
	// KindAcknowledgment is the eb:Acknowledgment of a request that asked
	// for no synchronous reply; any 2xx delivers it.
	KindAcknowledgment Kind = "acknowledgment"
	// KindMessageError is an async eb:MessageError; any 2xx delivers it.
	KindMessageError Kind = "message-error"
)

// Delivery is one message waiting in the outbox, with its delivery state.
// Its body is built once, when it is queued, so every attempt sends the
// same bytes and the same MessageId.
type Delivery struct {
	// MessageID is the eb:MessageId of the message sent.
	MessageID string `json:"messageId"`
	// Kind says what the message is.
	Kind Kind `json:"kind"`
	// Party is the receiving party key: the route to deliver over.
	Party string `json:"party"`
	// CPAID is the message's eb:CPAId.
	CPAID string `json:"cpaId,omitempty"`
	// Interaction is the message's eb:Action.
	Interaction string `json:"interaction"`
	// ConversationID is the message's eb:ConversationId.
	ConversationID string `json:"conversationId"`
	// RefToMessageID is the MessageId of the request the message answers.
	RefToMessageID string `json:"refToMessageId"`
	// ContentType is the HTTP Content-Type to send.
	ContentType string `json:"contentType"`
	// SOAPAction is the HTTP SOAPAction to send (unquoted).
	SOAPAction string `json:"soapAction"`
	// Body is the HTTP body.
	Body []byte `json:"body"`
	// CreatedAt is when the message was queued; the persist duration runs from it.
	CreatedAt time.Time `json:"createdAt"`
	// Attempts counts the attempts made so far.
	Attempts int `json:"attempts"`
	// LastError says why the last attempt failed.
	LastError string `json:"lastError,omitempty"`
	// RequestInteraction is the interaction of the request the message
	// answers, for the exchange's log fields ("" when not known).
	RequestInteraction string `json:"requestInteraction,omitempty"`
	// TraceParent is the W3C traceparent of the exchange the message
	// belongs to: each attempt's span is its child ("" with tracing off).
	TraceParent string `json:"traceParent,omitempty"`
	// Released, on a release response, names the prescriptions it
	// delivers to their dispenser (nil on other messages).
	Released *Released `json:"released,omitempty"`
}

// Released is what a release response delivers: prescriptions EPS has
// released to a dispenser. EPS holds them with the dispenser whether or
// not the response reaches it, so one that never does must not be
// forgotten (WorkerConfig.NoteDeadLetter).
type Released struct {
	// Dispenser is the ODS code of the dispenser released to.
	Dispenser string `json:"dispenser"`
	// Prescriptions are the short-form ids of the prescriptions released.
	Prescriptions []string `json:"prescriptions"`
}

// Item returns the store item that queues d, due at due.
func (d Delivery) Item(due time.Time) (store.Item, error) {
	head := d
	head.Body = nil
	b, err := Encode(d, head, d.Body)
	if err != nil {
		return store.Item{}, fmt.Errorf("encode delivery %s: %w", d.MessageID, err)
	}
	return store.Item{Queue: Queue, ID: d.MessageID, Data: b, Due: due}, nil
}

// DecodeDelivery reads a queued delivery (framed as Item writes it, or as
// JSON alone, as porxgate wrote it before).
func DecodeDelivery(b []byte) (Delivery, error) {
	var d Delivery
	body, framed, err := Unframe(b, &d)
	if err != nil {
		return Delivery{}, fmt.Errorf("decode delivery: %w", err)
	}
	if framed {
		d.Body = body
	}
	if d.MessageID == "" {
		return Delivery{}, fmt.Errorf("decode delivery: no messageId")
	}
	return d, nil
}

// Addressing is what an async message takes from the request it answers.
type Addressing struct {
	// OurParty is the request's eb:To party key: ours, written as eb:From.
	OurParty string
	// TheirParty is the request's eb:From party key: the receiver.
	TheirParty string
	// CPAID is the CPA id to write.
	CPAID string
	// ConversationID is the request's eb:ConversationId.
	ConversationID string
	// RefToMessageID is the request's eb:MessageId.
	RefToMessageID string
}

// message returns the minimal received message the ebxml reply builders read.
func (a Addressing) message() *ebxml.Message {
	return &ebxml.Message{
		FromPartyID: a.TheirParty, ToPartyID: a.OurParty, CPAID: a.CPAID,
		ConversationID: a.ConversationID, MessageID: a.RefToMessageID,
	}
}

// NewAnswer builds the async answer to a request: a new ebXML message with
// its own messageID, the request's ConversationId, RefToMessageId = the
// request's MessageId, AckRequested, SyncReply (the receiver acknowledges
// on the same HTTP exchange) and DuplicateElimination.
func NewAnswer(a Addressing, interaction string, payload []byte, messageID string, now time.Time) (Delivery, error) {
	o := ebxml.OutboundMessage{
		FromPartyID: a.OurParty, ToPartyID: a.TheirParty, CPAID: a.CPAID,
		ConversationID: a.ConversationID, Service: ebxml.ServiceMM, Action: interaction,
		MessageID: messageID, Timestamp: now, RefToMessageID: a.RefToMessageID,
		AckRequested: true, SyncReply: true, DuplicateElimination: true,
		Payload: payload,
	}
	ct, body, err := ebxml.BuildMessage(o)
	if err != nil {
		return Delivery{}, fmt.Errorf("answer %s to %s: %w", interaction, a.RefToMessageID, err)
	}
	return Delivery{
		MessageID: strings.ToUpper(messageID), Kind: KindAnswer, Party: a.TheirParty, CPAID: a.CPAID,
		Interaction: interaction, ConversationID: a.ConversationID, RefToMessageID: a.RefToMessageID,
		ContentType: ct, SOAPAction: o.SOAPAction(), Body: body, CreatedAt: now,
	}, nil
}

// NewAcknowledgment builds the async eb:Acknowledgment of received.
func NewAcknowledgment(received *ebxml.Message, messageID string, now time.Time) (Delivery, error) {
	body, err := ebxml.BuildAcknowledgment(received, messageID, now)
	if err != nil {
		return Delivery{}, fmt.Errorf("acknowledgment of %s: %w", received.MessageID, err)
	}
	return signal(KindAcknowledgment, ebxml.ActionAcknowledgment, received, messageID, now, body), nil
}

// NewMessageError builds an async eb:MessageError about a request.
func NewMessageError(a Addressing, messageID string, now time.Time, errs ...*ebxml.MessageError) (Delivery, error) {
	m := a.message()
	body, err := ebxml.BuildMessageError(m, messageID, now, errs...)
	if err != nil {
		return Delivery{}, fmt.Errorf("message error about %s: %w", a.RefToMessageID, err)
	}
	return signal(KindMessageError, ebxml.ActionMessageError, m, messageID, now, body), nil
}

// signal wraps an ebXML messaging-service envelope as a delivery.
func signal(kind Kind, action string, received *ebxml.Message, messageID string, now time.Time, body []byte) Delivery {
	return Delivery{
		MessageID: strings.ToUpper(messageID), Kind: kind, Party: received.FromPartyID, CPAID: received.CPAID,
		Interaction: action, ConversationID: received.ConversationID, RefToMessageID: received.MessageID,
		ContentType: "text/xml", SOAPAction: ebxml.ServiceEbXML + "/" + action,
		Body: body, CreatedAt: now,
	}
}

// Stages of a dead letter.
const (
	// StageDelivery: an outbox message that could not be delivered.
	StageDelivery = "delivery"
	// StageProcessing: an inbound message the processor could not handle.
	StageProcessing = "processing"
)

// DeadLetter is an entry of the dead-letter list: a message given up on,
// with the reason. Body keeps the message for inspection and manual
// redelivery; listings leave it out.
type DeadLetter struct {
	// ID names the dead letter for an operator: "<stage>:<MessageId>"
	// (filled in by DecodeDeadLetter).
	ID string `json:"id,omitempty"`
	// At is when the message was given up on.
	At time.Time `json:"at"`
	// Stage is StageDelivery or StageProcessing.
	Stage string `json:"stage"`
	// Kind is the delivery kind (StageDelivery only).
	Kind Kind `json:"kind,omitempty"`
	// MessageID is the message's eb:MessageId.
	MessageID string `json:"messageId"`
	// RefToMessageID is the MessageId of the request a delivery answers.
	RefToMessageID string `json:"refToMessageId,omitempty"`
	// ConversationID is the eb:ConversationId.
	ConversationID string `json:"conversationId,omitempty"`
	// Interaction is the eb:Action.
	Interaction string `json:"interaction,omitempty"`
	// Party is the receiving (delivery) or sending (processing) party key.
	Party string `json:"party,omitempty"`
	// URL is the endpoint a delivery was attempted to.
	URL string `json:"url,omitempty"`
	// Attempts counts the attempts made.
	Attempts int `json:"attempts"`
	// Reason says why the message was given up on.
	Reason string `json:"reason"`
	// ContentType is the Content-Type of Body.
	ContentType string `json:"contentType,omitempty"`
	// SOAPAction is the SOAPAction a delivery was sent with (StageDelivery).
	SOAPAction string `json:"soapAction,omitempty"`
	// CPAID is the eb:CPAId of a delivery.
	CPAID string `json:"cpaId,omitempty"`
	// Body is the message.
	Body []byte `json:"body,omitempty"`
	// Entry is the queue entry given up on, as the gateway queued it (the
	// inbox entry of StageProcessing), kept so that an operator can resend it.
	Entry json.RawMessage `json:"entry,omitempty"`
	// Released is the undelivered release response's Delivery.Released.
	Released *Released `json:"released,omitempty"`
	// Owed says that the prescriptions Released names are owed to their
	// dispenser, whose next release delivers them (the gateway's note,
	// WorkerConfig.NoteDeadLetter): the dead letter is kept for the record
	// and is not resent, which would deliver them a second time.
	Owed bool `json:"owed,omitempty"`
}

// Redelivery is the delivery that sends a StageDelivery dead letter again:
// the same message (same eb:MessageId, so the receiver takes it once),
// with fresh attempts and persist duration from now.
func (dl DeadLetter) Redelivery(now time.Time) (Delivery, error) {
	if dl.Stage != StageDelivery || dl.MessageID == "" || len(dl.Body) == 0 {
		return Delivery{}, fmt.Errorf("dead letter %s: not a delivery with its message", dl.ID)
	}
	if dl.Owed && dl.Released != nil {
		return Delivery{}, fmt.Errorf("dead letter %s: the prescriptions it released (%s) are owed to dispenser %s, whose next release delivers them; resent, they would go out twice",
			dl.ID, strings.Join(dl.Released.Prescriptions, ", "), dl.Released.Dispenser)
	}
	action := dl.SOAPAction
	if action == "" {
		svc := ebxml.ServiceMM
		if dl.Kind != KindAnswer {
			svc = ebxml.ServiceEbXML
		}
		action = svc + "/" + dl.Interaction
	}
	return Delivery{
		MessageID: dl.MessageID, Kind: dl.Kind, Party: dl.Party, CPAID: dl.CPAID, Interaction: dl.Interaction,
		ConversationID: dl.ConversationID, RefToMessageID: dl.RefToMessageID, ContentType: dl.ContentType,
		SOAPAction: action, Body: dl.Body, CreatedAt: now, Released: dl.Released,
	}, nil
}

// Encode returns dl as JSON for the store.
func (dl DeadLetter) Encode() []byte {
	b, err := json.Marshal(dl)
	if err != nil { // a struct of strings, ints, bytes and a time cannot fail
		return []byte(fmt.Sprintf(`{"reason":%q}`, "unencodable dead letter: "+err.Error()))
	}
	return b
}

// DecodeDeadLetter reads a dead letter from the store.
func DecodeDeadLetter(b []byte) (DeadLetter, error) {
	var dl DeadLetter
	if err := json.Unmarshal(b, &dl); err != nil {
		return DeadLetter{}, fmt.Errorf("decode dead letter: %w", err)
	}
	dl.ID = dl.Stage + ":" + dl.MessageID
	return dl, nil
}

// deadLetterOf returns the dead letter for an undeliverable d.
func deadLetterOf(d Delivery, url, reason string, now time.Time) DeadLetter {
	return DeadLetter{
		At: now, Stage: StageDelivery, Kind: d.Kind, MessageID: d.MessageID, RefToMessageID: d.RefToMessageID,
		ConversationID: d.ConversationID, Interaction: d.Interaction, Party: d.Party, URL: url,
		Attempts: d.Attempts, Reason: reason, ContentType: d.ContentType, SOAPAction: d.SOAPAction, CPAID: d.CPAID, Body: d.Body,
		Released: d.Released,
	}
}

// logArgs are a delivery's log fields: the correlation fields of the
// exchange it belongs to (message_id is the request's MessageId, as on
// every line of the exchange; party the receiver, who sent the request)
// and the delivery's own MessageId, interaction and kind.
func (d Delivery) logArgs() []any {
	attrs := d.logAttrs()
	args := make([]any, len(attrs))
	for i, a := range attrs {
		args[i] = a
	}
	return args
}

// logAttrs are logArgs as attributes, for a context (logctx.With): the
// delivery attempt's span takes them too.
func (d Delivery) logAttrs() []slog.Attr {
	attrs := []slog.Attr{slog.String(logctx.KeyMessageID, d.RefToMessageID), slog.String(logctx.KeyConversationID, d.ConversationID),
		slog.String(logctx.KeyParty, d.Party), slog.String(logctx.KeyTransport, "ebxml"),
		slog.String("delivery_id", d.MessageID), slog.String("delivery_interaction", d.Interaction), slog.String("kind", string(d.Kind))}
	if d.RequestInteraction != "" {
		attrs = append(attrs, slog.String(logctx.KeyInteraction, d.RequestInteraction))
	}
	if id := tracing.TraceIDOf(d.TraceParent); id != "" {
		attrs = append(attrs, slog.String(logctx.KeyOTelTraceID, id))
	}
	return attrs
}
