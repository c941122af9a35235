package loadgen

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/ebxml"
)

// answerFields are what the receiver needs of a delivered answer: the
// conversation it answers, its code, and what its eb:Acknowledgment
// repeats.
type answerFields struct {
	from, to, cpaID, conversationID, messageID, action string
	// ackRequested says the header holds an eb:AckRequested, ackActor its
	// SOAP actor.
	ackRequested bool
	ackActor     string
	// code is the HL7 acknowledgement typeCode, or action when there is none.
	code string
}

// message is the header of f as ebxml.BuildAcknowledgment reads it.
func (f answerFields) message() *ebxml.Message {
	return &ebxml.Message{FromPartyID: f.from, ToPartyID: f.to, CPAID: f.cpaID, ConversationID: f.conversationID,
		MessageID: f.messageID, Action: f.action, AckRequested: f.ackRequested, AckRequestedActor: f.ackActor}
}

// fieldsOf is answerFields of a message ebxml.ParseRequest read.
func fieldsOf(m *ebxml.Message) answerFields {
	return answerFields{from: m.FromPartyID, to: m.ToPartyID, cpaID: m.CPAID, conversationID: m.ConversationID,
		messageID: m.MessageID, action: m.Action, ackRequested: m.AckRequested, ackActor: m.AckRequestedActor, code: answerCode(m)}
}

// scanAnswer finds an answer's fields in its body without reading the
// XML into a tree (ebxml.ParseRequest took about 50 µs and 37
// allocations an answer, a tenth of the load generator's CPU a message):
// the eb:MessageHeader's ids and eb:AckRequested's actor in the first MIME
// part, the acknowledgement typeCode after it. It answers false, and the
// receiver reads the message whole, whenever the body is not plainly the
// multipart/related message a gateway delivers: no boundary, a header
// part without an eb:MessageHeader, a comment, CDATA section or entity in
// it, or an id missing.
func scanAnswer(contentType string, body []byte) (answerFields, bool) {
	var f answerFields
	boundary := mediaParam(contentType, "boundary")
	if boundary == "" {
		return f, false
	}
	delim := []byte("--" + boundary)
	i := bytes.Index(body, delim)
	if i < 0 || i > 0 && body[i-1] != '\n' {
		return f, false
	}
	head := body[i+len(delim):]
	j := bytes.Index(head, append([]byte("\n"), delim...))
	if j < 0 {
		return f, false
	}
	rest := head[j:]
	head = head[:j]
	if bytes.Contains(head, []byte("<!")) || bytes.IndexByte(head, '&') >= 0 {
		return f, false
	}
	mh, ok := element(head, "MessageHeader")
	if !ok {
		return f, false
	}
	from, _ := element(mh, "From")
	to, _ := element(mh, "To")
	f.from, _ = text(from, "PartyId")
	f.to, _ = text(to, "PartyId")
	f.cpaID, _ = text(mh, "CPAId")
	f.conversationID, _ = text(mh, "ConversationId")
	f.action, _ = text(mh, "Action")
	f.messageID, _ = text(mh, "MessageId")
	if f.from == "" || f.to == "" || f.cpaID == "" || f.conversationID == "" || f.action == "" || f.messageID == "" {
		return f, false
	}
	if tag, ok := startTag(head, "AckRequested"); ok {
		f.ackRequested, f.ackActor = true, attr(tag, "actor")
	}
	f.code = f.action
	const key = `acknowledgement typeCode="`
	if k := bytes.Index(rest, []byte(key)); k >= 0 {
		code := rest[k+len(key):]
		if e := bytes.IndexByte(code, '"'); e > 0 && e <= 2 {
			f.code = string(code[:e])
		}
	}
	return f, true
}

// mediaParam is the value of parameter name of a Content-Type, quoted or
// not ("" when it has none).
func mediaParam(ct, name string) string {
	for _, p := range strings.Split(ct, ";")[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v
	}
	return ""
}

// startTag finds the first start tag of an element named local (with any
// prefix) in b and returns it from its name to before its '>'.
func startTag(b []byte, local string) ([]byte, bool) {
	for from := 0; ; {
		i := bytes.Index(b[from:], []byte(local))
		if i < 0 {
			return nil, false
		}
		i += from
		from = i + len(local)
		// Before the name: '<' or a prefix after one; after it: the tag
		// goes on or ends.
		p := i - 1
		if p >= 0 && b[p] == ':' {
			for p--; p >= 0 && isNameByte(b[p]); p-- {
			}
		}
		if p < 0 || b[p] != '<' || from >= len(b) {
			continue
		}
		switch b[from] {
		case '>', '/', ' ', '\t', '\r', '\n':
		default:
			continue
		}
		end := bytes.IndexByte(b[from:], '>')
		if end < 0 {
			return nil, false
		}
		return b[i : from+end], true
	}
}

// isNameByte reports whether c may be in a namespace prefix.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// element returns the content of the first element named local in b (any
// prefix): what lies between its start tag and its end tag (none for an
// empty element).
func element(b []byte, local string) ([]byte, bool) {
	tag, ok := startTag(b, local)
	if !ok {
		return nil, false
	}
	if bytes.HasSuffix(tag, []byte("/")) {
		return nil, true
	}
	// tag is a slice of b: the content starts after its '>'.
	start := cap(b) - cap(tag) + len(tag) + 1
	content := b[start:]
	for k := 0; ; {
		e := bytes.Index(content[k:], []byte("</"))
		if e < 0 {
			return nil, false
		}
		name := content[k+e+2:]
		if c := bytes.IndexByte(name, ':'); c >= 0 && c < bytes.IndexByte(name, '>') {
			name = name[c+1:]
		}
		if bytes.HasPrefix(name, []byte(local)) && len(name) > len(local) && (name[len(local)] == '>' || name[len(local)] == ' ') {
			return content[:k+e], true
		}
		k += e + 2
	}
}

// text is the trimmed text of the first element named local in b: ""
// (false) when it is missing or holds markup.
func text(b []byte, local string) (string, bool) {
	c, ok := element(b, local)
	if !ok || bytes.IndexByte(c, '<') >= 0 {
		return "", false
	}
	return string(bytes.TrimSpace(c)), true
}

// attr is the trimmed value of the attribute named local (any prefix) of
// start tag tag, "" when it has none.
func attr(tag []byte, local string) string {
	for from := 0; ; {
		i := bytes.Index(tag[from:], []byte(local+"="))
		if i < 0 {
			return ""
		}
		i += from
		from = i + len(local) + 1
		if p := i - 1; p < 0 || tag[p] != ':' && tag[p] != ' ' && tag[p] != '\t' && tag[p] != '\r' && tag[p] != '\n' {
			continue
		}
		if from >= len(tag) || tag[from] != '"' && tag[from] != '\'' {
			return ""
		}
		q := tag[from]
		end := bytes.IndexByte(tag[from+1:], q)
		if end < 0 {
			return ""
		}
		return strings.TrimSpace(string(tag[from+1 : from+1+end]))
	}
}

// ackKey tells apart the eb:Acknowledgments whose markup is the same but
// for the ids and times written over its stand-ins: those of one sender
// (parties, CPA, AckRequested actor) with ids of the same lengths.
type ackKey struct {
	from, to, cpaID, actor string
	conversation, ref      int
}

// ackTemplate is an eb:Acknowledgment made once by
// ebxml.BuildAcknowledgment with stand-ins, and where they stand.
type ackTemplate struct {
	buf                          []byte
	conversation, ref, id, stamp []int
}

// ackTemplates are the receiver's acknowledgments made once (nil for a
// key whose stand-ins could not be told apart: built each time).
type ackTemplates struct {
	mu sync.Mutex
	m  map[ackKey]*ackTemplate
}

// ackIDStandIn stands for the acknowledgment's own MessageId.
const ackIDStandIn = "````````-````-````-````-````````````"

// appendAck appends to dst the eb:Acknowledgment of the answer f, with
// id (an upper-case UUID) as its MessageId, sent at now: the bytes
// ebxml.BuildAcknowledgment writes (TestAckTemplateIsBuildAcknowledgment),
// from a template once one is made for f's sender, which cost a fifth of
// the receiver's instructions an answer when written each time.
func (a *ackTemplates) appendAck(dst []byte, f answerFields, id string, now time.Time) ([]byte, error) {
	if !plainID(f.conversationID) || !plainID(f.messageID) || len(id) != len(ackIDStandIn) {
		return a.build(dst, f, id, now)
	}
	k := ackKey{from: f.from, to: f.to, cpaID: f.cpaID, actor: f.ackActor, conversation: len(f.conversationID), ref: len(f.messageID)}
	a.mu.Lock()
	t, ok := a.m[k]
	a.mu.Unlock()
	if !ok {
		var err error
		if t, err = newAckTemplate(f); err != nil {
			return dst, err
		}
		a.mu.Lock()
		if a.m == nil {
			a.m = map[ackKey]*ackTemplate{}
		}
		a.m[k] = t
		a.mu.Unlock()
	}
	if t == nil {
		return a.build(dst, f, id, now)
	}
	start := len(dst)
	dst = append(dst, t.buf...)
	b := dst[start:]
	for _, o := range t.conversation {
		copy(b[o:], f.conversationID)
	}
	for _, o := range t.ref {
		copy(b[o:], f.messageID)
	}
	for _, o := range t.id {
		copy(b[o:], id)
	}
	var stamp [len(ebxml.TimestampLayout)]byte
	now.UTC().AppendFormat(stamp[:0], ebxml.TimestampLayout)
	for _, o := range t.stamp {
		copy(b[o:], stamp[:])
	}
	return dst, nil
}

// build appends the acknowledgment of f written anew.
func (a *ackTemplates) build(dst []byte, f answerFields, id string, now time.Time) ([]byte, error) {
	ack, err := ebxml.BuildAcknowledgment(f.message(), id, now)
	if err != nil {
		return dst, fmt.Errorf("receiver: acknowledgment: %w", err)
	}
	return append(dst, ack...), nil
}

// newAckTemplate makes the acknowledgment template of f's sender: nil
// (and no error) when a stand-in is not found as often as it is written,
// as when a party id holds one.
func newAckTemplate(f answerFields) (*ackTemplate, error) {
	conv, ref := strings.Repeat("~", len(f.conversationID)), strings.Repeat("^", len(f.messageID))
	g := f
	g.conversationID, g.messageID = conv, ref
	ack, err := ebxml.BuildAcknowledgment(g.message(), ackIDStandIn, stampStandIn)
	if err != nil {
		return nil, fmt.Errorf("receiver: acknowledgment: %w", err)
	}
	t := &ackTemplate{buf: ack, conversation: offsets(ack, conv), ref: offsets(ack, ref),
		id: offsets(ack, ackIDStandIn), stamp: offsets(ack, ebxmlStamp(stampStandIn))}
	// eb:ConversationId; eb:MessageData's and eb:Acknowledgment's
	// RefToMessageId and Timestamp; eb:MessageId.
	if len(t.conversation) != 1 || len(t.ref) != 2 || len(t.id) != 1 || len(t.stamp) != 2 {
		return nil, nil
	}
	return t, nil
}

// plainID reports whether an id is written as it is in XML text: printable
// ASCII that needs no escape.
func plainID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '&' || c == '<' || c == '>' || c == '"' {
			return false
		}
	}
	return s != ""
}
