package release

import (
	"bytes"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
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
	// Where each element's content lies, and how much room the copies of
	// the prefixed ones take: they share one buffer.
	type content struct{ from, to int }
	var room [32]content
	contents := room[:0]
	copied := 0
	for _, loc := range locs {
		gt := bytes.IndexByte(raw[loc.start:], '>')
		if gt < 0 {
			return nil
		}
		gt += loc.start
		if raw[gt-1] == '/' {
			contents = append(contents, content{-1, -1})
			continue
		}
		prefix := raw[loc.prefixStart:loc.name]
		closeTag := append(append(make([]byte, 0, 64), "</"...), prefix...)
		closeTag = append(closeTag, "signatureText>"...)
		end := bytes.Index(raw[gt+1:], closeTag)
		if end < 0 {
			return nil
		}
		contents = append(contents, content{gt + 1, gt + 1 + end})
		if len(prefix) > 0 {
			copied += end + len("<signatureText></signatureText>")
		}
	}
	out := make([][]byte, 0, want)
	copies := make([]byte, 0, copied)
	for i, loc := range locs {
		c := contents[i]
		switch {
		case c.from < 0:
			out = append(out, nil)
		case loc.prefixStart == loc.name:
			to := c.to + len("</signatureText>")
			out = append(out, raw[loc.start:to:to])
		default:
			from := len(copies)
			copies = append(copies, "<signatureText>"...)
			copies = append(copies, raw[c.from:c.to]...)
			copies = append(copies, "</signatureText>"...)
			out = append(out, copies[from:len(copies):len(copies)])
		}
	}
	return out
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
