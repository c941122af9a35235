package loadgen

import (
	"bytes"
	"strings"

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
