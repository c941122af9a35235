package mapping

import (
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/v3"
)

// ParseV3 reads a v3 message as v3.Parse does, several times faster: a
// small scanner covers the XML that messages are made of (declaration,
// elements, attributes, text, the five predefined entities and character
// references, comments, processing instructions) and builds the same etree
// document. Anything else (CDATA, DOCTYPE, a well-formedness error) goes to
// v3.Parse, so errors and unusual documents are read exactly as before.
func ParseV3(data []byte) (*v3.Reader, v3.Node, error) {
	doc, ok := fastParseXML(data)
	if !ok {
		return v3.Parse(data)
	}
	root := doc.Root()
	if root == nil || root.NamespaceURI() != v3.Namespace {
		return v3.Parse(data)
	}
	r, n := v3.NewReader(root.Tag, root)
	return r, n, nil
}

// maxXMLDepth is etree's default nesting limit; deeper documents go to the
// full parser, which refuses them.
const maxXMLDepth = 1024

// xmlScanner is the state of fastParseXML.
type xmlScanner struct {
	b   []byte
	i   int
	buf []byte
}

// fastParseXML parses the common subset of XML into an etree document; ok
// is false for anything outside the subset or not well-formed.
func fastParseXML(data []byte) (doc *etree.Document, ok bool) {
	s := &xmlScanner{b: data}
	doc = etree.NewDocument()
	var stack []*etree.Element
	parent := &doc.Element
	seenRoot := false
	for s.i < len(s.b) {
		if s.b[s.i] != '<' {
			text, ok := s.text()
			if !ok {
				return nil, false
			}
			if len(stack) == 0 {
				if !isXMLSpace(text) {
					return nil, false
				}
			}
			cd := parent.CreateText(text)
			if isXMLSpace(text) {
				cd.SetData(text) // marks it white space, as etree's reader does
			}
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, false
		}
		switch c := s.b[s.i+1]; {
		case c == '/':
			if len(stack) == 0 {
				return nil, false
			}
			s.i += 2
			name, ok := s.name()
			if !ok || name != stack[len(stack)-1].FullTag() {
				return nil, false
			}
			s.space()
			if !s.expect('>') {
				return nil, false
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				parent = &doc.Element
			} else {
				parent = stack[len(stack)-1]
			}
		case c == '?':
			target, inst, ok := s.procInst()
			if !ok {
				return nil, false
			}
			parent.CreateProcInst(target, inst)
		case c == '!':
			comment, ok := s.comment()
			if !ok {
				return nil, false
			}
			parent.CreateComment(comment)
		default:
			if len(stack) == 0 && seenRoot || len(stack) >= maxXMLDepth {
				return nil, false
			}
			s.i++
			el, empty, ok := s.startTag(parent)
			if !ok {
				return nil, false
			}
			if len(stack) == 0 {
				seenRoot = true
			}
			if !empty {
				stack = append(stack, el)
				parent = el
			}
		}
	}
	if len(stack) != 0 || !seenRoot {
		return nil, false
	}
	return doc, true
}

// startTag reads an element's name and attributes after '<' and creates it
// under parent; empty reports a self-closing tag.
func (s *xmlScanner) startTag(parent *etree.Element) (el *etree.Element, empty, ok bool) {
	name, ok := s.name()
	if !ok {
		return nil, false, false
	}
	el = parent.CreateElement(name)
	for {
		sp := s.space()
		if s.i >= len(s.b) {
			return nil, false, false
		}
		switch s.b[s.i] {
		case '>':
			s.i++
			return el, false, true
		case '/':
			s.i++
			if !s.expect('>') {
				return nil, false, false
			}
			return el, true, true
		}
		if !sp {
			return nil, false, false
		}
		key, ok := s.name()
		if !ok {
			return nil, false, false
		}
		s.space()
		if !s.expect('=') {
			return nil, false, false
		}
		s.space()
		val, ok := s.attrValue()
		if !ok || el.SelectAttr(key) != nil {
			return nil, false, false
		}
		el.CreateAttr(key, val)
	}
}

// name reads an XML name made of ASCII name characters (at most one colon,
// not first or last); other names go to the full parser.
func (s *xmlScanner) name() (string, bool) {
	start := s.i
	colons := 0
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9', c == '-', c == '.':
			if s.i == start {
				return "", false
			}
		case c == ':':
			if s.i == start {
				return "", false
			}
			colons++
		default:
			goto done
		}
		s.i++
	}
done:
	if s.i == start || colons > 1 || s.b[s.i-1] == ':' {
		return "", false
	}
	if n, ok := v3Names[string(s.b[start:s.i])]; ok {
		return n, true // no allocation for the names messages are made of
	}
	return string(s.b[start:s.i]), true
}

// v3Names are the element and attribute names of PORX messages, so the
// scanner can reuse one string for each instead of allocating it anew.
var v3Names = func() map[string]string {
	names := []string{
		"id", "code", "effectiveTime", "value", "low", "high", "name", "telecom", "addr", "time",
		"root", "extension", "codeSystem", "displayName", "classCode", "moodCode", "typeCode",
		"determinerCode", "contextControlCode", "contextConductionInd", "inversionInd", "negationInd",
		"nullFlavor", "use", "unit", "seperatableInd", "templateId", "typeId", "component", "author",
		"responsibleParty", "performer", "AgentPerson", "agentPerson", "representedOrganization",
		"healthCareProviderLicense", "Organization", "streetAddressLine", "postalCode", "prefix", "given",
		"family", "suffix", "pertinentInformation1", "pertinentInformation2", "pertinentInformation3",
		"pertinentInformation4", "pertinentInformation5", "pertinentInformation7", "pertinentInformation8",
		"pertinentLineItem", "product", "manufacturedProduct", "manufacturedRequestedMaterial",
		"lineItemQuantity", "quantity", "translation", "repeatNumber", "actRef", "signatureText",
		"recordTarget", "Patient", "patientPerson", "administrativeGenderCode", "birthTime",
		"playedProviderPatient", "subjectOf", "patientCareProvision", "healthCareProvider",
		"pertinentAdditionalInstructions", "pertinentDosageInstructions", "pertinentPrescriberEndorsement",
		"AgentOrgSDS", "agentOrganizationSDS", "device", "xmlns",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = n
	}
	return m
}()

// space skips white space and reports whether there was any.
func (s *xmlScanner) space() bool {
	start := s.i
	for s.i < len(s.b) && isXMLSpaceByte(s.b[s.i]) {
		s.i++
	}
	return s.i > start
}

func (s *xmlScanner) expect(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// attrValue reads a quoted attribute value.
func (s *xmlScanner) attrValue() (string, bool) {
	if s.i >= len(s.b) || (s.b[s.i] != '"' && s.b[s.i] != '\'') {
		return "", false
	}
	q := s.b[s.i]
	s.i++
	return s.chars(q)
}

// text reads character data up to the next '<'.
func (s *xmlScanner) text() (string, bool) { return s.chars('<') }

// chars reads characters up to stop (consumed unless it is '<'), decoding
// entity and character references and normalising line ends.
func (s *xmlScanner) chars(stop byte) (string, bool) {
	start := s.i
	if stop == '<' {
		if ws, ok := s.indentation(); ok {
			return ws, true
		}
	}
	plain := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == stop {
			break
		}
		switch {
		case c == '&' || c == '\r':
			plain = false
		case c == '<':
			return "", false
		case c == '>' && stop == '<' && s.i >= start+2 && s.b[s.i-1] == ']' && s.b[s.i-2] == ']':
			return "", false
		case c < 0x20 && c != '\t' && c != '\n':
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return "", false
			}
			s.i += size
			continue
		}
		s.i++
	}
	if s.i >= len(s.b) && stop != '<' {
		return "", false
	}
	raw := s.b[start:s.i]
	if stop != '<' {
		s.i++
	}
	if plain {
		return string(raw), true
	}
	return s.decode(raw)
}

// indentation reads a newline followed by spaces up to '<' without
// allocating (the usual text between elements).
func (s *xmlScanner) indentation() (string, bool) {
	j := s.i
	if j >= len(s.b) || s.b[j] != '\n' {
		return "", false
	}
	j++
	for j < len(s.b) && s.b[j] == ' ' {
		j++
	}
	if j >= len(s.b) || s.b[j] != '<' || j-s.i > len(indentSpaces) {
		return "", false
	}
	n := j - s.i
	s.i = j
	return indentSpaces[:n], true
}

// indentSpaces holds the indentation strings the scanner hands out.
const indentSpaces = "\n                                                                                                                                "

// decode resolves references and line ends in raw character data.
func (s *xmlScanner) decode(raw []byte) (string, bool) {
	out := s.buf[:0]
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		switch c {
		case '\r':
			out = append(out, '\n')
			if j+1 < len(raw) && raw[j+1] == '\n' {
				j++
			}
		case '&':
			end := j + 1
			for end < len(raw) && raw[end] != ';' && end-j < 12 {
				end++
			}
			if end >= len(raw) || raw[end] != ';' {
				return "", false
			}
			ref := raw[j+1 : end]
			var r rune
			switch string(ref) {
			case "lt":
				r = '<'
			case "gt":
				r = '>'
			case "amp":
				r = '&'
			case "apos":
				r = '\''
			case "quot":
				r = '"'
			default:
				var ok bool
				if r, ok = charRef(ref); !ok {
					return "", false
				}
			}
			out = utf8.AppendRune(out, r)
			j = end
		default:
			out = append(out, c)
		}
	}
	s.buf = out
	return string(out), true
}

// charRef decodes "#123" or "#x7B" to a character allowed in XML.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var r rune
	for _, d := range digits {
		var v rune
		switch {
		case d >= '0' && d <= '9':
			v = rune(d - '0')
		case base == 16 && d >= 'a' && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && d >= 'A' && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0, false
		}
		r = r*rune(base) + v
	}
	if !isXMLChar(r) {
		return 0, false
	}
	return r, true
}

// procInst reads <?target inst?>.
func (s *xmlScanner) procInst() (target, inst string, ok bool) {
	s.i += 2
	target, ok = s.name()
	if !ok {
		return "", "", false
	}
	s.space()
	start := s.i
	for s.i+1 < len(s.b) {
		if s.b[s.i] == '?' && s.b[s.i+1] == '>' {
			inst = string(s.b[start:s.i])
			s.i += 2
			if target == "xml" && !plainDeclaration(inst) {
				return "", "", false
			}
			return target, inst, true
		}
		if s.b[s.i] < 0x20 && !isXMLSpaceByte(s.b[s.i]) || s.b[s.i] >= utf8.RuneSelf {
			return "", "", false
		}
		s.i++
	}
	return "", "", false
}

// plainDeclaration accepts an XML declaration for version 1.0 in UTF-8 (or
// without an encoding); others go to the full parser.
func plainDeclaration(inst string) bool {
	enc := ""
	for _, kv := range splitDeclaration(inst) {
		switch kv[0] {
		case "version":
			if kv[1] != "1.0" {
				return false
			}
		case "encoding":
			enc = kv[1]
		case "standalone":
		default:
			return false
		}
	}
	return enc == "" || enc == "UTF-8" || enc == "utf-8"
}

// splitDeclaration splits `version="1.0" encoding="UTF-8"` into pairs.
func splitDeclaration(inst string) [][2]string {
	var out [][2]string
	for len(inst) > 0 {
		for len(inst) > 0 && inst[0] == ' ' {
			inst = inst[1:]
		}
		eq := -1
		for k := 0; k < len(inst); k++ {
			if inst[k] == '=' {
				eq = k
				break
			}
		}
		if eq < 0 || eq+1 >= len(inst) || (inst[eq+1] != '"' && inst[eq+1] != '\'') {
			return append(out, [2]string{"?", ""})
		}
		q := inst[eq+1]
		end := -1
		for k := eq + 2; k < len(inst); k++ {
			if inst[k] == q {
				end = k
				break
			}
		}
		if end < 0 {
			return append(out, [2]string{"?", ""})
		}
		out = append(out, [2]string{inst[:eq], inst[eq+2 : end]})
		inst = inst[end+1:]
	}
	return out
}

// comment reads <!--comment-->; any other <! construct is left to the
// full parser.
func (s *xmlScanner) comment() (string, bool) {
	if s.i+4 > len(s.b) || string(s.b[s.i:s.i+4]) != "<!--" {
		return "", false
	}
	start := s.i + 4
	for j := start; j+2 < len(s.b); j++ {
		if s.b[j] == '-' && s.b[j+1] == '-' {
			if s.b[j+2] != '>' {
				return "", false
			}
			s.i = j + 3
			c := s.b[start:j]
			for _, ch := range c {
				if ch < 0x20 && !isXMLSpaceByte(ch) || ch >= utf8.RuneSelf {
					return "", false
				}
			}
			return string(c), true
		}
	}
	return "", false
}

func isXMLSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isXMLSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isXMLSpaceByte(s[i]) {
			return false
		}
	}
	return true
}

// isXMLChar reports whether r may appear in an XML document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
