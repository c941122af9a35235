package dispense

import (
	"encoding/json"
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Shared pieces of the dispensing families (dispense notification, claims,
// return, withdraw, rebuild history): the v3 vocabulary of the supply
// messages (MIM 4.2.00 PORX_MT024001UK31, PORX_MT142001UK31,
// PORX_MT121301UK31, PORX_MT136002UK31, PORX_MT142006UK31), the EPS FHIR
// extension URLs and code systems, porxgate's own extensions for the v3
// elements EPS FHIR has no place for, and small readers and writers.

// Fixed v3 values of the dispensing messages.
const (
	CodeDispensedFocus = "163541000000107"
	NameDispensedFocus = "Dispensed Medication - FocusActOrEvent (administrative concept)"
	TemplateSourceOf1  = "CSAB_RM-NPfITUK10.sourceOf1"
	NullNA             = "NA"
	// ClaimReleasePlaceholder is the release event id the EPS API writes
	// into every claim ("mandatory but unused by BSA").
	ClaimReleasePlaceholder = "FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF"
)

// ---------------------------------------------------------------------------
// v3 reading

// Template checks a templateId of the CSAB templates.
func Template(n v3.Node, ext string) {
	core.Attrs(n, "root", v3.OIDTemplateID, "extension", ext)
	n.Attr("root")
}

// Null checks an element that is always <tag nullFlavor="NA"/>.
func Null(n v3.Node) {
	core.Attrs(n, "nullFlavor", NullNA)
	core.ExpectChildren(n)
	if n.Exists() && n.Attr("nullFlavor") != NullNA {
		n.Fail("want nullFlavor=%q", NullNA)
	}
}

// Interval reads an IVL_INT (repeatNumber) with both ends.
func Interval(n v3.Node) (low, high string) {
	core.Attrs(n)
	core.ExpectChildren(n, "low", "high")
	l, h := n.Child("low"), n.Child("high")
	core.Attrs(l, "value", "*")
	core.Attrs(h, "value", "*")
	low, high = l.Value(), h.Value()
	for _, x := range []struct {
		n v3.Node
		v string
	}{{l, low}, {h, high}} {
		if x.v != "" {
			if n, err := strconv.Atoi(x.v); err != nil || n < 1 {
				x.n.Fail("%q is not a whole number from 1", x.v)
			}
		}
	}
	return low, high
}

// AltQuantity is a v3 quantity in alternative units: <quantity unit="1"
// value=V><translation code codeSystem displayName value=V/></quantity>.
type AltQuantity struct {
	Value json.Number
	Code  string
	Unit  string
}

// ReadAltQuantity reads a quantity in alternative units.
func ReadAltQuantity(n v3.Node) AltQuantity {
	core.Attrs(n, "unit", "1", "value", "*")
	core.ExpectChildren(n, "translation")
	tr := n.Child("translation")
	core.Attrs(tr, "code", "*", "codeSystem", core.V3SNOMED, "displayName", "*", "value", "*")
	core.ExpectChildren(tr)
	v := n.Value()
	if tv := tr.Value(); n.Exists() && tr.Exists() && tv != v {
		tr.Fail("translation value %q differs from the quantity's %q", tv, v)
	}
	num, err := core.Decimal(v)
	if v != "" && err != nil {
		n.Fail("%v", err)
	}
	return AltQuantity{Value: num, Code: core.V3Code(tr, core.V3SNOMED), Unit: tr.OptAttr("displayName")}
}

// ---------------------------------------------------------------------------
// v3 writing

// AddAltQuantity writes a quantity in alternative units.
func AddAltQuantity(parent *etree.Element, q AltQuantity) {
	el := v3.Add(parent, "quantity", "unit", "1", "value", string(q.Value))
	v3.Add(el, "translation", "code", q.Code, "codeSystem", core.V3SNOMED, "displayName", q.Unit, "value", string(q.Value))
}

// AddInterval writes an IVL_INT.
func AddInterval(parent *etree.Element, tag, low, high string) {
	iv := parent.CreateElement(tag)
	v3.AddValue(iv, "low", low)
	v3.AddValue(iv, "high", high)
}

// ---------------------------------------------------------------------------
// FHIR helpers

// SubExtensionString returns the first string-like value of a sub-extension, or "".
func SubExtensionString(ext *fhir.Extension, url string) string {
	for _, e := range core.SubExtensions(ext, url) {
		switch {
		case e.ValueString != nil:
			return *e.ValueString
		case e.ValueCode != nil:
			return *e.ValueCode
		case e.ValueDateTime != nil:
			return *e.ValueDateTime
		case e.ValueIdentifier != nil:
			return e.ValueIdentifier.Value
		case e.ValueInteger != nil:
			return string(*e.ValueInteger)
		}
	}
	return ""
}

// StringPtr returns a pointer to a copy of s.
func StringPtr(s string) *string { return &s }

// ExtCoding returns the valueCoding of the only extension with a URL, or
// nil; a coding-less extension is recorded at path.
func ExtCoding(c *core.BundleContext, exts []fhir.Extension, url, path string) *fhir.Coding {
	e := c.Extension(exts, url, path)
	if e == nil {
		return nil
	}
	if e.ValueCoding == nil {
		c.Fail(path, "extension %s has no valueCoding", url)
		return nil
	}
	return e.ValueCoding
}

// RepeatInfo reads Extension-EPS-RepeatInformation: numberOfRepeatsIssued
// and numberOfRepeatsAllowed, as whole numbers.
func RepeatInfo(c *core.BundleContext, ext *fhir.Extension, path string) (issued, allowed int, ok bool) {
	if ext == nil {
		return 0, 0, false
	}
	get := func(url string) (int, bool) {
		sub := fhir.FindExtension(ext.Extension, url)
		if sub == nil || (sub.ValueInteger == nil && sub.ValueUnsignedInt == nil) {
			c.Fail(path+".extension", "missing %s", url)
			return 0, false
		}
		num := sub.ValueInteger
		if num == nil {
			num = sub.ValueUnsignedInt
		}
		n, err := strconv.Atoi(string(*num))
		if err != nil || n < 0 {
			c.Fail(path+".extension", "%s %q is not a whole number", url, *num)
			return 0, false
		}
		return n, true
	}
	issued, ok1 := get("numberOfRepeatsIssued")
	allowed, ok2 := get("numberOfRepeatsAllowed")
	return issued, allowed, ok1 && ok2
}

// RepeatExtension builds Extension-EPS-RepeatInformation from a v3
// repeatNumber (v3 counts issues from 1, FHIR counts repeats from 0); the
// interval was checked by Interval.
func RepeatExtension(low, high string) (fhir.Extension, bool) {
	l, err1 := strconv.Atoi(low)
	h, err2 := strconv.Atoi(high)
	if err1 != nil || err2 != nil || l < 1 || h < 1 {
		return fhir.Extension{}, false
	}
	allowed, issued := json.Number(strconv.Itoa(h-1)), json.Number(strconv.Itoa(l-1))
	return fhir.Extension{URL: core.ExtensionEPSRepeatInformation, Extension: []fhir.Extension{
		{URL: "numberOfRepeatsAllowed", ValueInteger: &allowed},
		{URL: "numberOfRepeatsIssued", ValueInteger: &issued},
	}}, true
}

// AltQuantityFromFHIR takes a FHIR Quantity in SNOMED units to v3.
func AltQuantityFromFHIR(c *core.BundleContext, q *fhir.Quantity, path string) AltQuantity {
	if q == nil {
		c.Fail(path, "missing mandatory quantity")
		return AltQuantity{}
	}
	if q.Value == "" {
		c.Fail(path+".value", "missing mandatory value")
	} else if _, err := core.Decimal(string(q.Value)); err != nil {
		c.Fail(path+".value", "%v", err)
	}
	if q.Code == "" {
		c.Fail(path+".code", "missing mandatory unit code")
	}
	return AltQuantity{Value: q.Value, Code: q.Code, Unit: q.Unit}
}

// AltQuantityToFHIR writes a v3 quantity as a FHIR Quantity.
func AltQuantityToFHIR(q AltQuantity) *fhir.Quantity {
	return &fhir.Quantity{Value: q.Value, Unit: q.Unit, System: fhir.SystemSNOMED, Code: q.Code}
}

// SNOMED returns the SNOMED coding of a concept, recording a missing one.
func SNOMED(c *core.BundleContext, cc *fhir.CodeableConcept, path string) fhir.Coding {
	if cc == nil {
		c.Fail(path, "missing mandatory medication code")
		return fhir.Coding{}
	}
	cd := c.Coding([]fhir.CodeableConcept{*cc}, fhir.SystemSNOMED, path+".coding")
	if cd == nil {
		c.Fail(path+".coding", "no coding with system %s", fhir.SystemSNOMED)
		return fhir.Coding{}
	}
	return *cd
}
