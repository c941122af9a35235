package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/upstream"
	v3 "github.com/porxgate/porxgate/v3"
)

// Processor is the step between the front doors and the answers: it turns
// one accepted legacy message into what goes back (in production: map v3
// to FHIR, call EPS, map the answer back to v3). The transport layer —
// parsing, duplicate elimination, durable queueing, acknowledgements,
// retries and delivery — is the gateway's; a Processor only sees each
// message's header fields and payload.
//
// Process may be called more than once for the same message (delivery is
// at least once: after a crash, or when its lease ran out); it must be
// safe to repeat. It must watch ctx.
type Processor interface {
	// Supports reports whether the processor handles an interaction id
	// (UK or SM family), e.g. "PORX_IN020101UK31". Messages of other
	// interactions are refused before they are accepted (ebXML
	// MessageError NotSupported, SOAP fault).
	Supports(interaction string) bool
	// Process handles one message. An error means the message could not be
	// handled now: over ebXML it is retried later (with backoff, up to the
	// configured retries, then dead-lettered); over SOAP the caller gets a
	// retryable fault (200). Wrap an error with Permanent when retrying
	// cannot help. An answer the legacy side must see — including business
	// errors (MCCI AE/AR, release rejections) — belongs in the Outcome.
	Process(ctx context.Context, in *Inbound) (*Outcome, error)
}

// DeadLetterNoter is a Processor that notes a message it gave up on before
// the message goes to the dead letters: the EPS processor keeps the
// prescriptions a nominated release whose answer was lost may have
// released, so that the pharmacy's next release recovers them
// (release_recovery.go).
type DeadLetterNoter interface {
	// NoteDeadLetter is called before in goes to the dead letters. An
	// error keeps it out of them for now: it is processed again when its
	// lease runs out.
	NoteDeadLetter(ctx context.Context, in *Inbound) error
}

// UndeliveredNoter is a Processor that notes an answer of its own that
// goes to the dead letters undelivered: the EPS processor keeps the
// prescriptions of an undelivered nominated release response owed to the
// pharmacy, so that its next nominated release delivers them
// (release_recovery.go).
type UndeliveredNoter interface {
	// NoteUndelivered is called before dl (a delivery) is recorded as a
	// dead letter, and marks it Owed when it noted what dl.Released names.
	// An error keeps it out of the dead letters for now: it is taken up
	// again when its lease runs out.
	NoteUndelivered(ctx context.Context, dl *outbox.DeadLetter) error
	// NoteDelivered undoes NoteUndelivered for a delivery its receiver
	// took after all (acknowledged asynchronously, also while it went to
	// the dead letters): what it released is no longer owed.
	NoteDelivered(ctx context.Context, d outbox.Delivery) error
}

// wrapper is a Processor decorator (the journal's, the per-party
// identities', tracing's) that gives the Processor it wraps.
type wrapper interface {
	unwrap() Processor
}

// underlying returns the first Processor of p and the ones it decorates
// (wrapper), outermost first, that is a T: a capability of the Processor
// Run serves under its decorators (DeadLetterNoter, comparison mode), which
// a type assertion on the outermost one does not see.
func underlying[T any](p Processor) (T, bool) {
	for {
		if t, ok := p.(T); ok {
			return t, true
		}
		w, ok := p.(wrapper)
		if !ok {
			var none T
			return none, false
		}
		p = w.unwrap()
	}
}

// Transport says which front door a message came through.
type Transport string

// The transports.
const (
	// TransportEbXML is ebXML reliable messaging (async answers).
	TransportEbXML Transport = "ebxml"
	// TransportSOAP is SOAP sync (the answer goes in the HTTP response).
	TransportSOAP Transport = "soap"
)

// Inbound is one accepted message as the Processor sees it.
type Inbound struct {
	// Transport is the front door it came through.
	Transport Transport `json:"transport"`
	// Interaction is the interaction id as sent (eb:Action, or the last
	// segment of wsa:Action), e.g. "PORX_IN020101UK31" or "PORX_IN020101SM31".
	Interaction string `json:"interaction"`
	// Family is the family of Interaction ("UK" or "SM"); empty for an id
	// of another shape. Answer in the family the caller used.
	Family v3.Family `json:"family,omitempty"`
	// Service is eb:Service (ebXML), or wsa:Action up to its last '/' (SOAP).
	Service string `json:"service"`
	// MessageID is eb:MessageId, or wsa:MessageID without "uuid:".
	MessageID string `json:"messageId"`
	// ConversationID is eb:ConversationId (ebXML only).
	ConversationID string `json:"conversationId,omitempty"`
	// RefToMessageID is eb:RefToMessageId or wsa:RelatesTo, when sent.
	RefToMessageID string `json:"refToMessageId,omitempty"`
	// FromParty and ToParty are the eb:PartyId of sender and receiver (ebXML).
	FromParty string `json:"fromParty,omitempty"`
	ToParty   string `json:"toParty,omitempty"`
	// CPAID is eb:CPAId (ebXML).
	CPAID string `json:"cpaId,omitempty"`
	// FromASID and ToASID are the communication-function ASIDs of the SOAP header.
	FromASID string `json:"fromAsid,omitempty"`
	ToASID   string `json:"toAsid,omitempty"`
	// FromCert names the client certificate of a SOAP request that came
	// without a sender ASID (certIdentity), so that what is kept of it
	// answers that sender again and no other; empty with an ASID, or
	// without mutual TLS.
	FromCert string `json:"fromCert,omitempty"`
	// FromAddress and ToAddress are wsa:From/wsa:Address and wsa:To (SOAP).
	FromAddress string `json:"fromAddress,omitempty"`
	ToAddress   string `json:"toAddress,omitempty"`
	// ReceivedAt is when the gateway accepted the message.
	ReceivedAt time.Time `json:"receivedAt"`
	// Payload is the HL7 v3 payload, bytes exactly as received.
	Payload []byte `json:"payload"`
	// Attachments are the MIME parts an ebXML message carried beyond its
	// HL7 payload, in order. EPS's FHIR messages have no place for them:
	// they are kept with the message and journalled, never sent on.
	Attachments []Attachment `json:"attachments,omitempty"`
	// TraceParent is the W3C traceparent of the exchange's span, started
	// at the front door ("" with tracing off). It is stored with the
	// message so that processing and delivery, after a restart or on
	// another replica, continue the same trace.
	TraceParent string `json:"traceParent,omitempty"`
}

// Attachment is one MIME part of an ebXML message beyond its HL7 payload.
type Attachment struct {
	// ContentID is the part's Content-Id without angle brackets.
	ContentID string `json:"contentId,omitempty"`
	// ContentType is the part's Content-Type as sent.
	ContentType string `json:"contentType,omitempty"`
	// Body is the part's content (decoded when it came in base64).
	Body []byte `json:"body"`
}

// Answer is one HL7 v3 message going back to the legacy side.
type Answer struct {
	// Interaction is the answer's interaction id (eb:Action / wsa:Action
	// suffix), e.g. "MCCI_IN010000UK13" or "PORX_IN070103UK31".
	Interaction string
	// Payload is the HL7 v3 message.
	Payload []byte
	// Released, on a release response, names the prescriptions it
	// delivers to their dispenser, to be kept owed to it if the answer is
	// never delivered (UndeliveredNoter); nil otherwise.
	Released *outbox.Released
	// handover, on a SOAP nominated release response that delivers
	// prescriptions, keeps them owed to the dispenser until the door
	// settles it (release_handover.go); nil otherwise.
	handover *handover
}

// Outcome is what the Processor made of a message.
type Outcome struct {
	// Answers are delivered asynchronously as new ebXML messages to the
	// sender's endpoint (ebXML only; ignored with a warning over SOAP).
	Answers []Answer
	// Reply is the payload answered in the HTTP response (SOAP only; over
	// ebXML it is delivered like one more of Answers).
	Reply *Answer
	// MessageError refuses an ebXML message: it is delivered
	// asynchronously as an eb:MessageError to the sender.
	MessageError *ebxml.MessageError
	// Fault refuses a SOAP message: the HTTP response is this SOAP fault.
	Fault *ebxml.SOAPFault
}

// Permanent marks err as one retrying cannot cure: the message goes to
// the dead letters at once (ebXML) or the caller gets a non-retryable
// fault (SOAP).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// PermanentTold is Permanent for an ebXML message whose sender, as it goes
// to the dead letters, is told so by answer (delivered as the other
// answers are) in place of the MessageError NumNotProcessed: a Cancel
// Request porxgate cannot map gets a Cancel Response, as Spine answers a
// cancellation it cannot process.
func PermanentTold(err error, answer Answer) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err, told: &answer}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// toldOf returns the answer a message failed for good with err is
// refused by (PermanentTold, however deep in err's chain), nil for the
// MessageError.
func toldOf(err error) *Answer {
	for ; err != nil; err = errors.Unwrap(err) {
		if p, ok := err.(*permanentError); ok && p.told != nil {
			return p.told
		}
	}
	return nil
}

// Deferred marks err as the upstream being unavailable for now (EPS
// unreachable or failing, or its circuit breaker open): the message waits in the store and is tried
// again after the retry interval without using up one of its attempts, so
// an outage of EPS never sends accepted messages to the dead letters.
func Deferred(err error) error {
	if err == nil {
		return nil
	}
	return &deferredError{err}
}

// upstreamFailedMessage reports whether err comes from an EPS call that
// the upstream client gave up on after its retries because EPS failed it:
// its last attempt answered with a 5xx, or with no answer at all (the
// connection reset or refused, the attempt timed out). Not a call that was
// not sent because its breaker was open or no access token could be had
// (the token endpoint's own failures: a *upstream.TokenError, whatever
// retries it wraps), that the caller gave up, or whose last answer was a
// throttle (429, 408) or a 202.
func upstreamFailedMessage(err error) bool {
	var te *upstream.TokenError
	if errors.As(err, &te) {
		return false
	}
	var re *upstream.RetryError
	if !errors.As(err, &re) {
		return false
	}
	if re.Last != nil {
		return re.Last.Status >= 500
	}
	return re.Err != nil
}

// IsDeferred reports whether err was marked with Deferred.
func IsDeferred(err error) bool {
	var d *deferredError
	return errors.As(err, &d)
}

type deferredError struct{ err error }

func (d *deferredError) Error() string { return d.err.Error() }
func (d *deferredError) Unwrap() error { return d.err }

// permanentError marks an error as permanent.
type permanentError struct {
	err error
	// told is the answer its sender gets from the dead letters
	// (PermanentTold); nil: the MessageError.
	told *Answer
}

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Unsupported is the Processor of a gateway with no translators wired in:
// it supports no interaction, so every message is refused as NotSupported.
type Unsupported struct{}

// Supports implements Processor.
func (Unsupported) Supports(string) bool { return false }

// Process implements Processor.
func (Unsupported) Process(context.Context, *Inbound) (*Outcome, error) {
	return nil, Permanent(errors.New("no processor is configured"))
}
