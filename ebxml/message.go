package ebxml

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// OutboundMessage is an ebXML message porxgate sends to an MHS: an async
// answer (same ConversationId, RefToMessageId = the request's MessageId)
// or an unsolicited message. The caller supplies every id and the time.
type OutboundMessage struct {
	// FromPartyID and ToPartyID are the eb:PartyId of sender and receiver.
	FromPartyID, ToPartyID string
	// CPAID is eb:CPAId.
	CPAID string
	// ConversationID is eb:ConversationId.
	ConversationID string
	// Service is eb:Service; ServiceMM when empty.
	Service string
	// Action is eb:Action: the interaction id.
	Action string
	// MessageID is the new message's id, a UUID; it is written upper-case.
	MessageID string
	// Timestamp is eb:Timestamp, written in UTC.
	Timestamp time.Time
	// RefToMessageID is eb:RefToMessageId; left out when empty.
	RefToMessageID string
	// AckRequested writes eb:AckRequested (actor toPartyMSH).
	AckRequested bool
	// SyncReply writes eb:SyncReply: the receiver acknowledges on the same HTTP exchange.
	SyncReply bool
	// DuplicateElimination writes eb:DuplicateElimination.
	DuplicateElimination bool
	// Payload is the HL7 v3 message, written as it is.
	Payload []byte
	// PayloadContentID is the payload's Content-Id without angle brackets;
	// "<MessageID>@spine.nhs.uk" when empty.
	PayloadContentID string
	// PayloadContentType is the payload's Content-Type;
	// "application/xml; charset=UTF-8" when empty.
	PayloadContentType string
	// Boundary is the MIME boundary; DefaultBoundary when empty.
	Boundary string
}

// SOAPAction returns the HTTP SOAPAction header value for o, Spine's
// "<service>/<action>".
func (o OutboundMessage) SOAPAction() string {
	svc := o.Service
	if svc == "" {
		svc = ServiceMM
	}
	return svc + "/" + o.Action
}

// BuildMessage writes o as a multipart/related ebXML message: the SOAP
// envelope part (Content-Id HeaderContentID) with eb:MessageHeader,
// optional eb:AckRequested and eb:SyncReply, and an eb:Manifest that
// references the HL7 payload part, then the payload part. Lines of the
// MIME structure end in CRLF; the payload bytes are written untouched. It
// returns the HTTP Content-Type (with quoted type, start and boundary
// parameters) and the body.
func BuildMessage(o OutboundMessage) (contentType string, body []byte, err error) {
	if err := missing("BuildMessage",
		[2]string{"FromPartyID", o.FromPartyID}, [2]string{"ToPartyID", o.ToPartyID},
		[2]string{"CPAID", o.CPAID}, [2]string{"ConversationID", o.ConversationID},
		[2]string{"Action", o.Action}, [2]string{"MessageID", o.MessageID},
		[2]string{"Payload", string(bytes.TrimSpace(o.Payload))}); err != nil {
		return "", nil, err
	}
	if o.Timestamp.IsZero() {
		return "", nil, &BuildError{What: "BuildMessage", Missing: []string{"Timestamp"}}
	}
	boundary := o.Boundary
	if boundary == "" {
		boundary = DefaultBoundary
	}
	if len(boundary) > 70 || strings.ContainsAny(boundary, "\"\r\n\\") {
		return "", nil, fmt.Errorf("ebxml: BuildMessage: unusable boundary %q", boundary)
	}
	delim := "--" + boundary
	if bytes.Contains(o.Payload, []byte(delim)) {
		return "", nil, fmt.Errorf("ebxml: BuildMessage: payload contains the boundary %q", boundary)
	}
	msgID := strings.ToUpper(o.MessageID)
	cid := o.PayloadContentID
	if cid == "" {
		cid = msgID + "@" + ContentIDDomain
	}
	ptype := o.PayloadContentType
	if ptype == "" {
		ptype = "application/xml; charset=UTF-8"
	}
	if strings.ContainsAny(cid+ptype, "\r\n<>") {
		return "", nil, fmt.Errorf("ebxml: BuildMessage: Content-Id or Content-Type holds a line break or angle bracket")
	}
	env := outboundEnvelope(o, msgID, cid)

	var w writer
	// The two parts' headers, delimiters and line breaks are well under
	// 256 bytes beside the Content-Id and type: one buffer, never grown.
	w.Grow(len(env) + len(o.Payload) + 3*len(delim) + len(HeaderContentID) + len(cid) + len(ptype) + 256)
	w.s(delim, "\r\n",
		"Content-Id: <", HeaderContentID, ">\r\n",
		"Content-Type: text/xml; charset=UTF-8\r\n",
		"Content-Transfer-Encoding: 8bit\r\n\r\n")
	w.Write(env)
	w.s("\r\n", delim, "\r\n",
		"Content-Id: <", cid, ">\r\n",
		"Content-Type: ", ptype, "\r\n",
		"Content-Transfer-Encoding: 8bit\r\n\r\n")
	w.Write(o.Payload)
	w.s("\r\n", delim, "--\r\n")
	ct := `multipart/related; boundary="` + boundary + `"; type="text/xml"; start="<` + HeaderContentID + `>"`
	return ct, w.Bytes(), nil
}

// outboundEnvelopeSize is the buffer an outbound SOAP envelope starts
// with: the envelopes of the gateway's messages are 1.5–2 KB.
const outboundEnvelopeSize = 2 << 10

// outboundEnvelope writes the SOAP envelope of an outbound message.
func outboundEnvelope(o OutboundMessage, msgID, cid string) []byte {
	svc := o.Service
	if svc == "" {
		svc = ServiceMM
	}
	var w writer
	w.Grow(outboundEnvelopeSize)
	w.envelopeStart(` xmlns:xlink="` + NSXLink + `" xmlns:hl7ebxml="` + NSHL7ebXML + `"`)
	w.messageHeader(ebHeader{
		from: o.FromPartyID, to: o.ToPartyID, cpaID: o.CPAID, conversationID: o.ConversationID,
		service: svc, action: o.Action, messageID: msgID, timestamp: ebTimestamp(o.Timestamp),
		refToMessageID: o.RefToMessageID, duplicateElimination: o.DuplicateElimination,
	})
	if o.AckRequested {
		w.s(`    <eb:AckRequested SOAP:mustUnderstand="1" eb:version="2.0" SOAP:actor="`, ActorToPartyMSH, `" eb:signed="false"/>`, "\n")
	}
	if o.SyncReply {
		w.s(`    <eb:SyncReply SOAP:mustUnderstand="1" eb:version="2.0" SOAP:actor="`, ActorNext, `"/>`, "\n")
	}
	w.s("  </SOAP:Header>\n  <SOAP:Body>\n    <eb:Manifest eb:version=\"2.0\">\n      <eb:Reference xlink:href=\"cid:")
	w.t(cid)
	w.s("\">\n")
	if v := schemaVersion(o.Action); v != "" {
		w.s(`        <eb:Schema eb:location="urn:hl7-org:v3_`)
		w.t(o.Action)
		w.s(`.xsd" eb:version="`, v, "\"/>\n")
	}
	w.s(`        <eb:Description xml:lang="en">The HL7 payload</eb:Description>`, "\n",
		`        <hl7ebxml:Payload style="HL7" encoding="XML" version="3.0"/>`, "\n",
		"      </eb:Reference>\n    </eb:Manifest>\n  </SOAP:Body>\n</SOAP:Envelope>\n")
	return w.Bytes()
}

// schemaVersion returns the schema version Spine writes in eb:Schema for
// an interaction id: its last two characters when they are digits
// (PORX_IN020101UK31 → "31"), else "".
func schemaVersion(action string) string {
	n := len(action)
	if n < 2 || action[n-1] < '0' || action[n-1] > '9' || action[n-2] < '0' || action[n-2] > '9' {
		return ""
	}
	return action[n-2:]
}
