package conformance

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/beevik/etree"
)

var interactionTagRE = regexp.MustCompile(`^(PORX|MCCI|QUQI|COMT)_IN[0-9]{6}(UK|SM)[0-9]{2}$`)

// ExtractPayload returns the HL7 v3 interaction inside a corpus file, which
// may be a bare interaction, a SOAP envelope, or an ebXML multipart message
// as Spine sends it, together with the interaction's local name. Namespace
// declarations the interaction relies on are carried onto it.
func ExtractPayload(data []byte) ([]byte, string, error) {
	for _, chunk := range xmlChunks(data) {
		doc := etree.NewDocument()
		doc.ReadSettings.Permissive = true
		if err := doc.ReadFromBytes(chunk); err != nil || doc.Root() == nil {
			continue
		}
		found := findInteraction(doc.Root())
		if found == nil {
			continue
		}
		if found == doc.Root() {
			return chunk, found.Tag, nil
		}
		out := etree.NewDocument()
		out.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
		cp := found.Copy()
		declare(found, cp)
		out.SetRoot(cp)
		b, err := out.WriteToBytes()
		if err != nil {
			return nil, "", fmt.Errorf("writing extracted payload: %w", err)
		}
		return b, found.Tag, nil
	}
	return nil, "", fmt.Errorf("no HL7 v3 interaction found")
}

// xmlChunks splits a file into the XML documents it holds: the whole file
// when it starts as XML, otherwise each MIME part's body.
func xmlChunks(data []byte) [][]byte {
	trimmed := bytes.TrimLeft(data, " \t\r\n\"")
	if bytes.HasPrefix(trimmed, []byte("<")) {
		return [][]byte{trimmed}
	}
	var out [][]byte
	for _, part := range bytes.Split(data, []byte("----=_MIME-Boundary")) {
		// Skip the part's MIME headers: the body starts after the first blank line.
		if h := bytes.Index(part, []byte("\n\n")); h >= 0 {
			part = part[h+2:]
		} else if h := bytes.Index(part, []byte("\r\n\r\n")); h >= 0 {
			part = part[h+4:]
		}
		if i := bytes.Index(part, []byte("<")); i >= 0 {
			body := part[i:]
			body = bytes.TrimRight(body, " \t\r\n\"-")
			out = append(out, body)
		}
	}
	return out
}

func findInteraction(e *etree.Element) *etree.Element {
	if interactionTagRE.MatchString(e.Tag) {
		return e
	}
	for _, c := range e.ChildElements() {
		if f := findInteraction(c); f != nil {
			return f
		}
	}
	return nil
}

// declare copies onto cp the namespace declarations that orig's subtree
// uses but inherits from its ancestors.
func declare(orig, cp *etree.Element) {
	prefixes := map[string]bool{}
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		prefixes[e.Space] = true
		for _, a := range e.Attr {
			if a.Space != "" && a.Space != "xmlns" {
				prefixes[a.Space] = true
			}
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(orig)
	for p := range prefixes {
		key := "xmlns"
		if p != "" {
			key = "xmlns:" + p
		}
		if cp.SelectAttr(key) != nil {
			continue
		}
		if uri := lookupNS(orig, p); uri != "" || p == "" {
			if uri == "" {
				continue
			}
			cp.CreateAttr(key, uri)
		}
	}
}

func lookupNS(e *etree.Element, prefix string) string {
	for cur := e; cur != nil; cur = cur.Parent() {
		for _, a := range cur.Attr {
			if prefix == "" && a.Space == "" && a.Key == "xmlns" {
				return a.Value
			}
			if prefix != "" && a.Space == "xmlns" && a.Key == prefix {
				return a.Value
			}
		}
	}
	if strings.EqualFold(prefix, "xml") {
		return "http://www.w3.org/XML/1998/namespace"
	}
	return ""
}
