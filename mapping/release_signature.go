package mapping

import (
	"bytes"
	"regexp"

	"github.com/beevik/etree"
)

// A release response holds many signed prescriptions. Each signature must
// reach FHIR as the very bytes the message held (v3 → FHIR), and go back
// into its signatureText untouched (FHIR → v3); the prescribing mapper does
// that for a message with one signatureText, these helpers for several.

var signatureTextOpenRE = regexp.MustCompile(`<([A-Za-z_][A-Za-z0-9_.-]*:)?signatureText[\s/>]`)

// signatureTextSpans returns, for each signatureText element of raw in
// document order, its bytes as a one-element document
// "<signatureText>…</signatureText>" (nil for an empty element), or nil when
// the raw text cannot be matched to want elements unambiguously.
func signatureTextSpans(raw []byte, want int) [][]byte {
	locs := signatureTextOpenRE.FindAllSubmatchIndex(raw, -1)
	if len(locs) != want {
		return nil
	}
	out := make([][]byte, 0, want)
	for _, loc := range locs {
		start := loc[0]
		var prefix []byte
		if loc[2] >= 0 {
			prefix = raw[loc[2]:loc[3]]
		}
		gt := bytes.IndexByte(raw[start:], '>')
		if gt < 0 {
			return nil
		}
		gt += start
		if raw[gt-1] == '/' {
			out = append(out, nil)
			continue
		}
		closeTag := append(append([]byte("</"), prefix...), "signatureText>"...)
		end := bytes.Index(raw[gt+1:], closeTag)
		if end < 0 {
			return nil
		}
		inner := raw[gt+1 : gt+1+end]
		span := make([]byte, 0, len(inner)+len("<signatureText></signatureText>"))
		span = append(span, "<signatureText>"...)
		span = append(span, inner...)
		span = append(span, "</signatureText>"...)
		out = append(out, span)
	}
	return out
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
		for _, ch := range e.ChildElements() {
			walk(ch)
		}
	}
	walk(root)
	return out
}

// writeSignedDocument serialises doc indented and puts each signature's
// own bytes where its marker is, in document order (sigs must be in the
// order their signatureText elements appear).
func writeSignedDocument(c *BundleContext, doc *etree.Document, sigs []*signaturePlacement) ([]byte, error) {
	for _, s := range sigs {
		s.insert()
	}
	out := WriteIndented(doc)
	if len(sigs) == 0 {
		return out, nil
	}
	size := len(out)
	for _, s := range sigs {
		size += len(s.raw)
	}
	marker := []byte("<!--" + signatureMarker + "-->")
	buf := bytes.NewBuffer(make([]byte, 0, size))
	rest := out
	for _, s := range sigs {
		i := bytes.Index(rest, marker)
		if i < 0 {
			return nil, &FHIRError{Interaction: c.Interaction, Path: "Parameters", Msg: "writing v3: a signature's place was lost"}
		}
		buf.Write(rest[:i])
		buf.Write(s.raw)
		rest = rest[i+len(marker):]
	}
	buf.Write(rest)
	return buf.Bytes(), nil
}
