// Package v3variant derives variants of an HL7 v3 message that the MIM
// 4.2.00 Medication Management schemas allow and Spine accepts, one kind of
// transformation at a time and combined: the test generator behind
// porxgate's acceptance rule (docs/mappings/accepting.md) and the mutators of
// its fuzz targets.
//
// Each Kind changes a message at one of its sites (an element it applies
// to, or the whole document) and reports whether it changed anything. The
// variants keep the message's meaning for Spine: what a variant adds (an
// originalText, a translation, a comment...) or changes (a prefix, a
// determinerCode, a seperatableInd) is what legacy systems really send.
// Variants are made by re-serialising the parsed message, so they are
// always well-formed.
package v3variant

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// Kind is one kind of transformation.
type Kind struct {
	// Name names the kind in test names and reports.
	Name string
	// Doc is what the kind does, for the acceptance rule's table.
	Doc string
	// Meaningful is set for the kinds that change what the message says in
	// terms EPS FHIR has (a display name, an organisation's name): the FHIR
	// made of such a variant differs. The other kinds change nothing EPS
	// FHIR can hold, and a variant of them translates to the same FHIR.
	Meaningful bool
	// sites lists the places in the document the kind applies to; nil for a
	// kind of the whole document (one site).
	sites func(root *etree.Element) []*etree.Element
	// apply changes the draft at a site (nil for a document kind) and
	// reports whether anything changed.
	apply func(d *draft, site *etree.Element) bool
	// write, when set, serialises the document instead of the default
	// writer (line ends, indentation).
	write func(doc *etree.Document, ws *etree.WriteSettings) []byte
}

// draft is a variant being made: the parsed document, how it is to be
// written, and what its bytes get after writing (the forms of XML a tree
// does not hold: character references, a byte order mark).
type draft struct {
	doc *etree.Document
	// settings are the writer's (single-quoted attributes, end tags).
	settings etree.WriteSettings
	// raws[i] replaces rawMark(i) in the bytes written.
	raws []string
	// prefix goes before the bytes written (a byte order mark).
	prefix []byte
}

// raw returns a mark to put in a text or attribute value of the tree,
// which the bytes written get as s, unescaped.
func (d *draft) raw(s string) string {
	d.raws = append(d.raws, s)
	return rawMark(len(d.raws) - 1)
}

// rawMark is the i-th mark of draft.raw: letters and digits only, so that
// the writer leaves it as it is.
func rawMark(i int) string { return fmt.Sprintf("v3variantRaw%dX", i) }

// Variant is one derived message.
type Variant struct {
	// Name says how the variant was made: kind[@site index], joined by "+".
	Name string
	// Kinds are the names of the kinds applied.
	Kinds []string
	// Data is the variant message.
	Data []byte
}

// Kinds returns every kind of transformation, in a fixed order.
func Kinds() []Kind {
	return append([]Kind{
		{Name: "hl7-prefix", Doc: "every v3 element written with the prefix hl7: (xmlns:hl7 declared on the root, no default namespace)",
			apply: func(d *draft, _ *etree.Element) bool { return prefixAll(d.doc.Root(), "hl7") }},
		{Name: "comments", Doc: "a comment before the root and as the first child of every element with children",
			apply: func(d *draft, _ *etree.Element) bool { return addComments(d.doc) }},
		{Name: "processing-instructions", Doc: "processing instructions before the root and inside the root",
			apply: func(d *draft, _ *etree.Element) bool { return addProcInsts(d.doc) }},
		{Name: "crlf-indented", Doc: "indented, every line ending CR LF",
			apply: func(*draft, *etree.Element) bool { return true },
			write: func(doc *etree.Document, ws *etree.WriteSettings) []byte { return indented(doc, "\r\n", ws) }},
		{Name: "compact", Doc: "no white space between elements, no XML declaration",
			apply: func(d *draft, _ *etree.Element) bool { return compact(d.doc) }},
		{Name: "original-text", Doc: "an originalText in a coded value (CV/CD/CE), as its first child",
			sites: codedValues, apply: func(_ *draft, el *etree.Element) bool { return addOriginalText(el) }},
		{Name: "code-translation", Doc: "a translation (another code system's code) in a coded value",
			sites: codedValues, apply: func(_ *draft, el *etree.Element) bool { return addCodeTranslation(el) }},
		{Name: "code-qualifier", Doc: "a qualifier (name/value pair) in a coded value",
			sites: codedValues, apply: func(_ *draft, el *etree.Element) bool { return addQualifier(el) }},
		{Name: "quantity-translation", Doc: "a translation (the same amount in UCUM units) in a physical quantity (PQ)",
			sites: quantities, apply: func(_ *draft, el *etree.Element) bool { return addQuantityTranslation(el) }},
		{Name: "determiner-code", Doc: "determinerCode INSTANCE written KIND, or KIND written INSTANCE",
			sites: withAttr("determinerCode"), apply: func(_ *draft, el *etree.Element) bool { return flipDeterminer(el) }},
		{Name: "seperatable-ind", Doc: "seperatableInd value true written false, or false written true",
			sites: named("seperatableInd"), apply: func(_ *draft, el *etree.Element) bool { return flipBool(el) }},
		{Name: "id-extras", Doc: "an assigningAuthorityName and displayable=\"true\" on an identifier (II)",
			sites: withAttr("root"), apply: func(_ *draft, el *etree.Element) bool {
				return addAbsentAttrs(el, "assigningAuthorityName", "as named by the sender", "displayable", "true")
			}},
		{Name: "code-system-name", Doc: "a codeSystemName and codeSystemVersion on a coded value (CV/CD/CE)",
			sites: codedValues, apply: func(_ *draft, el *etree.Element) bool {
				return addAbsentAttrs(el, "codeSystemName", "as named by the sender", "codeSystemVersion", "1")
			}},
		{Name: "xsi-type", Doc: "an xsi:type naming the declared datatype on an identifier (II) or a physical quantity (PQ)",
			sites: typedValues, apply: func(d *draft, el *etree.Element) bool { return addXSIType(d.doc, el) }},
		{Name: "organization-type-absent", Meaningful: true, Doc: "an organisation's type code (code, CS 0..1 in the CMETs) left out",
			sites: organizationTypes, apply: func(_ *draft, el *etree.Element) bool { return el.Parent().RemoveChild(el) != nil }},
		{Name: "display-name-absent", Meaningful: true, Doc: "a coded value without its (optional) displayName",
			sites: withAttr("displayName"), apply: func(_ *draft, el *etree.Element) bool { return el.RemoveAttr("displayName") != nil }},
		{Name: "optional-absent", Meaningful: true, Doc: "an optional element left out (an organisation's name, telecom or address, an agent's telecom)",
			sites: optionalElements, apply: func(_ *draft, el *etree.Element) bool { return el.Parent().RemoveChild(el) != nil }},
		{Name: "null-flavor", Meaningful: true, Doc: "an optional element sent as nullFlavor=\"UNK\" instead of its value",
			sites: optionalElements, apply: func(_ *draft, el *etree.Element) bool { return nullFlavored(el) }},
		{Name: "xsi-type-text", Doc: "an xsi:type naming the declared datatype (ST) on an observation's text value (supply, dosage and additional instructions)",
			sites: textValues, apply: func(d *draft, el *etree.Element) bool { return addXSITypeNamed(d.doc, el, "ST") }},
	}, append(xmlFormKinds(), mimFormKinds()...)...)
}

// Options bound the variants Of makes.
type Options struct {
	// MaxSites is how many sites of each element kind are used, spread
	// evenly over the document (0: every site).
	MaxSites int
	// Combined adds a variant applying every kind at once (element kinds at
	// their first site).
	Combined bool
	// Pairs adds a variant for each element kind with the next one in
	// Kinds order (the first site of one, the last of the other).
	Pairs bool
}

// Of derives the variants of a v3 message. It returns an error for input
// that is not well-formed XML.
func Of(data []byte, opt Options) ([]Variant, error) {
	var out []Variant
	err := Each(data, opt, func(v Variant) bool { out = append(out, v); return true })
	return out, err
}

// Each derives the variants of a v3 message one at a time, as Of does,
// calling yield with each until it returns false: only one variant is held
// at a time, however many sites a large message has. It returns an error
// for input that is not well-formed XML.
func Each(data []byte, opt Options, yield func(Variant) bool) error {
	doc, err := parse(data)
	if err != nil {
		return err
	}
	kinds := Kinds()
	count := make(map[string]int, len(kinds))
	for _, k := range kinds {
		if k.sites != nil {
			count[k.Name] = len(k.sites(doc.Root()))
		}
	}
	try := func(steps []step) bool {
		if v, ok := derive(data, steps); ok {
			return yield(v)
		}
		return true
	}
	for _, k := range kinds {
		if k.sites == nil {
			if !try([]step{{kind: k}}) {
				return nil
			}
			continue
		}
		for _, i := range spread(count[k.Name], opt.MaxSites) {
			if !try([]step{{kind: k, site: i}}) {
				return nil
			}
		}
	}
	if !opt.Combined {
		return nil
	}
	// Every kind at once (the optional-absent and null-flavor kinds share
	// their sites: the first of them only).
	var all []step
	for _, k := range kinds {
		if (k.sites == nil || count[k.Name] > 0) && k.Name != "null-flavor" {
			all = append(all, step{kind: k})
		}
	}
	if !try(all) || !opt.Pairs {
		return nil
	}
	// Pairs of element kinds, each kind with the next one (in Kinds order,
	// round): the first site of one, the last of the other.
	var elems []Kind
	for _, k := range kinds {
		if k.sites != nil && count[k.Name] > 0 {
			elems = append(elems, k)
		}
	}
	for i, a := range elems {
		b := elems[(i+1)%len(elems)]
		if len(elems) < 2 || a.Name == "optional-absent" && b.Name == "null-flavor" {
			continue
		}
		if !try([]step{{kind: a}, {kind: b, site: count[b.Name] - 1}}) {
			return nil
		}
	}
	return nil
}

// Mutate applies kinds chosen by the bytes of choice to data (one kind per
// byte, the next byte choosing its site): the fuzz targets' mutator. Input
// that is not well-formed XML comes back unchanged.
func Mutate(data []byte, choice []byte) []byte {
	kinds := Kinds()
	var steps []step
	for i := 0; i+1 < len(choice) && len(steps) < 4; i += 2 {
		k := kinds[int(choice[i])%len(kinds)]
		steps = append(steps, step{kind: k, site: int(choice[i+1])})
	}
	if len(steps) == 0 {
		return data
	}
	doc, err := parse(data)
	if err != nil {
		return data
	}
	for i := range steps {
		if steps[i].kind.sites != nil {
			if n := len(steps[i].kind.sites(doc.Root())); n > 0 {
				steps[i].site %= n
			}
		}
	}
	v, ok := derive(data, steps)
	if !ok {
		return data
	}
	return v.Data
}

// step is one kind applied at one site (index into the kind's sites).
type step struct {
	kind Kind
	site int
}

// derive applies the steps in order to a fresh parse of data; ok is false
// when a step changed nothing. The prescriber's signature (the content of
// signatureText) keeps its very bytes: they travel byte for byte to EPS.
func derive(data []byte, steps []step) (Variant, bool) {
	doc, err := parse(data)
	if err != nil {
		return Variant{}, false
	}
	d := &draft{doc: doc}
	signatures := holdSignatures(data, doc)
	var names, kinds []string
	var write func(*etree.Document, *etree.WriteSettings) []byte
	// Element kinds first (their sites are counted on the tree as read),
	// document kinds last.
	for pass := 0; pass < 2; pass++ {
		for _, s := range steps {
			if (s.kind.sites == nil) != (pass == 1) {
				continue
			}
			var site *etree.Element
			name := s.kind.Name
			if s.kind.sites != nil {
				sites := s.kind.sites(doc.Root())
				if s.site >= len(sites) {
					return Variant{}, false
				}
				site = sites[s.site]
				name = fmt.Sprintf("%s@%d", name, s.site)
			}
			if !s.kind.apply(d, site) {
				return Variant{}, false
			}
			if s.kind.write != nil {
				write = s.kind.write
			}
			names = append(names, name)
			kinds = append(kinds, s.kind.Name)
		}
	}
	var out []byte
	if write != nil {
		out = write(doc, &d.settings)
	} else {
		doc.WriteSettings = d.settings
		out, err = doc.WriteToBytes()
		if err != nil {
			return Variant{}, false
		}
	}
	for i := len(d.raws) - 1; i >= 0; i-- {
		out = bytes.ReplaceAll(out, []byte(rawMark(i)), []byte(d.raws[i]))
	}
	for i, raw := range signatures {
		out = bytes.Replace(out, []byte(signatureMark(i)), raw, 1)
	}
	if len(d.prefix) > 0 {
		out = append(append([]byte(nil), d.prefix...), out...)
	}
	return Variant{Name: strings.Join(names, "+"), Kinds: kinds, Data: out}, true
}

// holdSignatures replaces the content of every signatureText in doc with a
// comment mark, and returns the content as written in data, in document
// order (none when the two do not pair up).
func holdSignatures(data []byte, doc *etree.Document) [][]byte {
	var els []*etree.Element
	var find func(e *etree.Element)
	find = func(e *etree.Element) {
		if e.Tag == "signatureText" && len(e.Child) > 0 {
			els = append(els, e)
			return
		}
		for _, c := range e.ChildElements() {
			find(c)
		}
	}
	find(doc.Root())
	if len(els) == 0 {
		return nil
	}
	raws := rawSignatures(data)
	if len(raws) != len(els) {
		return nil
	}
	for i, e := range els {
		for len(e.Child) > 0 {
			e.RemoveChildAt(0)
		}
		e.AddChild(etree.NewComment(signatureMark(i)[4 : len(signatureMark(i))-3]))
	}
	return raws
}

// rawSignatures returns the bytes between each signatureText start tag
// (any prefix, not self-closing, not empty) and its end tag.
func rawSignatures(data []byte) [][]byte {
	const tag = "signatureText"
	var out [][]byte
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(tag))
		if j < 0 {
			return out
		}
		j += i
		i = j + len(tag)
		k := j - 1
		for k >= 0 && data[k] != '<' && data[k] != '/' && (nameChar(data[k]) || data[k] == ':') {
			k--
		}
		if k < 0 || data[k] != '<' || i >= len(data) || nameChar(data[i]) {
			continue // a closing tag, text, or a longer name
		}
		gt := bytes.IndexByte(data[i:], '>')
		if gt < 0 || data[i+gt-1] == '/' {
			continue
		}
		start := i + gt + 1
		end := bytes.Index(data[start:], []byte(tag+">"))
		if end < 0 {
			return out
		}
		end += start
		lt := bytes.LastIndex(data[start:end], []byte("</"))
		if lt < 0 {
			return out
		}
		if content := data[start : start+lt]; len(bytes.TrimSpace(content)) > 0 {
			out = append(out, content)
		}
		i = end + len(tag)
	}
}

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// signatureMark is the comment standing for the i-th signature's content.
func signatureMark(i int) string { return fmt.Sprintf("<!--v3variant-signature-%d-->", i) }

func parse(data []byte) (*etree.Document, error) {
	doc, err := v3.ReadXML(data)
	if err != nil {
		return nil, fmt.Errorf("v3variant: %w", err)
	}
	if doc.Root() == nil {
		return nil, fmt.Errorf("v3variant: no root element")
	}
	return doc, nil
}

// spread picks at most max indexes of n, evenly spread, first and last
// included; every index when max is 0 or n is small.
func spread(n, max int) []int {
	if n == 0 {
		return nil
	}
	if max == 1 {
		return []int{0}
	}
	if max <= 0 || n <= max {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, 0, max)
	for i := 0; i < max; i++ {
		idx := i * (n - 1) / (max - 1)
		if len(out) == 0 || out[len(out)-1] != idx {
			out = append(out, idx)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// sites

// walk calls f for every element under root (root included) in document
// order, skipping the XML-DSig signature (its bytes are signed).
func walk(root *etree.Element, f func(*etree.Element)) {
	if root.Tag == "signatureText" || root.Tag == "Signature" {
		return
	}
	f(root)
	for _, c := range root.ChildElements() {
		walk(c, f)
	}
}

func named(tag string) func(*etree.Element) []*etree.Element {
	return func(root *etree.Element) []*etree.Element {
		var out []*etree.Element
		walk(root, func(e *etree.Element) {
			if e.Tag == tag {
				out = append(out, e)
			}
		})
		return out
	}
}

func withAttr(attr string) func(*etree.Element) []*etree.Element {
	return func(root *etree.Element) []*etree.Element {
		var out []*etree.Element
		walk(root, func(e *etree.Element) {
			if e.SelectAttr(attr) != nil {
				out = append(out, e)
			}
		})
		return out
	}
}

// codedValues are the elements with a code and a code system (CV, CE, CD;
// a CS has no codeSystem) that hold no translation or originalText yet.
func codedValues(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if e.SelectAttr("code") == nil || e.SelectAttr("codeSystem") == nil || e.SelectAttr("nullFlavor") != nil {
			return
		}
		if e.Tag == "translation" || e.Tag == "qualifier" || e.Tag == "name" || e.Tag == "value" && e.Parent() != nil && e.Parent().Tag == "qualifier" {
			return
		}
		out = append(out, e)
	})
	return out
}

// quantities are the PQ elements: a value and a unit.
func quantities(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if e.Tag != "translation" && e.SelectAttr("value") != nil && e.SelectAttr("unit") != nil {
			out = append(out, e)
		}
	})
	return out
}

// typedValues are the elements whose declared datatype the shape tells: an
// identifier (II, a root) and a physical quantity (quantities).
func typedValues(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if e.SelectAttr("root") != nil || e.Tag != "translation" && e.SelectAttr("value") != nil && e.SelectAttr("unit") != nil {
			out = append(out, e)
		}
	})
	return out
}

// textValues are the text values of observations (ST): a value element
// holding text and neither attributes nor child elements.
func textValues(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if e.Tag == "value" && len(e.Attr) == 0 && len(e.ChildElements()) == 0 && strings.TrimSpace(e.Text()) != "" {
			out = append(out, e)
		}
	})
	return out
}

// xsiNamespace is the XML Schema instance namespace of xsi:type.
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// addXSIType writes on el an xsi:type naming its declared datatype (II or
// PQ), declaring the xsi prefix on the root.
func addXSIType(doc *etree.Document, el *etree.Element) bool {
	typ := "PQ"
	if el.SelectAttr("root") != nil {
		typ = "II"
	}
	return addXSITypeNamed(doc, el, typ)
}

// addXSITypeNamed writes on el an xsi:type naming datatype typ, declaring
// the xsi prefix on the root.
func addXSITypeNamed(doc *etree.Document, el *etree.Element, typ string) bool {
	if el.SelectAttr("xsi:type") != nil {
		return false
	}
	if r := doc.Root(); r.SelectAttr("xmlns:xsi") == nil {
		r.CreateAttr("xmlns:xsi", xsiNamespace)
	}
	el.CreateAttr("xsi:type", typ)
	return true
}

// organizationTypes are the type codes of organisations (a represented
// organisation, a licence's organisation, a recipient's
// agentOrganization), optional in every CMET (UKCT_MT120201UK03 and UK04,
// UKCT_MT120401UK02).
func organizationTypes(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		p := e.Parent()
		if e.Tag != "code" || p == nil {
			return
		}
		switch {
		case p.Tag == "representedOrganization" || p.Tag == "agentOrganization",
			p.Tag == "Organization" && p.Parent() != nil && p.Parent().Tag == "healthCareProviderLicense":
			out = append(out, e)
		}
	})
	return out
}

// optionalElements are elements the MIM makes optional (0..1 or 0..*) in
// the CMETs every message uses: an organisation's name, telecom and
// address, an agent's telecom.
func optionalElements(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		p := e.Parent()
		if p == nil {
			return
		}
		switch {
		case p.Tag == "representedOrganization" || p.Tag == "healthCareProviderLicense" || p.Tag == "Organization" && p.Parent() != nil && p.Parent().Tag == "healthCareProviderLicense":
			switch e.Tag {
			case "name", "telecom", "addr":
				out = append(out, e)
			}
		case p.Tag == "AgentPerson" && e.Tag == "telecom":
			out = append(out, e)
		}
	})
	return out
}

// ---------------------------------------------------------------------------
// element kinds

// childIndex returns the token index where a new child of a coded value
// goes: after any existing children named in before.
func childIndex(el *etree.Element, before ...string) int {
	idx := 0
	for i, t := range el.Child {
		if c, ok := t.(*etree.Element); ok {
			for _, b := range before {
				if c.Tag == b {
					idx = i + 1
				}
			}
		}
	}
	return idx
}

func addOriginalText(el *etree.Element) bool {
	if el.SelectElement("originalText") != nil {
		return false
	}
	ot := etree.NewElement("originalText")
	text := el.SelectAttrValue("displayName", "")
	if text == "" {
		text = "as written by the sender"
	}
	ot.SetText(text)
	el.InsertChildAt(0, ot)
	return true
}

func addQualifier(el *etree.Element) bool {
	q := etree.NewElement("qualifier")
	q.CreateElement("name").CreateAttr("code", "246112005")
	v := q.CreateElement("value")
	v.CreateAttr("code", "24484000")
	v.CreateAttr("displayName", "Severe")
	el.InsertChildAt(childIndex(el, "originalText", "qualifier"), q)
	return true
}

func addCodeTranslation(el *etree.Element) bool {
	tr := etree.NewElement("translation")
	tr.CreateAttr("code", "X"+el.SelectAttrValue("code", ""))
	tr.CreateAttr("codeSystem", "2.16.840.1.113883.2.1.3.2.4.99")
	tr.CreateAttr("displayName", "local code")
	el.InsertChildAt(childIndex(el, "originalText", "qualifier", "translation"), tr)
	return true
}

func addQuantityTranslation(el *etree.Element) bool {
	tr := etree.NewElement("translation")
	tr.CreateAttr("value", el.SelectAttrValue("value", ""))
	tr.CreateAttr("code", "{each}")
	tr.CreateAttr("codeSystem", "2.16.840.1.113883.6.8") // UCUM
	tr.CreateAttr("displayName", "each")
	el.InsertChildAt(childIndex(el, "originalText", "translation"), tr)
	return true
}

// addAbsentAttrs gives el the attributes of pairs (name, value...), the
// optional ones of its datatype that no reader reads, when it has none of
// them yet.
func addAbsentAttrs(el *etree.Element, pairs ...string) bool {
	for i := 0; i+1 < len(pairs); i += 2 {
		if el.SelectAttr(pairs[i]) != nil {
			return false
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		el.CreateAttr(pairs[i], pairs[i+1])
	}
	return true
}

func flipDeterminer(el *etree.Element) bool {
	a := el.SelectAttr("determinerCode")
	switch a.Value {
	case "INSTANCE":
		a.Value = "KIND"
	case "KIND":
		a.Value = "INSTANCE"
	default:
		return false
	}
	return true
}

func flipBool(el *etree.Element) bool {
	a := el.SelectAttr("value")
	if a == nil {
		return false
	}
	switch a.Value {
	case "true":
		a.Value = "false"
	case "false":
		a.Value = "true"
	default:
		return false
	}
	return true
}

func nullFlavored(el *etree.Element) bool {
	for len(el.Child) > 0 {
		el.RemoveChildAt(0)
	}
	el.Attr = nil
	el.CreateAttr("nullFlavor", "UNK")
	return true
}

// ---------------------------------------------------------------------------
// document kinds

// prefixAll writes every element in the v3 namespace with prefix.
func prefixAll(root *etree.Element, prefix string) bool {
	if root.NamespaceURI() != v3.Namespace {
		return false
	}
	var inV3 []*etree.Element
	var mark func(e *etree.Element)
	mark = func(e *etree.Element) {
		if e.NamespaceURI() == v3.Namespace {
			inV3 = append(inV3, e)
		}
		for _, c := range e.ChildElements() {
			mark(c)
		}
	}
	mark(root)
	for _, e := range inV3 {
		e.Space = prefix
		if e.SelectAttrValue("xmlns", "") == v3.Namespace {
			e.RemoveAttr("xmlns")
		}
	}
	root.CreateAttr("xmlns:"+prefix, v3.Namespace)
	return true
}

func addComments(doc *etree.Document) bool {
	root := doc.Root()
	doc.InsertChildAt(root.Index(), etree.NewComment(" written by a legacy system "))
	n := 0
	var visit func(e *etree.Element)
	visit = func(e *etree.Element) {
		kids := e.ChildElements()
		if len(kids) == 0 || e.Tag == "signatureText" {
			return
		}
		e.InsertChildAt(0, etree.NewComment(fmt.Sprintf(" %s %d ", e.Tag, n)))
		n++
		for _, c := range kids {
			visit(c)
		}
	}
	visit(root)
	return true
}

func addProcInsts(doc *etree.Document) bool {
	root := doc.Root()
	doc.InsertChildAt(root.Index(), etree.NewProcInst("xml-stylesheet", `type="text/xsl" href="porx.xsl"`))
	root.InsertChildAt(0, etree.NewProcInst("legacy-system", "build=4.2"))
	if kids := root.ChildElements(); len(kids) > 1 {
		kids[len(kids)-1].InsertChildAt(0, etree.NewProcInst("trace", "step=last"))
	}
	return true
}

// compact removes the white space between elements and the XML
// declaration.
func compact(doc *etree.Document) bool {
	changed := false
	for i := len(doc.Child) - 1; i >= 0; i-- {
		switch t := doc.Child[i].(type) {
		case *etree.ProcInst:
			if t.Target == "xml" {
				doc.RemoveChildAt(i)
				changed = true
			}
		case *etree.CharData:
			doc.RemoveChildAt(i)
		}
	}
	var visit func(e *etree.Element)
	visit = func(e *etree.Element) {
		if e.Tag == "signatureText" {
			return
		}
		if len(e.ChildElements()) > 0 {
			for i := len(e.Child) - 1; i >= 0; i-- {
				if cd, ok := e.Child[i].(*etree.CharData); ok && strings.TrimSpace(cd.Data) == "" {
					e.RemoveChildAt(i)
					changed = true
				}
			}
		}
		for _, c := range e.ChildElements() {
			visit(c)
		}
	}
	visit(doc.Root())
	return changed
}

// indented writes the document indented by two spaces with the given line
// end; the signature's subtree keeps its bytes.
func indented(doc *etree.Document, eol string, ws *etree.WriteSettings) []byte {
	cp := doc.Copy()
	var strip func(e *etree.Element)
	strip = func(e *etree.Element) {
		if e.Tag == "signatureText" {
			return
		}
		if len(e.ChildElements()) > 0 {
			for i := len(e.Child) - 1; i >= 0; i-- {
				if cd, ok := e.Child[i].(*etree.CharData); ok && strings.TrimSpace(cd.Data) == "" {
					e.RemoveChildAt(i)
				}
			}
		}
		for _, c := range e.ChildElements() {
			strip(c)
		}
	}
	strip(cp.Root())
	var buf bytes.Buffer
	writeIndented(&buf, cp, eol, ws)
	return buf.Bytes()
}

func writeIndented(buf *bytes.Buffer, doc *etree.Document, eol string, ws *etree.WriteSettings) {
	for _, t := range doc.Child {
		switch x := t.(type) {
		case *etree.Element:
			writeElement(buf, x, 0, eol, ws)
		case *etree.CharData:
			continue
		default:
			t.WriteTo(buf, ws)
			buf.WriteString(eol)
		}
	}
}

func writeElement(buf *bytes.Buffer, e *etree.Element, depth int, eol string, ws *etree.WriteSettings) {
	pad := strings.Repeat("  ", depth)
	kids := e.ChildElements()
	if len(kids) == 0 || e.Tag == "signatureText" {
		buf.WriteString(pad)
		e.WriteTo(buf, ws)
		buf.WriteString(eol)
		return
	}
	buf.WriteString(pad)
	buf.WriteString("<" + e.FullTag())
	quote, escape := `"`, escapeAttr
	if ws.AttrSingleQuote {
		quote, escape = "'", escapeAttrSingle
	}
	for _, a := range e.Attr {
		buf.WriteString(" " + a.FullKey() + "=" + quote)
		buf.WriteString(escape(a.Value))
		buf.WriteString(quote)
	}
	buf.WriteString(">" + eol)
	for _, t := range e.Child {
		switch x := t.(type) {
		case *etree.Element:
			writeElement(buf, x, depth+1, eol, ws)
		case *etree.CharData:
			if strings.TrimSpace(x.Data) != "" {
				buf.WriteString(pad + "  ")
				x.WriteTo(buf, ws)
				buf.WriteString(eol)
			}
		default:
			buf.WriteString(pad + "  ")
			t.WriteTo(buf, ws)
			buf.WriteString(eol)
		}
	}
	buf.WriteString(pad + "</" + e.FullTag() + ">" + eol)
}

func escapeAttr(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\r", "&#xD;", "\n", "&#xA;", "\t", "&#x9;")
	return r.Replace(s)
}

func escapeAttrSingle(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", "'", "&apos;", "\r", "&#xD;", "\n", "&#xA;", "\t", "&#x9;")
	return r.Replace(s)
}
