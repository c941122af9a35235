package core

import (
	"sort"
	"strings"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// Being liberal in what porxgate accepts (docs/mappings/accepting.md). The
// MIM 4.2.00 datatypes let a sender say more than EPS FHIR has room for: an
// originalText, translations and qualifiers inside a coded value (CV, CE,
// CD), translations inside a physical quantity (PQ). Spine accepts them and
// so does porxgate: RelaxV3 sets them aside before an interaction's reader
// sees the message, so every reader reads the form Spine and the EPS API
// write. Nothing is lost: a Translator made with Env.KeepV3 set keeps the
// original beside the FHIR (Meta.V3Original) whenever the FHIR alone would
// not give it back, and writes it back from there.
//
// A ParentPrescription (top level, in a release response or in a
// reimbursement claim) is left exactly as it came: its pertinent parts are
// the prescriber's signed fragments, and the prescription readers carry
// whatever they cannot map inside the FHIR (ExtensionV3Original), so that
// EPS can hand it back to the dispenser byte for byte.

// v3SNOMEDdmd is the code system of a PQ translation the readers map (the
// dm+d unit of measure).
const v3SNOMEDdmd = "2.16.840.1.113883.2.1.3.2.4.15"

// RelaxV3 removes from the tree under root (in place) what RelaxV3's rule
// sets aside (setAside), and reports whether it removed anything.
func RelaxV3(root *etree.Element) bool {
	changed := false
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		switch e.Tag {
		case "ParentPrescription", "signatureText":
			return
		}
		for i := 0; i < len(e.Child); i++ {
			c, ok := e.Child[i].(*etree.Element)
			if !ok {
				continue
			}
			if setAside(e, c) {
				e.RemoveChildAt(i)
				i--
				changed = true
				continue
			}
			walk(c)
		}
	}
	walk(root)
	return changed
}

// setAside reports whether c, a child of e, is what the acceptance rule
// sets aside: a coded value's originalText, translations and CD qualifiers
// (name/value pairs; a qualifier that is itself a code, the severity an
// MCCI acknowledgement's detected issue carries, is read and stays), and a
// PQ's translations but the first in dm+d units (the one the readers map).
func setAside(e, c *etree.Element) bool {
	r := asideRule{e: e}
	return r.setAside(c)
}

// isCodedValue tells a CV, CE or CD (an element with a code system but no
// value) and a PQ's translation (a PQR: a coded value with a value).
func isCodedValue(e *etree.Element) bool {
	if _, ok := attrValue(e, "", "codeSystem"); !ok {
		return false
	}
	_, value := attrValue(e, "", "value")
	return !value || e.Tag == "translation"
}

// isQuantity tells a PQ: an element with a value and a unit.
func isQuantity(e *etree.Element) bool {
	if _, ok := attrValue(e, "", "value"); !ok {
		return false
	}
	_, unit := attrValue(e, "", "unit")
	return unit
}

// firstDMDTranslation returns a PQ's first translation in dm+d units, or
// nil.
func firstDMDTranslation(e *etree.Element) *etree.Element {
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "translation" && c.SelectAttrValue("codeSystem", "") == v3SNOMEDdmd {
			return c
		}
	}
	return nil
}

// DMDTranslation returns the translation of a PQ that the readers map: the
// first in dm+d units, wherever it stands among the PQ's translations (0..*
// in the MIM), else the first (a missing one recorded as such). A
// ParentPrescription, which RelaxV3 leaves whole, is read through it.
func DMDTranslation(q v3.Node) v3.Node {
	first := q.Child("translation")
	if !first.Exists() || first.OptAttr("codeSystem") == v3SNOMEDdmd {
		return first
	}
	for _, tr := range q.All("translation")[1:] {
		if tr.OptAttr("codeSystem") == v3SNOMEDdmd {
			return tr
		}
	}
	return first
}

// RelaxNode applies RelaxV3 to a parsed message's root node.
func RelaxNode(root v3.Node) {
	if root.Exists() {
		RelaxV3(root.El)
	}
}

// Values of the structural attributes that the MIM fixes per class and
// that Spine reads either way: porxgate accepts both and, where it matters
// to no mapping, keeps the sender's value only through Meta.V3Original.
const (
	determinerValues  = "INSTANCE|KIND"
	separatableValues = "true|false"
	// contextConductionValues: the MIM's schemas type every
	// contextConductionInd bl, optional with a default, fixing none
	// (nhsdigitalmait/SPINE_schema omvt/Schemas and TightenedSchemas).
	contextConductionValues = "true|false"
)

// datatypeAttrs are the optional attributes an HL7 datatype always has,
// besides those a reader reads, by an attribute that marks the datatype: an
// II (root) may name its assigning authority and say whether it is
// displayable; a coded value (codeSystem: CD, CE, CV, CS and a PQ's
// translation) may name its code system and that system's version (the MIM
// 4.2.00 datatypes, nhsdigitalmait/SPINE_schema omvt/dt/datatypes_4200.xsd).
// Spine takes them, and they change nothing EPS FHIR holds: readers take
// them unread (Env.KeepV3 keeps them beside the FHIR). Each has its
// allowed values, "*" any (an st, which RefuseEmptyAttrs keeps non-empty).
// A list, not a map, so that the first that applies is always the one
// reported.
var datatypeAttrs = []struct{ marker, attr, allowed string }{
	{"root", "assigningAuthorityName", "*"},
	{"root", "displayable", "true|false"},
	{"codeSystem", "codeSystemName", "*"},
	{"codeSystem", "codeSystemVersion", "*"},
}

// XSIType is the key under which a reader names, among the attributes it
// reads, the datatypes an xsi:type may name on the element: its declared
// type and those derived from it ("TS"). An element read with a marker of
// xsiTypes needs none.
const XSIType = "xsi:type"

// xsiNamespace is the XML Schema instance namespace of xsi:type.
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// xsiTypes are the datatypes an xsi:type may name on an element read with
// the marker attribute: an II (root); a coded value (codeSystem), declared
// CD, CE, CV or CS, each of which the next one restricts; a PQ (unit). The
// first whose marker is read applies, in this order.
var xsiTypes = []struct{ marker, types string }{
	{"root", "II"},
	{"codeSystem", "CD|CE|CV|CS"},
	{"unit", "PQ"},
}

// DatatypeAttr tells an attribute a of an element read with the given
// attributes (read returns the values a reader allows for an attribute it
// reads, and whether it reads it) that the element's datatype allows unread:
// one of datatypeAttrs, or an xsi:type (in the XML Schema instance
// namespace) naming the element's declared type, which an XML schema
// validator such as Spine's takes on any element (xsiTypes, or the values
// the reader gives under XSIType), or a schema location hint
// (xsi:schemaLocation, xsi:noNamespaceSchemaLocation), which XML Schema
// lets any element carry and schema-aware writers put on a message's root
// and payload. It reports whether a is one, and, when it is, whether its
// value is allowed and the values that are.
func DatatypeAttr(a etree.Attr, read func(string) (string, bool)) (extra, ok bool, allowed string) {
	has := func(key string) bool { _, ok := read(key); return ok }
	if (a.Key == "schemaLocation" || a.Key == "noNamespaceSchemaLocation") && a.Space != "" && a.NamespaceURI() == xsiNamespace {
		return true, strings.TrimSpace(a.Value) != "", "a schema location"
	}
	if a.Key == "type" && a.Space != "" && a.NamespaceURI() == xsiNamespace {
		types, found := read(XSIType)
		for _, x := range xsiTypes {
			if found {
				break
			}
			if has(x.marker) {
				types, found = x.types, true
			}
		}
		if !found {
			return false, false, ""
		}
		local := a.Value[strings.IndexByte(a.Value, ':')+1:]
		return true, oneOf(local, types), types
	}
	if a.Space != "" {
		return false, false, ""
	}
	for _, d := range datatypeAttrs {
		if d.attr == a.Key && has(d.marker) {
			return true, d.allowed == "*" || oneOf(a.Value, d.allowed), d.allowed
		}
	}
	return false, false, ""
}

// oneOf reports whether v is one of the values of alternatives, separated
// by '|' ("INSTANCE|KIND").
func oneOf(v, alternatives string) bool {
	for _, a := range strings.Split(alternatives, "|") {
		if v == a {
			return true
		}
	}
	return false
}

// SameParty reports whether two v3 parties (AgentPerson, Organization)
// name the same person or organisation: the same element but for the
// elements skip rules out, what the acceptance rule sets aside, the
// determinerCode Spine reads either way and the attributes a datatype
// allows unread (ignoredAttr).
func SameParty(a, b *etree.Element, skip func(*etree.Element) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	da, db := parentDefaults(a.Parent(), b.Parent())
	return sameParty(a, b, skip, da, db)
}

// parentDefaults is defaultNamespace of pa and of pb, the ancestors they
// share walked once when they are one element or siblings (an author's and
// a responsible party's AgentPerson are the children of siblings).
func parentDefaults(pa, pb *etree.Element) (da, db string) {
	switch {
	case pa == nil || pb == nil:
		return defaultNamespace(pa), defaultNamespace(pb)
	case pa == pb:
		d := defaultNamespace(pa)
		return d, d
	case pa.Parent() == pb.Parent():
		d := defaultNamespace(pa.Parent())
		return ownDefault(pa, d), ownDefault(pb, d)
	}
	return defaultNamespace(pa), defaultNamespace(pb)
}

// sameParty is SameParty given the default namespaces in scope at a's and
// b's parents, which the children then inherit instead of each looking
// for its own up to the root.
func sameParty(a, b *etree.Element, skip func(*etree.Element) bool, da, db string) bool {
	if a.Tag != b.Tag {
		return false
	}
	if ns, declared, same := sameUnprefixedAttrs(a.Attr, b.Attr); same {
		// The usual case, told in one pass over the attributes: the same
		// ones (sameAttrs holds), so the same default namespace declared.
		if declared {
			da, db = ns, ns
		}
		if elementNamespace(a, da) != elementNamespace(b, db) || !sameTrimmedText(a, b) {
			return false
		}
	} else {
		da, db = ownDefault(a, da), ownDefault(b, db)
		if elementNamespace(a, da) != elementNamespace(b, db) ||
			!sameTrimmedText(a, b) || !sameAttrs(a, b) {
			return false
		}
	}
	if sameChildren(a, b, skip, da, db) {
		return true
	}
	// A person's name (PN) may give its parts in any order.
	return a.Tag == "name" && sameNameParts(a, b, skip, da, db)
}

// asideRule is setAside for the children of one element e: whether e is a
// coded value, a PQ or neither (two scans of its attributes) is told once,
// when the first child the rule could set aside (an originalText, a
// translation, a qualifier) asks, and a PQ's first dm+d translation once,
// instead of both again for every child. SameParty asks it of every child
// it compares; most children are none of the three and cost a tag compare.
type asideRule struct {
	e    *etree.Element
	kind asideKind
	dmd  *etree.Element // a PQ's firstDMDTranslation, once dmdTold
	// dmdTold reports whether dmd has been looked for.
	dmdTold bool
}

// asideKind is what setAside takes e for: not yet told, neither a coded
// value nor a PQ, a coded value (isCodedValue), a PQ (isQuantity).
type asideKind uint8

const (
	asideUntold asideKind = iota
	asideNone
	asideCoded
	asideQuantity
)

// setAside is setAside(r.e, c).
func (r *asideRule) setAside(c *etree.Element) bool {
	switch c.Tag {
	case "originalText", "translation", "qualifier":
	default:
		return false
	}
	if r.kind == asideUntold {
		switch {
		case isCodedValue(r.e):
			r.kind = asideCoded
		case isQuantity(r.e):
			r.kind = asideQuantity
		default:
			r.kind = asideNone
		}
	}
	switch r.kind {
	case asideCoded:
		return c.Tag != "qualifier" || c.SelectElement("name") != nil || c.SelectElement("value") != nil
	case asideQuantity:
		if c.Tag != "translation" {
			return false
		}
		if !r.dmdTold {
			r.dmd, r.dmdTold = firstDMDTranslation(r.e), true
		}
		return c != r.dmd
	}
	return false
}

// partyChild reports whether c, a child of r.e, is compared by SameParty:
// neither ruled out by skip nor set aside by the acceptance rule.
func (r *asideRule) partyChild(c *etree.Element, skip func(*etree.Element) bool) bool {
	return (skip == nil || !skip(c)) && !(mayBeSetAside(c.Tag) && r.setAside(c))
}

// mayBeSetAside is false for a tag that is none of those setAside sets
// aside (originalText, translation, qualifier), told by its length and
// first letter without a call.
func mayBeSetAside(tag string) bool {
	return len(tag) >= len("qualifier") && (tag[0] == 'o' || tag[0] == 't' || tag[0] == 'q')
}

// sameChildren reports whether a and b have the same compared children
// (partyChild), in the same order, each the same party (sameParty). The
// two searches for the next compared child are written out (partyChild
// each), not calls: sameChildren runs for every element SameParty
// compares.
func sameChildren(a, b *etree.Element, skip func(*etree.Element) bool, da, db string) bool {
	ra, rb := asideRule{e: a}, asideRule{e: b}
	ka, kb := a.Child, b.Child
	for i, j := 0, 0; ; i, j = i+1, j+1 {
		var ca, cb *etree.Element
		for ; i < len(ka); i++ {
			if c, ok := ka[i].(*etree.Element); ok && !(skip != nil && skip(c)) && !(mayBeSetAside(c.Tag) && ra.setAside(c)) {
				ca = c
				break
			}
		}
		for ; j < len(kb); j++ {
			if c, ok := kb[j].(*etree.Element); ok && !(skip != nil && skip(c)) && !(mayBeSetAside(c.Tag) && rb.setAside(c)) {
				cb = c
				break
			}
		}
		if ca == nil || cb == nil {
			return ca == cb
		}
		if !sameParty(ca, cb, skip, da, db) {
			return false
		}
	}
}

// defaultNamespace is the default namespace in scope at e (as etree finds
// it for an element without a prefix); "" for nil.
func defaultNamespace(e *etree.Element) string {
	for ; e != nil; e = e.Parent() {
		if ns, ok := declaredDefault(e); ok {
			return ns
		}
	}
	return ""
}

// ownDefault is the default namespace in scope at e, given the one in
// scope at its parent.
func ownDefault(e *etree.Element, inherited string) string {
	if ns, ok := declaredDefault(e); ok {
		return ns
	}
	return inherited
}

// declaredDefault returns the default namespace e declares, if it does.
func declaredDefault(e *etree.Element) (string, bool) {
	// By index: ranging over the values copies each attribute.
	for i := range e.Attr {
		if a := &e.Attr[i]; a.Space == "" && a.Key == "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

// elementNamespace is e.NamespaceURI() given def, the default namespace in
// scope at e.
func elementNamespace(e *etree.Element, def string) string {
	if e.Space == "" {
		return def
	}
	return e.NamespaceURI()
}

// sameNameParts is sameParty for two names: a person's name (PN) may give
// its parts (prefix, given, family, suffix...) in any order, so they are
// compared kind by kind, the parts of one kind in their order (a first and
// a second given name are not the same name swapped).
// sameParty tries them in order first (sameChildren), so that only names
// written in another order pay for the sorted copies made here.
func sameNameParts(a, b *etree.Element, skip func(*etree.Element) bool, da, db string) bool {
	parts := func(e *etree.Element) []*etree.Element {
		var out []*etree.Element
		r := asideRule{e: e}
		for _, t := range e.Child {
			if c, ok := t.(*etree.Element); ok && r.partyChild(c, skip) {
				out = append(out, c)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
		return out
	}
	pa, pb := parts(a), parts(b)
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		if !sameParty(pa[i], pb[i], skip, da, db) {
			return false
		}
	}
	return true
}

// sameUnprefixedAttrs reports whether a and b are the same attributes in
// the same order, none of them prefixed (sameAttrsInOrder and
// unprefixedAttrs, in one pass), and, when they are, the default namespace
// they declare (declaredDefault) and whether they declare one.
func sameUnprefixedAttrs(a, b []etree.Attr) (ns string, declared, same bool) {
	if len(a) != len(b) {
		return "", false, false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if len(x.Space) != 0 || len(y.Space) != 0 || x.Key != y.Key || x.Value != y.Value {
			return "", false, false
		}
		if !declared && x.Key == "xmlns" {
			ns, declared = x.Value, true
		}
	}
	return ns, declared, true
}

// sameAttrs reports whether two elements have the same attributes, but for
// those ignoredAttr sets aside.
func sameAttrs(a, b *etree.Element) bool {
	// The same attributes in the same order, none of them prefixed (so
	// that each is the one SelectAttr finds by its name), are the same by
	// this rule too, and it sets the same ones aside on both sides: the
	// usual case (a responsible party who is the author) told without
	// classifying each attribute.
	if sameAttrsInOrder(a.Attr, b.Attr) && unprefixedAttrs(a.Attr) {
		return true
	}
	count := func(e *etree.Element) int {
		n := 0
		for _, at := range e.Attr {
			if !ignoredAttr(e, at) {
				n++
			}
		}
		return n
	}
	if count(a) != count(b) {
		return false
	}
	for _, at := range a.Attr {
		if ignoredAttr(a, at) {
			continue
		}
		bt := b.SelectAttr(at.FullKey())
		if bt == nil || bt.Value != at.Value {
			return false
		}
	}
	return true
}

// unprefixedAttrs reports whether no attribute of attrs has a prefix.
func unprefixedAttrs(attrs []etree.Attr) bool {
	for i := range attrs {
		if attrs[i].Space != "" {
			return false
		}
	}
	return true
}

// ignoredAttr tells the attributes of e SameParty does not compare: the
// namespace declarations, the determinerCode, and what the element's
// datatype allows unread (DatatypeAttr: an II's assigningAuthorityName and
// displayable, a coded value's codeSystemName and codeSystemVersion, an
// xsi:type, a schema location), none of which names another party.
func ignoredAttr(e *etree.Element, a etree.Attr) bool {
	if a.Space == "xmlns" || a.Space == "" && (a.Key == "xmlns" || a.Key == "determinerCode") {
		return true
	}
	extra, _, _ := DatatypeAttr(a, func(key string) (string, bool) {
		if e.SelectAttr(key) != nil {
			return "*", true
		}
		return "", false
	})
	return extra
}
