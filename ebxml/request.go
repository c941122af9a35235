package ebxml

import (
	"bytes"
	"errors"
	"strings"
	"time"
	"unicode"
)

// Message is an inbound ebXML message as ParseRequest reads it: the
// eb:MessageHeader fields, the header extensions, the manifest and the MIME
// parts that follow the header part.
//
// All byte slices alias one private copy of the request body, so a Message
// stays valid after the caller's buffer is reused (as fasthttp/Fiber do).
type Message struct {
	// FromPartyID is eb:From/eb:PartyId: the sending MHS's party key.
	FromPartyID string
	// ToPartyID is eb:To/eb:PartyId: the receiving party key.
	ToPartyID string
	// CPAID is eb:CPAId.
	CPAID string
	// ConversationID is eb:ConversationId.
	ConversationID string
	// Service is eb:Service, e.g. ServiceMM.
	Service string
	// Action is eb:Action: the interaction id, e.g. PORX_IN020101UK31.
	Action string
	// MessageID is eb:MessageData/eb:MessageId exactly as sent (normally an
	// upper-case UUID; no case folding is done).
	MessageID string
	// Timestamp is eb:MessageData/eb:Timestamp; a time without a zone is
	// taken as UTC.
	Timestamp time.Time
	// TimestampRaw is the eb:Timestamp text as sent.
	TimestampRaw string
	// RefToMessageID is eb:MessageData/eb:RefToMessageId, empty on requests.
	RefToMessageID string
	// TimeToLive is eb:MessageData/eb:TimeToLive, zero when not sent: a
	// message must not be delivered once it has passed (ebMS 2.0 §6.4.4).
	TimeToLive time.Time
	// DuplicateElimination reports eb:DuplicateElimination in the header.
	DuplicateElimination bool
	// AckRequested reports an eb:AckRequested SOAP header.
	AckRequested bool
	// AckRequestedActor is eb:AckRequested's SOAP:actor as sent ("" when
	// it has none): the actor the acknowledgment must name.
	AckRequestedActor string
	// SyncReply reports an eb:SyncReply SOAP header: acknowledge on the
	// same HTTP exchange (HTTP 202 with BuildAcknowledgment's envelope).
	SyncReply bool
	// SOAPAction is the HTTP SOAPAction header with quotes removed.
	SOAPAction string
	// Manifest holds the eb:Manifest references in document order.
	Manifest []Reference
	// Envelope is the SOAP envelope (the header part's body) as received.
	Envelope []byte
	// Parts are the MIME parts after the header part, in order.
	Parts []Part
	// Payload points into Parts at the HL7 payload: the part the manifest
	// references (the reference with an hl7ebxml:Payload child first),
	// else the first part after the header. Nil when the message has no
	// part besides the header.
	Payload *Part
}

// Part is one MIME body part of an ebXML message.
type Part struct {
	// ContentID is the Content-Id without angle brackets ("" if absent).
	ContentID string
	// ContentType is the part's Content-Type header as sent.
	ContentType string
	// Body holds the bytes exactly as received (base64 parts decoded).
	Body []byte
}

// Reference is one eb:Manifest/eb:Reference.
type Reference struct {
	// Href is xlink:href as written, e.g. "cid:ABC@spine.nhs.uk".
	Href string
	// ContentID is the Content-ID a cid: Href names: the text after "cid:",
	// percent-decoded (RFC 2392) and without angle brackets; "" for a
	// non-cid href.
	ContentID string
	// Description is eb:Description.
	Description string
	// SchemaLocation and SchemaVersion are eb:Schema's attributes.
	SchemaLocation, SchemaVersion string
	// HL7Payload reports an hl7ebxml:Payload child (style HL7).
	HL7Payload bool
}

// ParseRequest reads an inbound ebXML request: contentType and soapAction
// are the HTTP headers, body the HTTP body. It accepts what legacy MHSs
// send: Content-Type parameters quoted or not (type=text/xml;
// start=ebXMLHeader@spine.nhs.uk), parts with LF or CRLF line ends,
// indented part headers, a SOAPAction quoted or bare, and a body without
// its closing boundary delimiter when its last part is the header part or
// the HL7 payload and reads as whole XML (as the NHS MHS adaptor's reader
// takes it). The payload is treated as bytes and returned exactly as
// received.
//
// Every failure is a *MessageError whose Code and Description() go into
// BuildMessageError. When the failure comes after the SOAP envelope was
// read (a header element missing, SOAPAction inconsistent, a payload part
// missing), the returned *Message is non-nil and holds what was read, so
// the error can be addressed to the sender; otherwise it is nil.
func ParseRequest(contentType, soapAction string, body []byte) (*Message, error) {
	return ParseRequestWith(nil, contentType, soapAction, body)
}

// ParseRequestWith is ParseRequest reading the SOAP envelope with read
// (nil: etree's reader), which must give the document etree's reader
// gives: the gateway's front door passes its faster one.
func ParseRequestWith(read XMLReader, contentType, soapAction string, body []byte) (*Message, error) {
	return parseRequest(read, contentType, soapAction, body, true)
}

// ParseRequestInPlace is ParseRequestWith without its copy of body: the
// Message's envelope and parts are slices of body, which the caller gives
// up (it must not change or reuse it). A front door that reads each body
// into a buffer of its own passes it here and saves a copy of every
// message.
func ParseRequestInPlace(read XMLReader, contentType, soapAction string, body []byte) (*Message, error) {
	return parseRequest(read, contentType, soapAction, body, false)
}

// parseRequest is ParseRequestWith, reading a copy of body when clone is
// set and body itself otherwise.
func parseRequest(read XMLReader, contentType, soapAction string, body []byte, clone bool) (*Message, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, newErr(CodeMimeProblem, NumEmptyBody, nil, "empty message body")
	}
	mt := parseMediaType(contentType)
	if mt.typ != "multipart/related" {
		return nil, newErr(CodeMimeProblem, NumContentType, nil, "Content-Type %q is not multipart/related", mt.typ)
	}
	boundary := mt.params["boundary"]
	if boundary == "" {
		return nil, newErr(CodeMimeProblem, NumNoBoundary, nil, "Content-Type has no boundary")
	}
	buf := body
	if clone {
		buf = bytes.Clone(body)
	}
	raw, err := splitMultipart(buf, boundary)
	truncated := errors.Is(err, errTruncated)
	if errors.Is(err, errTooManyParts) {
		return nil, newErr(CodeMimeProblem, NumMultipart, err, "%s", err)
	}
	if err != nil && !truncated {
		return nil, newErr(CodeMimeProblem, NumMultipart, err, "malformed multipart body")
	}
	root := 0
	if start := normalizeContentID(mt.params["start"]); start != "" {
		root = findRawPart(raw, start)
		switch {
		case root >= 0:
		case normalizeContentID(raw[0].header["content-id"]) == "":
			// The sender forgot the header part's Content-Id; the EIS puts
			// the header part first (Part 2, 2.5.4), where this one is.
			root = 0
		default:
			return nil, newErr(CodeMimeProblem, NumStartPart, nil, "start part <%s> not found", start)
		}
	}
	envBytes, merr := decodeTransfer(raw[root].header["content-transfer-encoding"], raw[root].body)
	if merr != nil {
		return nil, merr
	}
	env, merr := readEnvelope(envBytes, read)
	if merr != nil && truncated && root == len(raw)-1 {
		return nil, truncatedError("the ebXML header part")
	}
	if merr != nil {
		return nil, merr
	}
	msg := &Message{SOAPAction: trimSOAPAction(soapAction), Envelope: envBytes}
	if merr := readHeader(env, msg); merr != nil {
		return msg, merr
	}
	if merr := checkSOAPAction(msg); merr != nil {
		return msg, merr
	}
	for i, p := range raw {
		if i == root {
			continue
		}
		b, merr := decodeTransfer(p.header["content-transfer-encoding"], p.body)
		if merr != nil {
			return msg, merr
		}
		msg.Parts = append(msg.Parts, Part{
			ContentID:   normalizeContentID(p.header["content-id"]),
			ContentType: p.header["content-type"],
			Body:        b,
		})
	}
	if merr := selectPayload(msg); merr != nil {
		return msg, merr
	}
	if truncated && root != len(raw)-1 {
		if merr := checkLastPartWhole(msg, read); merr != nil {
			return msg, merr
		}
	}
	return msg, nil
}

// checkLastPartWhole checks the last part of a message whose body has no
// closing boundary delimiter (the NHS MHS adaptor's reader takes such a
// body): taken only when it is the HL7 payload and reads as one whole XML
// document, which a payload cut short does not. An attachment's end
// cannot be told, so a body ending in one is refused as before.
func checkLastPartWhole(msg *Message, read XMLReader) *MessageError {
	last := &msg.Parts[len(msg.Parts)-1]
	what := "the part <" + last.ContentID + ">"
	if last != msg.Payload {
		return truncatedError(what + ", an attachment,")
	}
	if _, err := parseXML(last.Body, read); err != nil {
		return truncatedError(what + ", the HL7 payload,")
	}
	return nil
}

// truncatedError refuses a body without its closing boundary delimiter
// whose last part (what) cannot be known to be whole.
func truncatedError(what string) *MessageError {
	return newErr(CodeMimeProblem, NumMultipart, errTruncated,
		"multipart body has no closing boundary delimiter and %s may have been cut short", what)
}

// findRawPart returns the index of the part whose Content-Id is id
// (exact match first, then ignoring case), or -1.
func findRawPart(parts []rawPart, id string) int {
	for i, p := range parts {
		if normalizeContentID(p.header["content-id"]) == id {
			return i
		}
	}
	for i, p := range parts {
		if strings.EqualFold(normalizeContentID(p.header["content-id"]), id) {
			return i
		}
	}
	return -1
}

// trimSOAPAction removes white space and surrounding quotes.
func trimSOAPAction(s string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"'`))
}

// checkSOAPAction accepts an empty SOAPAction, ebMS's "ebXML", the bare
// action, or Spine's "<service>/<action>"; anything else is Inconsistent.
func checkSOAPAction(m *Message) *MessageError {
	a := m.SOAPAction
	switch {
	case a == "", strings.EqualFold(a, "ebXML"), strings.EqualFold(a, m.Action),
		strings.EqualFold(a, m.Service+"/"+m.Action):
		return nil
	}
	return newErr(CodeInconsistent, NumSOAPAction, nil, "SOAPAction %s does not match eb:Service/eb:Action %s/%s", a, m.Service, m.Action)
}

// selectPayload points m.Payload at the HL7 payload part and checks that
// every other cid reference of the manifest names a part (ebMS 2.0
// §3.2.2: MimeProblem otherwise). The parts are indexed once by
// Content-Id: matching each reference against every part cost a sender's
// references times its parts, which a message within --max-body can make
// billions (TestEbXMLManyManifestReferencesAndParts).
func selectPayload(m *Message) *MessageError {
	if len(m.Parts) == 0 {
		for _, r := range m.Manifest {
			if r.ContentID != "" {
				return newErr(CodeMimeProblem, NumPayloadPart, nil, "manifest references cid:%s but the message has no payload part", r.ContentID)
			}
		}
		return nil
	}
	idx := indexParts(m.Parts)
	pref, at := preferredReference(m.Manifest), -1
	if pref >= 0 {
		at = idx.findRef(m.Manifest[pref])
	}
	switch {
	case pref < 0:
		m.Payload = &m.Parts[0]
	case at >= 0:
		m.Payload = &m.Parts[at]
	case m.Parts[0].ContentID == "":
		m.Payload = &m.Parts[0] // sender forgot the part's Content-Id
	default:
		return newErr(CodeMimeProblem, NumPayloadPart, nil, "manifest reference cid:%s not found among the MIME parts", m.Manifest[pref].ContentID)
	}
	unnamed := unnamedPart(m)
	for i, r := range m.Manifest {
		if i == pref || r.ContentID == "" || unnamed || idx.findRef(r) >= 0 {
			continue
		}
		return newErr(CodeMimeProblem, NumPayloadPart, nil, "manifest reference cid:%s not found among the MIME parts", r.ContentID)
	}
	return nil
}

// unnamedPart reports a part other than the payload without a Content-Id,
// which a reference naming no part may be meant for.
func unnamedPart(m *Message) bool {
	for i := range m.Parts {
		if &m.Parts[i] != m.Payload && m.Parts[i].ContentID == "" {
			return true
		}
	}
	return false
}

// preferredReference returns the index of the HL7 payload reference: the
// first cid reference with an hl7ebxml:Payload child, else the first cid
// reference, else -1.
func preferredReference(refs []Reference) int {
	first := -1
	for i, r := range refs {
		if r.ContentID == "" {
			continue
		}
		if r.HL7Payload {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// partIndex finds parts by Content-Id: the first part with an id as
// written, else the first whose id is the same ignoring case (as
// strings.EqualFold compares).
type partIndex struct {
	exact, folded map[string]int
}

// indexParts indexes parts by Content-Id.
func indexParts(parts []Part) partIndex {
	idx := partIndex{exact: make(map[string]int, len(parts)), folded: make(map[string]int, len(parts))}
	for i := range parts {
		id := parts[i].ContentID
		if !containsKey(idx.exact, id) {
			idx.exact[id] = i
		}
		if k := foldKey(id); !containsKey(idx.folded, k) {
			idx.folded[k] = i
		}
	}
	return idx
}

// containsKey reports whether m has key k.
func containsKey(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

// find returns the index of the part with Content-Id id (exact, then
// ignoring case), or -1.
func (x partIndex) find(id string) int {
	if i, ok := x.exact[id]; ok {
		return i
	}
	if i, ok := x.folded[foldKey(id)]; ok {
		return i
	}
	return -1
}

// findRef returns the index of the part a reference names: by its
// decoded Content-ID, else by the cid as written (a sender that did not
// percent-encode a Content-ID holding '%'), or -1.
func (x partIndex) findRef(r Reference) int {
	if i := x.find(r.ContentID); i >= 0 {
		return i
	}
	if raw := cidOf(r.Href, false); raw != r.ContentID {
		return x.find(raw)
	}
	return -1
}

// foldKey returns s with each rune replaced by the smallest rune of its
// Unicode simple case folding orbit (a byte that is not UTF-8 by
// utf8.RuneError, as strings.EqualFold reads it): two strings have the
// same key exactly when strings.EqualFold reports them equal.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		f := r
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			f = min(f, o)
		}
		b.WriteRune(f)
	}
	return b.String()
}
