package release

import (
	"bytes"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// A release response holds many signed prescriptions. Each signature must
// reach FHIR as the very bytes the message held (v3 → FHIR), and go back
// into its signatureText untouched (FHIR → v3); the prescribing mapper does
// that for a message with one signatureText, these helpers for several.

// signatureTextName is the local name the spans are found by.
const signatureTextName = "signatureText"

// signatureTextSpans returns, for each signatureText element of raw in
// document order, its bytes as a one-element document
// "<signatureText …>…</signatureText>" (nil for an empty element), or nil
// when the raw text cannot be matched to want elements unambiguously. An
// unprefixed element's span is raw's own bytes, not a copy; a prefixed
// one's is a copy without the prefix (and attributes), the copies in one
// allocation.
func signatureTextSpans(raw []byte, want int) [][]byte {
	locs := signatureTextOpenings(raw, want)
	if len(locs) != want {
		return nil
	}
	// Where each element's content lies: the copies of the prefixed ones
	// share one buffer, sized by cutSpans.
	var room [32]signatureSpan
	spans := room[:0]
	for _, loc := range locs {
		gt := bytes.IndexByte(raw[loc.start:], '>')
		if gt < 0 {
			return nil
		}
		gt += loc.start
		if raw[gt-1] == '/' {
			spans = append(spans, signatureSpan{openTag: loc, from: -1})
			continue
		}
		prefix := raw[loc.prefixStart:loc.name]
		closeTag := append(append(make([]byte, 0, 64), "</"...), prefix...)
		closeTag = append(closeTag, "signatureText>"...)
		end := bytes.Index(raw[gt+1:], closeTag)
		if end < 0 {
			return nil
		}
		spans = append(spans, signatureSpan{openTag: loc, from: gt + 1, to: gt + 1 + end})
	}
	return cutSpans(raw, spans)
}

// signatureSpan is where a signatureText element stands in a message: its
// start tag, and its content from from to to (from -1: an empty element).
type signatureSpan struct {
	openTag
	from, to int
}

// cutSpans returns the spans signatureTextSpans returns for elements of
// raw that stand at spans: an unprefixed element's own bytes, a copy of a
// prefixed one's content between unprefixed tags (the copies in one
// allocation), nil for an empty element.
func cutSpans(raw []byte, spans []signatureSpan) [][]byte {
	copied := 0
	for _, s := range spans {
		if s.from >= 0 && s.prefixStart != s.name {
			copied += s.to - s.from + len("<signatureText></signatureText>")
		}
	}
	out := make([][]byte, 0, len(spans))
	copies := make([]byte, 0, copied)
	for _, s := range spans {
		switch {
		case s.from < 0:
			out = append(out, nil)
		case s.prefixStart == s.name:
			to := s.to + len("</signatureText>")
			out = append(out, raw[s.start:to:to])
		default:
			from := len(copies)
			copies = append(copies, "<signatureText>"...)
			copies = append(copies, raw[s.from:s.to]...)
			copies = append(copies, "</signatureText>"...)
			out = append(out, copies[from:len(copies):len(copies)])
		}
	}
	return out
}

// scannedSignatureSpans returns the spans of sigs, signatureText elements
// of the message sp read last, as signatureTextSpans makes them, found
// from where sp's scanner read each element (v3.Space.ScannedName) instead
// of by scanning the whole message for start tags: the spans are the
// Space's bytes, which hold until sp is given back. It returns nil, for
// the caller to look the usual way, when there are no sigs, or when one
// cannot be told so: an element the scanner did not read, a prefix that
// is not a plain ASCII name, or content in which the element's end tag
// cannot be told as the first "</signatureText>" (with its prefix) after
// its start tag: a comment, CDATA section or processing instruction (which
// could hold such text), another signatureText element (whose end tag
// could come first), or its own end tag with white space before the '>'
// (which signatureTextSpans does not take for the end either). Else the
// scanner read a well-formed message, where every '<' of the content
// starts a tag, so that first end tag of the name is the element's own:
// a span signatureTextSpans would give, found without looking at the
// rest of the message (a start tag elsewhere in a comment, which stops
// signatureTextSpans matching tags to elements, does not matter here).
func scannedSignatureSpans(sp *v3.Space, sigs []*etree.Element) [][]byte {
	if sp == nil || len(sigs) == 0 {
		return nil
	}
	var src []byte
	var room [32]signatureSpan
	spans := room[:0]
	for _, st := range sigs {
		s, name := sp.ScannedName(st)
		if name < 0 || st.Tag != signatureTextName {
			return nil
		}
		src = s
		loc := openTag{start: name - 1, prefixStart: name, name: name}
		if src[name-1] == ':' {
			p := name - 1
			for p > 0 && isNameByte(src[p-1]) {
				p--
			}
			if p == 0 || p == name-1 || src[p-1] != '<' || !isNameStart(src[p]) {
				return nil
			}
			loc.start, loc.prefixStart = p-1, p
		}
		gt := v3.StartTagEnd(src, name+len(signatureTextName))
		if gt < 0 {
			return nil
		}
		if src[gt-1] == '/' {
			spans = append(spans, signatureSpan{openTag: loc, from: -1})
			continue
		}
		prefix := src[loc.prefixStart:loc.name]
		end := -1
		if plainSignature(st) {
			end = endBeforeNext(sp, src, st, prefix)
		}
		if end < gt+1 {
			end = scannedSignatureEnd(src, gt+1, prefix)
		}
		if end < 0 {
			return nil
		}
		spans = append(spans, signatureSpan{openTag: loc, from: gt + 1, to: end})
	}
	return cutSpans(src, spans)
}

// scannedSignatureEnd returns where the content of a signatureText element
// of a well-formed message src, starting at from, ends: at the first tag
// whose local name is signatureText, when that is "</"+prefix+"signatureText>";
// -1 when it is not (a start tag, another prefix, white space before the
// '>'), when there is none, or when a comment, CDATA section or
// processing instruction comes first.
func scannedSignatureEnd(src []byte, from int, prefix []byte) int {
	for i := from; ; {
		j := bytes.IndexByte(src[i:], '<')
		if j < 0 {
			return -1
		}
		lt := i + j
		i = lt + 1
		if i == len(src) {
			return -1
		}
		closing := false
		switch src[i] {
		case '!', '?':
			return -1
		case '/':
			closing = true
			i++
		}
		// The tag's name: a prefix and ':' before its local name, or
		// none. Any byte but white space, '/', '>' and ':' is taken for
		// part of a name, so that no name, ASCII or not, is mistaken.
		n := tagNameEnd(src, i)
		qstart, local := i, src[i:n]
		if n < len(src) && src[n] == ':' {
			m := tagNameEnd(src, n+1)
			local, n = src[n+1:m], m
		}
		if string(local) != signatureTextName {
			continue
		}
		// src[qstart:n] ends with the local name: what stands before it is
		// the prefix with its ':'.
		if !closing || !bytes.Equal(src[qstart:n-len(signatureTextName)], prefix) || n == len(src) || src[n] != '>' {
			return -1
		}
		return lt
	}
}

// plainSignature reports whether nothing inside st, as the scanner read
// it, can hold the text of a signatureText end tag: no comment, processing
// instruction or directive, no text holding '<' (a CDATA section's, which
// the tree keeps as text; text with a "&lt;" reference too, to be safe),
// and no element named signatureText. Then the first signatureText end tag
// after st's start tag is st's own.
func plainSignature(st *etree.Element) bool {
	for _, t := range st.Child {
		switch t := t.(type) {
		case *etree.Element:
			if t.Tag == signatureTextName || !plainSignature(t) {
				return false
			}
		case *etree.CharData:
			if strings.IndexByte(t.Data, '<') >= 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// endBeforeNext returns where the end tag "</"+prefix+"signatureText>" of
// st stands in src, the message sp's scanner read, found from the element
// that follows st: when that element comes after nothing but white space
// and st's end tag written so, that end tag is st's own (a comment, CDATA
// section or processing instruction before it would end in "-->", "]]>"
// or "?>", and no other element stands between). It returns -1 when st
// has no such following element, or the end tag is not written so right
// before it, for the caller to look for the end tag after st's start tag.
func endBeforeNext(sp *v3.Space, src []byte, st *etree.Element, prefix []byte) int {
	parent := st.Parent()
	if parent == nil {
		return -1
	}
	var next *etree.Element
	seen := false
	for _, t := range parent.Child {
		if t == etree.Token(st) {
			seen = true
			continue
		}
		if el, ok := t.(*etree.Element); ok && seen {
			next = el
			break
		}
	}
	if next == nil {
		return -1
	}
	nsrc, name := sp.ScannedName(next)
	if name < 0 || len(nsrc) != len(src) || &nsrc[0] != &src[0] {
		return -1
	}
	lt := name - 1 // the next element's '<', or its prefix's ':'
	if src[lt] == ':' {
		for lt > 0 && isNameByte(src[lt-1]) {
			lt--
		}
		lt--
		if lt < 0 || src[lt] != '<' {
			return -1
		}
	}
	j := lt
	for j > 0 && (src[j-1] == ' ' || src[j-1] == '\t' || src[j-1] == '\r' || src[j-1] == '\n') {
		j--
	}
	end := j - len("</>") - len(prefix) - len(signatureTextName)
	if end < 0 || src[j-1] != '>' || src[end] != '<' || src[end+1] != '/' ||
		!bytes.Equal(src[end+2:end+2+len(prefix)], prefix) || string(src[end+2+len(prefix):j-1]) != signatureTextName {
		return -1
	}
	return end
}

// tagNameEnd returns the index of the first byte from i on in src that
// ends a name or a prefix in a tag: white space, '/', '>' or ':'.
func tagNameEnd(src []byte, i int) int {
	for ; i < len(src); i++ {
		switch src[i] {
		case ' ', '\t', '\r', '\n', '/', '>', ':':
			return i
		}
	}
	return i
}

// openTag is where a signatureText start tag stands in a document: its '<',
// where its namespace prefix ("hl7:", empty when none) starts, and where
// the local name starts.
type openTag struct{ start, prefixStart, name int }

// signatureTextOpenings finds the start tags of signatureText elements in
// raw, with or without a namespace prefix: "<signatureText" or
// "<p:signatureText" followed by white space, '/' or '>'. It stops looking
// after more than want, which the caller refuses anyway. It is a plain byte
// scan (a regular expression over a whole release response cost a third of
// that mapping's time) for the name's x, which a message holds far more
// rarely than its first letter (the scan for "signatureText" itself
// stopped at every 's': 2.5 % of the mapping's instructions), and more
// rarely than its capital T: in the corpus's 20-prescription response
// (314 KB) 1,483 times against 2,326, most of either in the signatures'
// base64, but T also in names such as effectiveTime (cachegrind, the scan
// with its IndexByte calls: 285 K -> 207 K instructions a response).
func signatureTextOpenings(raw []byte, want int) []openTag {
	const anchor = len("signatureTe") // where the x stands in the name
	out := make([]openTag, 0, want)
	for from := anchor; len(out) <= want && from < len(raw); {
		i := bytes.IndexByte(raw[from:], 'x')
		if i < 0 {
			break
		}
		name := from + i - anchor
		from += i + 1
		end := name + len(signatureTextName)
		// The bytes beside the x first ("Te" and "t"), which rule out
		// nearly every other x (of base64 above all) before the name is
		// compared whole, a call of memequal each (with rawInner's like
		// check, 14.46M -> 14.44M instructions a 20-prescription
		// response).
		if end >= len(raw) || raw[from] != 't' || raw[from-2] != 'e' || string(raw[name:end]) != signatureTextName || !endsName(raw[end]) || name == 0 {
			continue
		}
		from = end
		switch raw[name-1] {
		case '<':
			out = append(out, openTag{start: name - 1, prefixStart: name, name: name})
		case ':':
			p := name - 1
			for p > 0 && isNameByte(raw[p-1]) {
				p--
			}
			if p > 0 && p < name-1 && raw[p-1] == '<' && isNameStart(raw[p]) {
				out = append(out, openTag{start: p - 1, prefixStart: p, name: name})
			}
		}
	}
	return out
}

// endsName reports whether c may follow an element name in a start tag.
func endsName(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' || c == '>'
}

// isNameStart and isNameByte are the ASCII letters of an XML name (a
// namespace prefix): a letter or '_' first, then letters, digits, '.', '-'.
func isNameStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameByte(c byte) bool {
	return isNameStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'
}

// signatureTextElements returns the signatureText elements under root, in
// document order.
func signatureTextElements(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if e.Tag == "signatureText" {
			out = append(out, e)
			return
		}
		for _, t := range e.Child {
			if ch, ok := t.(*etree.Element); ok {
				walk(ch)
			}
		}
	}
	walk(root)
	return out
}

// writeSignedDocument serialises doc indented and puts each signature's
// own bytes where its marker is, in document order (sigs must be in the
// order their signatureText elements appear).
func writeSignedDocument(c *core.BundleContext, doc *etree.Document, sigs []*core.SignaturePlacement) ([]byte, error) {
	if len(sigs) == 0 {
		return core.WriteIndented(doc), nil
	}
	raws := make([][]byte, len(sigs))
	for i, s := range sigs {
		s.Insert()
		raws[i] = s.Raw
	}
	out, written := core.WriteIndentedQueue(doc, core.SignatureMarker, raws)
	if written < len(sigs) {
		return nil, &core.FHIRError{Interaction: c.Interaction, Path: "Parameters", Msg: "writing v3: a signature's place was lost"}
	}
	return out, nil
}
