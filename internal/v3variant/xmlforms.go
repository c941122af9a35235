package v3variant

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// The kinds of this file write the same XML in the other forms XML 1.0
// allows (CDATA sections, character and entity references, a byte order
// mark, another XML declaration, single-quoted attributes, end tags for
// empty elements, namespace declarations): an XML parser reads each
// variant as the message itself.

// xmlFormKinds returns the kinds of XML forms, in a fixed order.
func xmlFormKinds() []Kind {
	return []Kind{
		{Name: "cdata", Doc: "a text value (an instruction, a name part, an address line) written as one CDATA section",
			sites: plainTexts, apply: func(_ *draft, el *etree.Element) bool { return cdataText(el, false) }},
		{Name: "cdata-part", Doc: "a text value written half as text, half as a CDATA section",
			sites: plainTexts, apply: func(_ *draft, el *etree.Element) bool { return cdataText(el, true) }},
		{Name: "char-refs", Doc: "the first character of a text value written as a hexadecimal character reference (&#x54;), the last as a decimal one (&#121;)",
			sites: plainTexts, apply: charRefsText},
		{Name: "char-refs-attr", Doc: "the first character of an attribute value written as a hexadecimal character reference, the last as a decimal one",
			sites: attributed, apply: charRefsAttr},
		{Name: "entity-refs", Doc: "every ' \" and > of the text and attribute values written &apos; &quot; &gt; (no variant of a message holding none)",
			apply: entityRefs},
		{Name: "special-chars", Meaningful: true, Doc: "a text value or display name holding & ' < > \" and a character beyond ASCII, written as entity and character references",
			sites: specialSites, apply: specialChars},
		{Name: "byte-order-mark", Doc: "a UTF-8 byte order mark (EF BB BF) before the document",
			apply: func(d *draft, _ *etree.Element) bool { d.prefix = []byte("\xef\xbb\xbf"); return true }},
		{Name: "declaration-utf8", Doc: `the XML declaration <?xml version="1.0" encoding="utf-8" standalone="no"?> (lower-case encoding name)`,
			apply: func(d *draft, _ *etree.Element) bool {
				return declare(d.doc, `version="1.0" encoding="utf-8" standalone="no"`)
			}},
		{Name: "declaration-standalone", Doc: `the XML declaration <?xml version='1.0' encoding='UTF-8' standalone='yes'?> (single quotes)`,
			apply: func(d *draft, _ *etree.Element) bool {
				return declare(d.doc, `version='1.0' encoding='UTF-8' standalone='yes'`)
			}},
		{Name: "single-quotes", Doc: "every attribute value in single quotes (attr='value')",
			apply: func(d *draft, _ *etree.Element) bool { d.settings.AttrSingleQuote = true; return true }},
		{Name: "end-tags", Doc: "every empty element written with an end tag, <x></x> for <x/>",
			apply: func(d *draft, _ *etree.Element) bool { d.settings.CanonicalEndTags = true; return true }},
		{Name: "default-namespace-redeclared", Doc: "the default namespace urn:hl7-org:v3 declared again on every element under the root",
			apply: func(d *draft, _ *etree.Element) bool { return redeclareDefault(d.doc.Root()) }},
		{Name: "schema-location", Doc: "an xsi:schemaLocation naming the schema on the root and on the payload (the subject's act), each declaring xmlns:xsi",
			apply: func(d *draft, _ *etree.Element) bool { return schemaLocation(d.doc.Root()) }},
		{Name: "unused-namespaces", Doc: "namespaces declared and never used (ebXML, XLink, a second prefix for urn:hl7-org:v3) on the root and an inner element",
			apply: func(d *draft, _ *etree.Element) bool { return unusedNamespaces(d.doc.Root()) }},
	}
}

// plainTexts are the elements holding text and no child element (a text
// value, a name part, an address line, a postcode) whose text is one
// plain run: not yet a CDATA section or a variant's reference.
func plainTexts(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if len(e.ChildElements()) > 0 || strings.TrimSpace(e.Text()) == "" {
			return
		}
		for _, t := range e.Child {
			if cd, ok := t.(*etree.CharData); ok && (cd.IsCData() || strings.Contains(cd.Data, rawMarkStem)) {
				return
			}
		}
		out = append(out, e)
	})
	return out
}

// rawMarkStem begins every rawMark.
const rawMarkStem = "v3variantRaw"

// attributed are the elements with an attribute whose value is not empty
// and not yet a variant's reference (namespace declarations aside).
func attributed(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if firstPlainAttr(e) != nil {
			out = append(out, e)
		}
	})
	return out
}

func firstPlainAttr(e *etree.Element) *etree.Attr {
	for i := range e.Attr {
		a := &e.Attr[i]
		if a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns" || a.Value == "" {
			continue
		}
		if strings.Contains(a.Value, rawMarkStem) {
			return nil
		}
		return a
	}
	return nil
}

// specialSites are the text values of observations (textValues) and the
// elements with a display name.
func specialSites(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if e.SelectAttr("displayName") != nil && !strings.Contains(e.SelectAttrValue("displayName", ""), rawMarkStem) {
			out = append(out, e)
			return
		}
		if e.Tag == "value" && len(e.ChildElements()) == 0 && strings.TrimSpace(e.Text()) != "" && !strings.Contains(e.Text(), rawMarkStem) {
			for _, a := range e.Attr {
				if a.Space != "xsi" {
					return
				}
			}
			out = append(out, e)
		}
	})
	return out
}

// cdataText writes the text of el as a CDATA section, or, with part, its
// second half (from a rune boundary) as one after the first as text.
func cdataText(el *etree.Element, part bool) bool {
	text := el.Text()
	if strings.Contains(text, "]]>") {
		return false
	}
	if !part {
		el.SetCData(text)
		return true
	}
	cut := len(text) / 2
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	if cut == 0 {
		return false
	}
	el.SetText(text[:cut])
	el.AddChild(etree.NewCData(text[cut:]))
	return true
}

// charRefsText writes the first rune of el's text as a hexadecimal
// character reference and its last (when another) as a decimal one.
func charRefsText(d *draft, el *etree.Element) bool {
	text := el.Text()
	first, n := utf8.DecodeRuneInString(text)
	last, m := utf8.DecodeLastRuneInString(text)
	out := fmt.Sprintf("&#x%X;", first)
	if n < len(text) {
		out += escapeText(text[n:len(text)-m]) + fmt.Sprintf("&#%d;", last)
	}
	el.SetText(d.raw(out))
	return true
}

// charRefsAttr writes the first rune of the first attribute value of el as
// a hexadecimal character reference and its last (when another) as a
// decimal one.
func charRefsAttr(d *draft, el *etree.Element) bool {
	a := firstPlainAttr(el)
	if a == nil {
		return false
	}
	v := a.Value
	first, n := utf8.DecodeRuneInString(v)
	last, m := utf8.DecodeLastRuneInString(v)
	out := fmt.Sprintf("&#x%x;", first)
	if n < len(v) {
		out += escapeAttrValue(v[n:len(v)-m]) + fmt.Sprintf("&#%d;", last)
	}
	a.Value = d.raw(out)
	return true
}

// entityRefs writes ' " > of every text and attribute value as their
// predefined entities. It changes nothing (and makes no variant) when the
// message holds none of them.
func entityRefs(d *draft, _ *etree.Element) bool {
	marks := map[rune]string{'\'': "&apos;", '"': "&quot;", '>': "&gt;"}
	rewrite := func(s string, esc func(string) string) (string, bool) {
		if !strings.ContainsAny(s, `'">`) {
			return s, false
		}
		var b strings.Builder
		start := 0
		for i, r := range s {
			if m, ok := marks[r]; ok {
				b.WriteString(esc(s[start:i]))
				b.WriteString(m)
				start = i + 1
			}
		}
		b.WriteString(esc(s[start:]))
		return b.String(), true
	}
	changed := false
	walk(d.doc.Root(), func(e *etree.Element) {
		for i := range e.Attr {
			a := &e.Attr[i]
			if v, ok := rewrite(a.Value, escapeAttrValue); ok && !strings.Contains(a.Value, rawMarkStem) {
				a.Value = d.raw(v)
				changed = true
			}
		}
		for _, t := range e.Child {
			if cd, ok := t.(*etree.CharData); ok && !cd.IsCData() && !strings.Contains(cd.Data, rawMarkStem) {
				if v, ok := rewrite(cd.Data, escapeText); ok {
					cd.Data = d.raw(v)
					changed = true
				}
			}
		}
	})
	return changed
}

// specialChars appends characters XML must or may escape, and one beyond
// ASCII, to a text value or a display name, written as references.
func specialChars(d *draft, el *etree.Element) bool {
	if a := el.SelectAttr("displayName"); a != nil {
		a.Value = d.raw(escapeAttrValue(a.Value) + " &amp; &apos;&#xE9;&apos; &lt;&gt; &quot;")
		return true
	}
	el.SetText(d.raw(escapeText(el.Text()) + " &amp; don&apos;t &lt;mix&gt; &quot;&#233;&quot;"))
	return true
}

// declare writes the XML declaration with the pseudo-attributes inst,
// in place of the document's own.
func declare(doc *etree.Document, inst string) bool {
	for i := len(doc.Child) - 1; i >= 0; i-- {
		if pi, ok := doc.Child[i].(*etree.ProcInst); ok && pi.Target == "xml" {
			doc.RemoveChildAt(i)
		}
	}
	doc.InsertChildAt(0, etree.NewProcInst("xml", inst))
	return true
}

// redeclareDefault declares the default namespace urn:hl7-org:v3 on every
// element under root that has none.
func redeclareDefault(root *etree.Element) bool {
	changed := false
	for _, c := range root.ChildElements() {
		walk(c, func(e *etree.Element) {
			if e.NamespaceURI() == v3.Namespace && e.SelectAttr("xmlns") == nil {
				e.CreateAttr("xmlns", v3.Namespace)
				changed = true
			}
		})
	}
	return changed
}

// schemaLocation gives the root, and the act the ControlActEvent's
// subject holds, an xsi:schemaLocation naming a schema, as Spine's own
// templates and schema-aware writers do (`<CancellationRequest
// xmlns:xsi="..." xsi:schemaLocation="urn:hl7-org:v3
// ..\Schemas\PORX_MT135001UK32.xsd">`).
func schemaLocation(root *etree.Element) bool {
	if root.SelectAttr("xsi:schemaLocation") != nil {
		return false
	}
	for _, e := range []*etree.Element{root, root.FindElement("ControlActEvent/subject/*")} {
		if e == nil {
			continue
		}
		if e.SelectAttr("xmlns:xsi") == nil {
			e.CreateAttr("xmlns:xsi", xsiNamespace)
		}
		e.CreateAttr("xsi:schemaLocation", v3.Namespace+` ..\Schemas\`+e.Tag+".xsd")
	}
	return true
}

// unusedNamespaces declares namespaces nothing in the message uses.
func unusedNamespaces(root *etree.Element) bool {
	for _, ns := range [][2]string{
		{"xmlns:eb", "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd"},
		{"xmlns:xlink", "http://www.w3.org/1999/xlink"},
		{"xmlns:v3", v3.Namespace},
	} {
		if root.SelectAttr(ns[0]) != nil {
			return false
		}
		root.CreateAttr(ns[0], ns[1])
	}
	if kids := root.ChildElements(); len(kids) > 0 {
		last := kids[len(kids)-1]
		if last.SelectAttr("xmlns:SOAP") == nil {
			last.CreateAttr("xmlns:SOAP", "http://schemas.xmlsoap.org/soap/envelope/")
		}
	}
	return true
}

// escapeText escapes s for element content as etree writes it.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escapeAttrValue escapes s for an attribute value in either quotes.
func escapeAttrValue(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "'", "&apos;", "\r", "&#xD;", "\n", "&#xA;", "\t", "&#x9;").Replace(s)
}
