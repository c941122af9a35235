package gateway

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// Bounds of the readability check every payload passes before it is
// acknowledged. Time and memory are linear in the body, which --max-body
// bounds (default 4 MiB): the check reads the document once, token by
// token, keeps one name per open element (at most maxXMLDepth) and stops at
// the first fault. No DTD is read, so no entity is ever expanded and no
// external resource is fetched.
const (
	// maxXMLDepth is the deepest element nesting accepted. The deepest
	// legacy PORX message in the corpus nests about 25 elements below the
	// SOAP body; 256 leaves ample room.
	maxXMLDepth = 256
	// maxXMLElements is the most elements a document may have. Read into a
	// tree (the ebXML envelope at the door, a payload by the inbox worker
	// that maps it), each element costs about 350 bytes however few it
	// took on the wire: a million empty ones in 4 MiB took 230-380 MB.
	// Real messages take 80-90 bytes an element (the corpus's largest
	// release response: 3,506 in 315 KB), so a legacy message of 4 MiB
	// has about 50,000.
	maxXMLElements = 100_000
)

// Description numbers of unreadable payloads, in porxgate's 91xxxx range
// (see spine_errors.go).
const (
	// NumPayloadUnreadable: the HL7 payload is not well-formed UTF-8 XML, or
	// declares a DTD, or nests deeper than maxXMLDepth, or has more than
	// maxXMLElements elements.
	NumPayloadUnreadable = 910007
	// NumPayloadNotHL7: the payload's root element is not an HL7 v3
	// interaction (namespace urn:hl7-org:v3, an interaction id as its name).
	NumPayloadNotHL7 = 910008
)

// payloadError says why a payload cannot be read as HL7 v3.
type payloadError struct {
	// Num is NumPayloadUnreadable or NumPayloadNotHL7.
	Num int
	// Reason is the plain description.
	Reason string
	// Err is the decoder's error, if any.
	Err error
}

// Error implements error.
func (e *payloadError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the decoder's error.
func (e *payloadError) Unwrap() error { return e.Err }

// unreadable returns a NumPayloadUnreadable error.
func unreadable(err error, format string, args ...any) *payloadError {
	return &payloadError{Num: NumPayloadUnreadable, Reason: fmt.Sprintf(format, args...), Err: err}
}

// checkXMLDocument reads b as one XML document within the bounds above and
// returns its root element's name. It refuses invalid UTF-8, a DOCTYPE or
// any other DTD markup (entity declarations — internal, whose expansion
// blows up, or external, which would be fetched — live there, so none is
// ever processed), an undeclared entity reference, nesting deeper than
// maxXMLDepth, more than maxXMLElements elements, and anything but
// whitespace, comments and processing instructions around the single root
// element.
func checkXMLDocument(b []byte) (xml.Name, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(b) {
		return xml.Name{}, unreadable(nil, "payload is not valid UTF-8")
	}
	// Most messages are within the subset v3's fast scanner reads, and for
	// those its check (which builds no tree) has already checked
	// well-formedness, one root and no text outside it; what it does not
	// read (a DTD above all) goes to the decoder below, which refuses it.
	if root, ok := v3.CheckXML(b); ok {
		if root.Depth > maxXMLDepth {
			return xml.Name{}, unreadable(nil, "payload nests elements deeper than %d", maxXMLDepth)
		}
		if root.Elements > maxXMLElements {
			return xml.Name{}, tooManyElements()
		}
		return xml.Name{Space: root.Space, Local: root.Local}, nil
	}
	return checkXMLDecoded(b)
}

// checkXMLDecoded is checkXMLDocument for what the fast scanner leaves:
// encoding/xml's strict decoder reads the (valid UTF-8) bytes token by
// token.
func checkXMLDecoded(b []byte) (xml.Name, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	// The bytes were checked as UTF-8 above and are read as such whatever
	// the declaration says (as the SOAP parser does): a label such as
	// "us-ascii" on ASCII bytes is no reason to refuse a message.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	// RawToken skips the decoder's namespace translation (most of Token's
	// cost); the start and end tags are matched here instead, and the root's
	// namespace is read from its own declarations, where a root element's
	// prefix must be declared.
	var (
		root     xml.Name
		open     []xml.Name
		roots    int
		elements int
	)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			if len(open) > 0 {
				return xml.Name{}, unreadable(nil, "payload is not well-formed XML: element <%s> is not closed", qname(open[len(open)-1]))
			}
			break
		}
		if err != nil {
			return xml.Name{}, unreadable(err, "payload is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(open) == 0 {
				root = xml.Name{Space: namespaceOf(t), Local: t.Name.Local}
				roots++
				if roots > 1 {
					return xml.Name{}, unreadable(nil, "payload has more than one root element")
				}
			}
			if len(open) == maxXMLDepth {
				return xml.Name{}, unreadable(nil, "payload nests elements deeper than %d", maxXMLDepth)
			}
			if elements++; elements > maxXMLElements {
				return xml.Name{}, tooManyElements()
			}
			open = append(open, t.Name)
		case xml.EndElement:
			if len(open) == 0 || open[len(open)-1] != t.Name {
				return xml.Name{}, unreadable(nil, "payload is not well-formed XML: unexpected end tag </%s>", qname(t.Name))
			}
			open = open[:len(open)-1]
		case xml.Directive:
			return xml.Name{}, unreadable(nil, "payload declares a DTD or entities (<!%s...>), which HL7 v3 messages never do", firstWord(t))
		case xml.CharData:
			if len(open) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return xml.Name{}, unreadable(nil, "payload has text outside its root element")
			}
		}
	}
	if roots == 0 {
		return xml.Name{}, unreadable(nil, "payload has no root element")
	}
	return root, nil
}

// tooManyElements is the refusal of a document of more than
// maxXMLElements elements.
func tooManyElements() *payloadError {
	return unreadable(nil, "payload has more than %d elements", maxXMLElements)
}

// readEnvelope reads an ebXML message's SOAP envelope into a tree once
// checkXMLDocument's bounds hold (v3's fast reader otherwise): the header
// part is read into a tree at the door, for every message in hand.
func readEnvelope(b []byte) (*etree.Document, error) {
	if _, err := checkXMLDocument(b); err != nil {
		// Its reasons name the payload, which this is not.
		return nil, errors.New("the envelope" + strings.TrimPrefix(err.Error(), "payload"))
	}
	return v3.ReadXML(b)
}

// namespaceOf returns the namespace a root start tag declares for its own
// prefix (xmlns or xmlns:prefix among its attributes), or the prefix itself
// when it declares none, as the decoder's own translation would leave it.
func namespaceOf(t xml.StartElement) string {
	for _, a := range t.Attr {
		if (t.Name.Space == "" && a.Name.Space == "" && a.Name.Local == "xmlns") ||
			(t.Name.Space != "" && a.Name.Space == "xmlns" && a.Name.Local == t.Name.Space) {
			return a.Value
		}
	}
	return t.Name.Space
}

// qname writes a raw element name as it stood, prefix:local.
func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// firstWord returns the first word of a directive, e.g. "DOCTYPE".
func firstWord(d xml.Directive) string {
	w, _, _ := bytes.Cut(bytes.TrimSpace(d), []byte(" "))
	if len(w) > 16 {
		w = w[:16]
	}
	return string(w)
}

// checkHL7Payload checks that payload can be read as an HL7 v3 message:
// checkXMLDocument's rules, and a root element in the HL7 v3 namespace
// named as an interaction id (UK or SM family, e.g. PORX_IN020101UK31).
// It returns the root element's local name: the interaction the payload is.
func checkHL7Payload(payload []byte) (string, error) {
	root, err := checkXMLDocument(payload)
	if err != nil {
		return "", err
	}
	return root.Local, checkHL7Root(root)
}

// checkHL7Root checks that an element name is an HL7 v3 interaction root.
func checkHL7Root(root xml.Name) error {
	if root.Space != v3.Namespace {
		return &payloadError{Num: NumPayloadNotHL7, Reason: fmt.Sprintf("payload root element {%s}%s is not in the HL7 v3 namespace %s", root.Space, root.Local, v3.Namespace)}
	}
	if _, _, err := v3.Canonical(root.Local); err != nil && !isInteractionID(root.Local) {
		return &payloadError{Num: NumPayloadNotHL7, Reason: fmt.Sprintf("payload root element %s is not an HL7 v3 interaction", root.Local)}
	}
	return nil
}

// isInteractionID reports whether s has the shape of an HL7 v3 interaction
// id: four capitals, "_IN", six digits, then the realm and version (e.g.
// MCCI_IN010000UK13), whether or not porxgate knows it.
func isInteractionID(s string) bool {
	if len(s) < 15 || s[4:7] != "_IN" {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	for i := 7; i < 13; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
