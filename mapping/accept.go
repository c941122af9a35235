package mapping

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/v3"
)

// Being liberal in what porxgate accepts (docs/mappings/accepting.md). The
// MIM 4.2.00 datatypes let a sender say more than EPS FHIR has room for: an
// originalText, translations and qualifiers inside a coded value (CV, CE,
// CD), translations inside a physical quantity (PQ). Spine accepts them and
// so does porxgate: relaxV3 sets them aside before an interaction's reader
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

// relaxV3 removes from the tree under root (in place) what relaxV3's rule
// sets aside, and reports whether it removed anything.
func relaxV3(root *etree.Element) bool {
	changed := false
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		switch e.Tag {
		case "ParentPrescription", "signatureText":
			return
		}
		if isCodedValue(e) {
			changed = stripCodedExtras(e) || changed
		} else if isQuantity(e) {
			changed = stripQuantityExtras(e) || changed
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	return changed
}

// isCodedValue tells a CV, CE or CD: an element with a code system.
func isCodedValue(e *etree.Element) bool {
	return e.SelectAttr("codeSystem") != nil && e.SelectAttr("value") == nil
}

// isQuantity tells a PQ: an element with a value and a unit.
func isQuantity(e *etree.Element) bool {
	return e.SelectAttr("value") != nil && e.SelectAttr("unit") != nil
}

// stripCodedExtras removes a coded value's originalText, its translations
// and its CD qualifiers (name/value pairs). A qualifier that is itself a
// code (the severity an MCCI acknowledgement's detected issue carries) is
// read by the acknowledgement reader and stays.
func stripCodedExtras(e *etree.Element) bool {
	changed := false
	for _, c := range e.ChildElements() {
		switch {
		case c.Tag == "originalText", c.Tag == "translation",
			c.Tag == "qualifier" && (c.SelectElement("name") != nil || c.SelectElement("value") != nil):
			e.RemoveChild(c)
			changed = true
		}
	}
	return changed
}

// stripQuantityExtras keeps the first translation of a PQ in dm+d units
// (the one the readers map) and removes the others (UCUM and local units);
// the kept translation loses its own originalText and translations.
func stripQuantityExtras(e *etree.Element) bool {
	var keep *etree.Element
	changed := false
	for _, t := range e.SelectElements("translation") {
		if keep == nil && t.SelectAttrValue("codeSystem", "") == v3SNOMEDdmd {
			keep = t
			continue
		}
		e.RemoveChild(t)
		changed = true
	}
	if keep != nil {
		changed = stripCodedExtras(keep) || changed
	}
	return changed
}

// relaxNode applies relaxV3 to a parsed message's root node.
func relaxNode(root v3.Node) {
	if root.Exists() {
		relaxV3(root.El)
	}
}

// Values of the structural attributes that the MIM fixes per class and
// that Spine reads either way: porxgate accepts both and, where it matters
// to no mapping, keeps the sender's value only through Meta.V3Original.
const (
	determinerValues  = "INSTANCE|KIND"
	separatableValues = "true|false"
)

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

// sameParty reports whether two v3 parties (AgentPerson, Organization)
// name the same person or organisation: the same element (but for the
// elements skip rules out) once what relaxV3 sets aside and the
// determinerCode Spine reads either way are left out of both.
func sameParty(a, b *etree.Element, skip func(*etree.Element) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	if SameElement(a, b, skip) {
		return true
	}
	ca, cb := a.Copy(), b.Copy()
	for _, root := range []*etree.Element{ca, cb} {
		relaxV3(root)
		var drop func(e *etree.Element)
		drop = func(e *etree.Element) {
			e.RemoveAttr("determinerCode")
			for _, c := range e.ChildElements() {
				drop(c)
			}
		}
		drop(root)
	}
	return SameElement(ca, cb, skip)
}
