package ebxml

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// ebHeader holds the eb:MessageHeader fields a builder writes.
type ebHeader struct {
	from, to, cpaID, conversationID, service, action string
	messageID, timestamp, refToMessageID             string
	duplicateElimination                             bool
}

// envelopeStart writes the XML declaration and the opening SOAP:Envelope
// with the given extra namespace declarations, and opens SOAP:Header.
func (w *writer) envelopeStart(extraNS string) {
	w.s(xmlDecl, `<SOAP:Envelope xmlns:SOAP="`, NSSOAP, `" xmlns:eb="`, NSEb, `"`, extraNS, ">\n", "  <SOAP:Header>\n")
}

// messageHeader writes an eb:MessageHeader.
func (w *writer) messageHeader(h ebHeader) {
	const in = "      "
	w.s("    <eb:MessageHeader SOAP:mustUnderstand=\"1\" eb:version=\"2.0\">\n")
	w.party(in, "From", h.from)
	w.party(in, "To", h.to)
	w.elem(in, "eb:CPAId", h.cpaID)
	w.elem(in, "eb:ConversationId", h.conversationID)
	w.elem(in, "eb:Service", h.service)
	w.elem(in, "eb:Action", h.action)
	w.s(in, "<eb:MessageData>\n")
	w.elem(in+"  ", "eb:MessageId", h.messageID)
	w.elem(in+"  ", "eb:Timestamp", h.timestamp)
	if h.refToMessageID != "" {
		w.elem(in+"  ", "eb:RefToMessageId", h.refToMessageID)
	}
	w.s(in, "</eb:MessageData>\n")
	if h.duplicateElimination {
		w.s(in, "<eb:DuplicateElimination/>\n")
	}
	w.s("    </eb:MessageHeader>\n")
}

// replyHeader returns the header of a messaging-service reply to received:
// From and To swapped, same CPAId and ConversationId, RefToMessageId set.
func replyHeader(received *Message, action, messageID string, now time.Time) ebHeader {
	return ebHeader{
		from: received.ToPartyID, to: received.FromPartyID,
		cpaID: received.CPAID, conversationID: received.ConversationID,
		service: ServiceEbXML, action: action,
		messageID: strings.ToUpper(messageID), timestamp: ebTimestamp(now),
		refToMessageID: received.MessageID,
	}
}

// BuildAcknowledgment writes the eb:Acknowledgment envelope that answers
// received (sent with Content-Type text/xml, as the HTTP 202 body when
// received.SyncReply is set, else as an async message; only when
// received.AckRequested is: ebMS 2.0 §6.3.1). messageID is the
// acknowledgment's own MessageId (a UUID, written upper-case) and now the
// time of receipt. The header swaps From and To, keeps CPAId and
// ConversationId, uses Service ServiceEbXML and Action Acknowledgment, and
// refers to received.MessageID; eb:Acknowledgment repeats the time, the
// reference and our party id, and names the SOAP actor the sender's
// eb:AckRequested named (ackActor).
func BuildAcknowledgment(received *Message, messageID string, now time.Time) ([]byte, error) {
	if received == nil {
		return nil, &BuildError{What: "BuildAcknowledgment", Missing: []string{"received"}}
	}
	if err := missing("BuildAcknowledgment",
		[2]string{"messageID", messageID}, [2]string{"received.MessageID", received.MessageID},
		[2]string{"received.FromPartyID", received.FromPartyID}, [2]string{"received.ToPartyID", received.ToPartyID},
		[2]string{"received.CPAID", received.CPAID}, [2]string{"received.ConversationID", received.ConversationID}); err != nil {
		return nil, err
	}
	h := replyHeader(received, ActionAcknowledgment, messageID, now)
	var w writer
	// One buffer for the whole: its markup and, at most twice each, its
	// values (grown from 64 bytes it took six allocations).
	w.Grow(ackMarkupBytes + 2*(len(messageID)+len(received.MessageID)+len(received.FromPartyID)+
		len(received.ToPartyID)+len(received.CPAID)+len(received.ConversationID)))
	w.envelopeStart("")
	w.messageHeader(h)
	w.s(`    <eb:Acknowledgment SOAP:mustUnderstand="1" eb:version="2.0" SOAP:actor="`, ackActor(received), "\">\n")
	w.elem("      ", "eb:Timestamp", h.timestamp)
	w.elem("      ", "eb:RefToMessageId", h.refToMessageID)
	w.party("      ", "From", h.from)
	w.s("    </eb:Acknowledgment>\n  </SOAP:Header>\n  <SOAP:Body/>\n</SOAP:Envelope>\n")
	return w.Bytes(), nil
}

// ackMarkupBytes is about the size of an eb:Acknowledgment without its
// values (1,527 bytes with 146 of values): BuildAcknowledgment's buffer.
const ackMarkupBytes = 1400

// ackActor is the SOAP actor of the acknowledgment of received: the
// one its eb:AckRequested named (ebMS 2.0 §6.3.2: the Acknowledgment's
// actor SHALL correspond to the AckRequested's), nextMSH or, by
// default and for any other, toPartyMSH.
func ackActor(received *Message) string {
	if strings.EqualFold(received.AckRequestedActor, ActorNextMSH) {
		return ActorNextMSH
	}
	return ActorToPartyMSH
}

// ParseAcknowledgment reads a remote MHS's answer to one of our ebXML
// messages: the body of its HTTP response (text/xml), or an async message
// it posted (text/xml or multipart/related; the boundary is taken from the
// body's first line). For an eb:Acknowledgment it returns the MessageId
// acknowledged (eb:Acknowledgment/eb:RefToMessageId, else
// eb:MessageData/eb:RefToMessageId). For an eb:ErrorList it returns the
// referenced MessageId and an *ErrorListError holding the remote errors;
// so too for an eb:Acknowledgment beside an eb:ErrorList that holds an
// error of severity Error, which refuses the message acknowledged. For
// any other readable envelope it returns ErrNotAcknowledgment; for an
// unreadable body, a *MessageError.
func ParseAcknowledgment(body []byte) (refToMessageID string, err error) {
	sig, err := ParseSignal(body)
	return sig.RefToMessageID, err
}

// Signal is what a messaging-service message (an eb:Acknowledgment or an
// eb:ErrorList) says about one of our messages, and who says it.
type Signal struct {
	// RefToMessageID is the MessageId of our message it is about.
	RefToMessageID string
	// FromPartyID is the eb:PartyId of the MHS that sent it: the
	// eb:MessageHeader's eb:From, else the eb:Acknowledgment's.
	FromPartyID string
	// CPAID is the eb:MessageHeader's eb:CPAId ("" when it has none).
	CPAID string
}

// ParseSignal is ParseAcknowledgment that also says who sent the signal,
// so that the receiver can check it comes from the party the message it
// refers to was sent to. Errors are ParseAcknowledgment's.
func ParseSignal(body []byte) (Signal, error) {
	return ParseSignalWith(nil, body)
}

// ParseSignalWith is ParseSignal reading the SOAP envelope with read (nil:
// etree's reader), as ParseRequestWith does: a front door passes the
// reader that bounds what it reads into a tree.
func ParseSignalWith(read XMLReader, body []byte) (Signal, error) {
	b := trimXMLStart(body)
	if len(b) == 0 {
		return Signal{}, newErr(CodeMimeProblem, NumEmptyBody, nil, "empty message body")
	}
	if bytes.HasPrefix(b, []byte("--")) {
		var err error
		if b, err = firstPart(b); err != nil {
			return Signal{}, err
		}
	}
	env, merr := readEnvelope(b, read)
	if merr != nil {
		return Signal{}, merr
	}
	hdr := child(env, NSSOAP, "Header")
	mh := child(hdr, NSEb, "MessageHeader")
	sig := Signal{
		RefToMessageID: childText(child(mh, NSEb, "MessageData"), NSEb, "RefToMessageId"),
		FromPartyID:    childText(child(mh, NSEb, "From"), NSEb, "PartyId"),
		CPAID:          childText(mh, NSEb, "CPAId"),
	}
	if ack := child(hdr, NSEb, "Acknowledgment"); ack != nil {
		if r := childText(ack, NSEb, "RefToMessageId"); r != "" {
			sig.RefToMessageID = r
		}
		if sig.FromPartyID == "" {
			sig.FromPartyID = childText(child(ack, NSEb, "From"), NSEb, "PartyId")
		}
		if sig.RefToMessageID == "" {
			return Signal{}, newErr(CodeOtherXML, NumMissingElement, nil, "eb:Acknowledgment without eb:RefToMessageId")
		}
		// An eb:ErrorList beside it with an error of severity Error (an
		// unrecoverable error in the message, ebMS 2.0 eb:Error's
		// severity) outweighs it: the message was not taken. Warnings
		// alone leave the acknowledgment standing.
		if list := child(hdr, NSEb, "ErrorList"); list != nil {
			if errs := readErrorList(list); slices.ContainsFunc(errs, (*MessageError).Refuses) {
				return sig, &ErrorListError{RefToMessageID: sig.RefToMessageID, Errors: errs}
			}
		}
		return sig, nil
	}
	if list := child(hdr, NSEb, "ErrorList"); list != nil {
		return sig, &ErrorListError{RefToMessageID: sig.RefToMessageID, Errors: readErrorList(list)}
	}
	return sig, ErrNotAcknowledgment
}

// firstPart returns the body of the first part of a multipart body whose
// boundary is read from its first line.
func firstPart(b []byte) ([]byte, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	boundary := strings.TrimSpace(strings.TrimPrefix(string(line), "--"))
	if boundary == "" {
		return nil, newErr(CodeMimeProblem, NumNoBoundary, nil, "no boundary on the first line")
	}
	parts, err := splitMultipart(b, boundary)
	if errors.Is(err, errTruncated) {
		parts = parts[:len(parts)-1] // its end unknown: not read as before
	}
	if len(parts) == 0 {
		return nil, newErr(CodeMimeProblem, NumMultipart, err, "malformed multipart body")
	}
	return parts[0].body, nil
}

// readErrorList reads the eb:Error entries of an eb:ErrorList.
func readErrorList(list *etree.Element) []*MessageError {
	var out []*MessageError
	for _, e := range list.ChildElements() {
		if e.Tag != "Error" || e.NamespaceURI() != NSEb {
			continue
		}
		n, text := parseDescription(childText(e, NSEb, "Description"))
		out = append(out, &MessageError{
			Code:     ErrorCode(attrAny(e, NSEb, "errorCode")),
			Severity: attrAny(e, NSEb, "severity"),
			Number:   n,
			Text:     text,
			Location: attrAny(e, NSEb, "location"),
		})
	}
	return out
}
