package ebxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// SOAPMessage is a SOAP sync request as ParseSOAPRequest reads it: the
// WS-Addressing header, the HL7 communication-function ASIDs and the first
// element of the SOAP Body.
type SOAPMessage struct {
	// MessageID is wsa:MessageID as sent, e.g. "uuid:6E2F...".
	MessageID string
	// Action is wsa:Action, e.g. "urn:nhs:names:services:mm/PORX_IN020101UK31".
	Action string
	// To is wsa:To.
	To string
	// FromAddress is wsa:From/wsa:Address.
	FromAddress string
	// ReplyToAddress is wsa:ReplyTo/wsa:Address.
	ReplyToAddress string
	// RelatesTo is wsa:RelatesTo (set on responses).
	RelatesTo string
	// ReceiverASID is hl7:communicationFunctionRcv/hl7:device/hl7:id/@extension.
	ReceiverASID string
	// SenderASID is hl7:communicationFunctionSnd/hl7:device/hl7:id/@extension.
	SenderASID string
	// Payload is the first child element of SOAP Body: the bytes of the
	// request from its start tag to its end tag. Namespace declarations the
	// element relies on but inherits from the envelope are added to its
	// start tag (see PayloadVerbatim); nothing inside is touched, so
	// signatures in the payload survive.
	Payload []byte
	// PayloadName is the payload element's namespace URI and local name.
	PayloadName xml.Name
	// PayloadVerbatim reports that Payload is byte for byte the request's
	// element (no inherited namespace declaration had to be added).
	PayloadVerbatim bool
}

// MessageUUID returns MessageID without its "uuid:" scheme.
func (m *SOAPMessage) MessageUUID() string {
	return stripUUIDScheme(m.MessageID)
}

// Interaction returns the interaction id: the part of Action after its last '/'.
func (m *SOAPMessage) Interaction() string {
	return m.Action[strings.LastIndexByte(m.Action, '/')+1:]
}

// stripUUIDScheme removes a leading "uuid:" (any case).
func stripUUIDScheme(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 5 && strings.EqualFold(s[:5], "uuid:") {
		return s[5:]
	}
	return s
}

// passThroughCharset lets declared encodings other than UTF-8 through
// unconverted; the header values Spine uses are ASCII.
func passThroughCharset(_ string, r io.Reader) (io.Reader, error) { return r, nil }

// soapState is ParseSOAPRequest's position in the document.
type soapState struct {
	stack  []xml.Name
	frames [][]xml.Attr // namespace declarations of each open element
	text   []byte
}

// inHeader reports whether the open elements are Envelope/Header followed by
// the given local names.
func (s *soapState) inHeader(locals ...string) bool {
	if len(s.stack) != 2+len(locals) || s.stack[1] != (xml.Name{Space: NSSOAP, Local: "Header"}) {
		return false
	}
	for i, l := range locals {
		if s.stack[2+i].Local != l {
			return false
		}
	}
	return true
}

// ParseSOAPRequest reads a SOAP sync request with WS-Addressing headers.
// The body is copied, so the result stays valid after the caller's buffer
// is reused. A request it cannot read (not well-formed, not a SOAP 1.1
// envelope, no Body child, no wsa:MessageID or wsa:Action) yields a
// *SOAPFault (code TMSCodeMalformed) ready for BuildSOAPFault.
func ParseSOAPRequest(body []byte) (*SOAPMessage, error) {
	b := trimXMLStart(body)
	if len(b) == 0 {
		return nil, malformed(nil, "", "empty SOAP request")
	}
	buf := bytes.Clone(b)
	d := xml.NewDecoder(bytes.NewReader(buf))
	d.CharsetReader = passThroughCharset
	var (
		st        soapState
		m         SOAPMessage
		envelopes int
		sawBody   bool
		otherWSA  string // a WS-Addressing namespace other than Spine's, seen in the Header
	)
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, malformed(err, "", "SOAP request is not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth := len(st.stack)
			switch {
			case depth == 0:
				envelopes++
				if t.Name.Local == "Envelope" && t.Name.Space != NSSOAP && envelopes == 1 {
					f := malformed(nil, "", fmt.Sprintf("Envelope namespace %q is not SOAP 1.1's %s", t.Name.Space, NSSOAP))
					f.FaultCode = FaultCodeVersionMismatch
					return nil, f
				}
				if t.Name != (xml.Name{Space: NSSOAP, Local: "Envelope"}) || envelopes > 1 {
					return nil, malformed(nil, "", "root element is not a single SOAP 1.1 Envelope")
				}
			case depth == 2 && st.stack[1] == (xml.Name{Space: NSSOAP, Local: "Header"}) &&
				(t.Name.Local == "MessageID" || t.Name.Local == "Action") && t.Name.Space != NSWSA && strings.Contains(t.Name.Space, "addressing"):
				otherWSA = t.Name.Space
			case depth == 1 && t.Name == (xml.Name{Space: NSSOAP, Local: "Body"}):
				sawBody = true
			case depth == 2 && st.stack[1] == (xml.Name{Space: NSSOAP, Local: "Body"}):
				if err := d.Skip(); err != nil {
					return nil, malformed(err, "SOAP:Body", "SOAP Body is not well-formed XML")
				}
				if m.Payload == nil {
					m.Payload, m.PayloadVerbatim = withInheritedNS(buf[off:d.InputOffset()], st.frames, t.Attr)
					m.PayloadName = t.Name
				}
				continue
			case depth == 4 && t.Name.Local == "id" && (st.inHeader("communicationFunctionRcv", "device") || st.inHeader("communicationFunctionSnd", "device")):
				asid := &m.ReceiverASID
				if st.stack[2].Local == "communicationFunctionSnd" {
					asid = &m.SenderASID
				}
				if *asid == "" {
					*asid = strings.TrimSpace(attrValue(t.Attr, "extension"))
				}
			}
			st.stack = append(st.stack, t.Name)
			st.frames = append(st.frames, nsDecls(t.Attr))
			st.text = st.text[:0]
		case xml.CharData:
			st.text = append(st.text, t...)
		case xml.EndElement:
			readSOAPHeaderField(&st, &m)
			st.stack = st.stack[:len(st.stack)-1]
			st.frames = st.frames[:len(st.frames)-1]
		}
	}
	switch {
	case envelopes == 0:
		return nil, malformed(nil, "", "no SOAP Envelope")
	case !sawBody || m.Payload == nil:
		return nil, malformed(nil, "SOAP:Body", "SOAP Body holds no element")
	case m.MessageID == "":
		return &m, malformed(nil, "wsa:MessageID", "wsa:MessageID missing"+otherAddressing(otherWSA))
	case m.MessageUUID() == "":
		return &m, malformed(nil, "wsa:MessageID", "wsa:MessageID has no id after its uuid: scheme")
	case m.Action == "":
		return &m, malformed(nil, "wsa:Action", "wsa:Action missing"+otherAddressing(otherWSA))
	}
	return &m, nil
}

// otherAddressing says, for a missing WS-Addressing header, that the
// request's are in namespace ns rather than Spine's ("" when none was seen).
func otherAddressing(ns string) string {
	if ns == "" {
		return ""
	}
	return fmt.Sprintf(": the request's WS-Addressing headers are in %s; Spine's are in %s", ns, NSWSA)
}

// readSOAPHeaderField stores the text of a closing WS-Addressing header element.
func readSOAPHeaderField(st *soapState, m *SOAPMessage) {
	name := st.stack[len(st.stack)-1]
	if name.Space != NSWSA {
		return
	}
	v := strings.TrimSpace(string(st.text))
	switch {
	case st.inHeader("MessageID"):
		m.MessageID = v
	case st.inHeader("Action"):
		m.Action = v
	case st.inHeader("To"):
		m.To = v
	case st.inHeader("RelatesTo"):
		m.RelatesTo = v
	case st.inHeader("From", "Address"):
		m.FromAddress = v
	case st.inHeader("ReplyTo", "Address"):
		m.ReplyToAddress = v
	}
}

// attrValue returns the value of the unprefixed attribute local, or "".
func attrValue(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// nsDecls returns the namespace declarations among attrs (as decoded by
// xml.Decoder.Token: xmlns:p has Space "xmlns", xmlns has Local "xmlns").
func nsDecls(attrs []xml.Attr) []xml.Attr {
	var out []xml.Attr
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			out = append(out, a)
		}
	}
	return out
}

// declPrefix returns the prefix a declaration binds ("" for the default namespace).
func declPrefix(a xml.Attr) string {
	if a.Name.Space == "xmlns" {
		return a.Name.Local
	}
	return ""
}

// withInheritedNS returns frag (one element, as sent) with declarations
// added to its start tag for every prefix it uses (in element or attribute
// names, or as the prefix of a QName-like attribute value such as
// xsi:type="hl7:CD") that is bound by an ancestor and not by the element
// itself. It reports whether frag was returned unchanged.
func withInheritedNS(frag []byte, ancestors [][]xml.Attr, own []xml.Attr) ([]byte, bool) {
	inScope := map[string]string{}
	for _, f := range ancestors {
		for _, a := range f {
			inScope[declPrefix(a)] = a.Value
		}
	}
	for _, a := range nsDecls(own) {
		delete(inScope, declPrefix(a))
	}
	if len(inScope) == 0 {
		return frag, true
	}
	used := usedPrefixes(frag)
	var need []string
	for p := range inScope {
		if used[p] && (p != "" || inScope[p] != "") {
			need = append(need, p)
		}
	}
	if len(need) == 0 {
		return frag, true
	}
	slices.Sort(need)
	nameEnd := bytes.IndexAny(frag[1:], " \t\r\n/>") + 1
	if nameEnd <= 0 {
		return frag, true
	}
	var w writer
	w.Grow(len(frag) + 64*len(need))
	w.Write(frag[:nameEnd])
	for _, p := range need {
		if p == "" {
			w.s(` xmlns="`)
		} else {
			w.s(` xmlns:`, p, `="`)
		}
		w.t(inScope[p])
		w.s(`"`)
	}
	w.Write(frag[nameEnd:])
	return w.Bytes(), false
}

// usedPrefixes lists the prefixes frag uses: element prefixes ("" for an
// unprefixed element), attribute prefixes, and prefixes of QName-like
// attribute values.
func usedPrefixes(frag []byte) map[string]bool {
	used := map[string]bool{}
	d := xml.NewDecoder(bytes.NewReader(frag))
	d.CharsetReader = passThroughCharset
	for {
		tok, err := d.RawToken()
		if err != nil {
			return used
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		used[se.Name.Space] = true
		for _, a := range se.Attr {
			if a.Name.Space != "" && a.Name.Space != "xmlns" && a.Name.Space != "xml" {
				used[a.Name.Space] = true
			}
			if p, _, ok := strings.Cut(a.Value, ":"); ok && p != "" && !strings.ContainsAny(p, "/ \t") {
				used[p] = true
			}
		}
	}
}
