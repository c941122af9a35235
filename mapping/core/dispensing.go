package core

import (
	"encoding/json"
	"strings"

	"strconv"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// FHIR extension URLs, identifier and code systems of EPS dispensing.
const (
	ExtensionTaskBusinessStatus       = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatus"
	ExtensionTaskBusinessStatusReason = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-TaskBusinessStatusReason"
	ExtensionNonDispensingReason      = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionNonDispensingReason"
	ExtensionReplacementOf            = fhir.ExtensionReplacementOf
	ExtensionOrganisationRelations    = "https://fhir.nhs.uk/StructureDefinition/Extension-ODS-OrganisationRelationships"
	ExtensionGroupIdentifier          = fhir.ExtensionGroupIdentifier
	ExtensionClaimSequenceIdentifier  = "https://fhir.nhs.uk/StructureDefinition/Extension-ClaimSequenceIdentifier"
	ExtensionClaimMedicationRequest   = "https://fhir.nhs.uk/StructureDefinition/Extension-ClaimMedicationRequestReference"
	ExtensionClaimMedicationDispense  = "https://fhir.nhs.uk/StructureDefinition/Extension-ClaimMedicationDispenseReference"
	ExtensionDataAbsentReason         = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

	SystemClaimSequence = "https://fhir.nhs.uk/Id/claim-sequence-identifier"

	CodeSystemDispenseStatusReason = "https://fhir.nhs.uk/CodeSystem/medicationdispense-status-reason"
	CodeSystemReturnReason         = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-return-status-reason"
	CodeSystemWithdrawReason       = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-reason"
	CodeSystemWithdrawType         = "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-type"
	CodeSystemDispenseEndorsement  = "https://fhir.nhs.uk/CodeSystem/medicationdispense-endorsement"
	CodeSystemPrescriptionCharge   = "https://fhir.nhs.uk/CodeSystem/DM-prescription-charge"
	CodeSystemChargeExemption      = "https://fhir.nhs.uk/CodeSystem/prescription-charge-exemption"
	CodeSystemExemptionEvidence    = "https://fhir.nhs.uk/CodeSystem/DM-exemption-evidence"
	CodeSystemTaskCode             = "http://hl7.org/fhir/CodeSystem/task-code"
	CodeSystemClaimType            = "http://terminology.hl7.org/CodeSystem/claim-type"
	CodeSystemProcessPriority      = "http://terminology.hl7.org/CodeSystem/processpriority"
	CodeSystemPayeeType            = "http://terminology.hl7.org/CodeSystem/payeetype"
	CodeSystemMessageReason        = "https://fhir.nhs.uk/CodeSystem/message-reason-prescription"
	CodeSystemPorxgateEvent        = "https://fhir.porxgate.dev/CodeSystem/porxgate-message-event"

	// DirectoryOrganizationURL prefixes an ODS code in the endpoints of a
	// MessageHeader, as the EPS API's examples write them.
	DirectoryOrganizationURL = "https://directory.spineservices.nhs.uk/STU3/Organization/"
)

// OIDs of the dispensing vocabularies that v3/oids.go leaves out.
const (
	OIDNonDispensingReason = "2.16.840.1.113883.2.1.3.2.4.16.31"
	OIDReturnReason        = "2.16.840.1.113883.2.1.3.2.4.16.28"
	OIDWithdrawType        = "2.16.840.1.113883.2.1.3.2.4.17.109"
	OIDWithdrawReason      = "2.16.840.1.113883.2.1.3.2.4.17.110"
	OIDDispenseEndorsement = "2.16.840.1.113883.2.1.3.2.4.16.29"
	OIDChargeExemption     = "2.16.840.1.113883.2.1.3.2.4.16.33"
	OIDDispenseTemplate    = "2.16.840.1.113883.2.1.3.2.4.17.113"
)

// Attrs checks an element's attributes: each one must be named in pairs
// (name, allowed values separated by '|'; "*" allows any value) and carry an
// allowed value. Absent attributes are accepted: the schema gives them the
// fixed values porxgate writes back. The optional attributes of the
// element's datatype that no reader reads (DatatypeAttr) are taken too.
func Attrs(n v3.Node, pairs ...string) {
	if !n.Exists() {
		return
	}
	read := func(key string) (string, bool) {
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i] == key {
				return pairs[i+1], true
			}
		}
		return "", false
	}
next:
	for _, a := range n.El.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		if extra, ok, allowed := DatatypeAttr(a, read); extra {
			if !ok {
				n.Reader().FailRule(n.Path()+"/@"+a.FullKey(), v3.RuleDatatype, "%q is not allowed by the element's datatype (want %s)", a.Value, allowed)
				return
			}
			continue
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i] != a.Key || a.Space != "" {
				continue
			}
			if pairs[i+1] == "*" {
				continue next
			}
			allowed := pairs[i+1]
			switch a.Key {
			case "determinerCode":
				allowed = determinerValues
			case "contextConductionInd":
				allowed = contextConductionValues
			}
			for _, v := range strings.Split(allowed, "|") {
				if v == a.Value {
					continue next
				}
			}
			n.Fail("attribute %s=%q not supported (want %s)", a.Key, a.Value, allowed)
			return
		}
		n.Fail("unexpected attribute %s", a.FullKey())
		return
	}
}

// RefuseEmptyAttrs records the first attribute, on n or on an HL7 v3
// element below it, whose value is empty, and reports whether it found one.
// Readers call it after reading, so that a problem they name more exactly
// comes first. An id's root and extension (uid, st), a time (ts), a number
// (real, int), a boolean (bl), a display name (st) and a structural code
// (an enumeration) are never empty, and a coded value's code (cs) must be a
// term of its vocabulary, so Spine refuses such a message; the readers,
// which take an absent optional attribute as its default, would otherwise
// read an empty one as a value and send EPS a notification without its NHS
// number, prescription id, item status or time. EmptyAttrAllowed names the
// attributes the schemas let be empty; they are read as absent. An element
// written with a prefix, or declaring another default namespace (the
// signature's xmldsig elements), is not HL7 v3's and is passed over with
// what it holds. The walk makes no path unless it finds one, and is not
// taken when the parser met no empty attribute value in the document.
func RefuseEmptyAttrs(n v3.Node) bool {
	if !n.Exists() || !n.Reader().MayHoldEmptyAttr() {
		return false
	}
	var chain [32]*etree.Element
	found, key := emptyAttrIn(n.El, chain[:0])
	if found == nil {
		return false
	}
	// The path of the element found, each step indexed among its
	// like-named siblings as n.All indexes it.
	at := n
	for _, el := range found[1:] {
		for _, c := range at.All(el.Tag) {
			if c.El == el {
				at = c
				break
			}
		}
	}
	at.NonEmptyAttr(key)
	return true
}

// emptyAttrIn returns the elements from e down to the first HL7 v3 element
// (e included) with an attribute RefuseEmptyAttrs refuses, appended to
// chain, and that attribute's name; nil when there is none.
func emptyAttrIn(e *etree.Element, chain []*etree.Element) ([]*etree.Element, string) {
	chain = append(chain, e)
	for _, a := range e.Attr {
		if a.Value == "" && a.Space == "" && a.Key != "xmlns" && !EmptyAttrAllowed(e.Tag, a.Key) {
			return chain, a.Key
		}
	}
	for _, t := range e.Child {
		c, ok := t.(*etree.Element)
		if !ok || c.Space != "" {
			continue
		}
		if ns, declared := declaredDefault(c); declared && ns != v3.Namespace {
			continue // another vocabulary's (the signature's xmldsig)
		}
		if found, key := emptyAttrIn(c, chain); found != nil {
			return found, key
		}
	}
	return nil, ""
}

// EmptyAttrAllowed reports whether the schemas let attribute key of an
// element tag be empty: a use or qualifier (a set of codes, which may be
// empty) and a telecom's value (a url, xsd:anyURI).
func EmptyAttrAllowed(tag, key string) bool {
	return key == "use" || key == "qualifier" || (tag == "telecom" && key == "value")
}

// dspBool checks a BL element (such as seperatableInd) whose value porxgate
// writes fixed (want): absent, or a boolean. Spine takes either value
// (docs/mappings/accepting.md), so the other one is accepted too.
func dspBool(n v3.Node, want string) {
	if !n.Exists() {
		return
	}
	Attrs(n, "value", separatableValues, XSIType, "BL")
	ExpectChildren(n)
}

// Rel checks an act relationship element's attributes and, when
// separatable is not empty, its seperatableInd.
func Rel(n v3.Node, separatable string, pairs ...string) {
	Attrs(n, pairs...)
	if separatable != "" {
		dspBool(n.Child("seperatableInd"), separatable)
	}
}

// Root returns the @root of an II that carries no extension (a UUID or
// other global id).
func Root(n v3.Node) string {
	Attrs(n, "root", "*")
	ExpectChildren(n)
	return n.Attr("root")
}

// CV reads a coded value of a code system: code and displayName.
func CV(n v3.Node, system string) fhir.Coding {
	Attrs(n, "code", "*", "codeSystem", system, "displayName", "*")
	ExpectChildren(n)
	return fhir.Coding{Code: V3Code(n, system), Display: n.OptAttr("displayName")}
}

// FixedCV checks a coded value that is always the same code (display
// optional, any).
func FixedCV(n v3.Node, code, system string) {
	Attrs(n, "code", code, "codeSystem", system, "displayName", "*")
	ExpectChildren(n)
	V3FixedCode(n, code, system)
}

// Annotation reads a <rel><seperatableInd/><act classCode=OBS
// moodCode=EVN><code code=.. codeSystem=17.30/>...</act></rel> relationship
// and returns the act for its value.
func Annotation(rel v3.Node, separatable, act, code string, relAttrs ...string) v3.Node {
	Rel(rel, separatable, relAttrs...)
	ExpectModel(rel, "seperatableInd", act)
	a := rel.Child(act)
	Attrs(a, "classCode", "OBS", "moodCode", "EVN", "negationInd", "true|false")
	FixedCV(a.Child("code"), code, v3.OIDPertinentCode)
	return a
}

// AddTemplate writes a CSAB templateId.
func AddTemplate(parent *etree.Element, ext string) {
	v3.Add(parent, "templateId", "root", v3.OIDTemplateID, "extension", ext)
}

// AddRef writes <tag typeCode=..><seperatableInd/>[templateId]<ref
// classCode moodCode><id root/></ref></tag>, the shape of every act
// reference (inFulfillmentOf, predecessor, reversalOf...).
func AddRef(parent *etree.Element, tag string, relAttrs []string, separatable, tpl, ref, classCode, moodCode, id string) {
	rel := v3.Add(parent, tag, relAttrs...)
	if separatable != "" {
		v3.AddValue(rel, "seperatableInd", separatable)
	}
	if tpl != "" {
		AddTemplate(rel, tpl)
	}
	v3.AddII(v3.Add(rel, ref, "classCode", classCode, "moodCode", moodCode), "id", UpperUUID(id), "")
}

// NewFixedTemplate returns the templateId AddTemplate(parent, ext) writes,
// as a v3.Fixed (for package variables).
func NewFixedTemplate(ext string) *v3.Fixed {
	return v3.NewFixed("templateId", "root", v3.OIDTemplateID, "extension", ext)
}

// FixedRef is the fixed part of an act reference AddRef writes (all but
// the id's extension), laid out once by NewFixedRef, for AddFixedRef.
type FixedRef struct{ rel, sep, tpl, ref *v3.Fixed }

// NewFixedRef returns the act reference AddRef(parent, tag, relAttrs,
// separatable, tpl, ref, classCode, moodCode, id) writes but for its id,
// as v3.Fixed elements: for package variables (it panics where
// v3.NewFixed does; relAttrs must not be empty).
func NewFixedRef(tag string, relAttrs []string, separatable, tpl, ref, classCode, moodCode string) *FixedRef {
	r := &FixedRef{rel: v3.NewFixed(tag, relAttrs...), ref: v3.NewFixed(ref, "classCode", classCode, "moodCode", moodCode)}
	if separatable != "" {
		r.sep = v3.NewFixed("seperatableInd", "value", separatable)
	}
	if tpl != "" {
		r.tpl = NewFixedTemplate(tpl)
	}
	return r
}

// AddFixedRef writes the act reference r with the id given as AddRef
// writes it, from its fixed elements (see v3.AddFixed).
func AddFixedRef(parent *etree.Element, r *FixedRef, id string) {
	rel := v3.AddFixed(parent, r.rel)
	if r.sep != nil {
		v3.AddFixed(rel, r.sep)
	}
	if r.tpl != nil {
		v3.AddFixed(rel, r.tpl)
	}
	v3.AddII(v3.AddFixed(rel, r.ref), "id", UpperUUID(id), "")
}

// AddCV writes a coded value with an optional displayName.
func AddCV(parent *etree.Element, tag string, cd fhir.Coding, system string) {
	v3.AddCV(parent, tag, cd.Code, system, cd.Display)
}

// PorxgateExtensionURL returns the URL of porxgate's own extension of a name (under
// PorxgateExtensionBase): such extensions carry v3 elements that EPS FHIR
// has no element for, so that a legacy message survives v3 → FHIR → v3
// unchanged. See docs/mappings.
func PorxgateExtensionURL(name string) string {
	return PorxgateExtensionBase + "Extension-Porxgate-" + name
}

// PorxgateExtension returns the porxgate extension of a name among exts, or nil.
func PorxgateExtension(exts []fhir.Extension, name string) *fhir.Extension {
	// fhir.FindExtension(exts, PorxgateExtensionURL(name)) without joining
	// the URL, which messages without the extension (every message not
	// made by porxgate) paid for on every look.
	const prefix = PorxgateExtensionBase + "Extension-Porxgate-"
	for i := range exts {
		if u := exts[i].URL; len(u) == len(prefix)+len(name) && u[:len(prefix)] == prefix && u[len(prefix):] == name {
			return &exts[i]
		}
	}
	return nil
}

// SubExtensions returns the values of the sub-extensions called url.
func SubExtensions(ext *fhir.Extension, url string) []fhir.Extension {
	if ext == nil {
		return nil
	}
	var out []fhir.Extension
	for _, e := range ext.Extension {
		if e.URL == url {
			out = append(out, e)
		}
	}
	return out
}

// ExtensionBuilder collects the sub-extensions of one porxgate extension.
type ExtensionBuilder struct {
	Name string
	Subs []fhir.Extension
}

// String adds a valueString sub-extension; an empty v adds nothing.
func (p *ExtensionBuilder) String(url, v string) {
	if v != "" {
		s := v
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueString: &s})
	}
}

// DateTime adds a valueDateTime sub-extension; an empty v adds nothing.
func (p *ExtensionBuilder) DateTime(url, v string) {
	if v != "" {
		s := v
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueDateTime: &s})
	}
}

// ID adds a valueIdentifier sub-extension (value only); an empty v adds
// nothing.
func (p *ExtensionBuilder) ID(url, v string) {
	if v != "" {
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueIdentifier: &fhir.Identifier{Value: v}})
	}
}

// Coding adds a valueCoding sub-extension.
func (p *ExtensionBuilder) Coding(url string, cd fhir.Coding) {
	c := cd
	p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueCoding: &c})
}

// Integer adds a valueInteger sub-extension; an empty v adds nothing.
func (p *ExtensionBuilder) Integer(url, v string) {
	if v != "" {
		n := json.Number(v)
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueInteger: &n})
	}
}

// Nested adds a sub-extension holding subs.
func (p *ExtensionBuilder) Nested(url string, subs []fhir.Extension) {
	p.Subs = append(p.Subs, fhir.Extension{URL: url, Extension: subs})
}

// AppendTo adds the extension to exts when it has any content.
func (p *ExtensionBuilder) AppendTo(exts []fhir.Extension) []fhir.Extension {
	if len(p.Subs) == 0 {
		return exts
	}
	return append(exts, fhir.Extension{URL: PorxgateExtensionURL(p.Name), Extension: p.Subs})
}

// LowerUUID lower-cases an id when it is a UUID, as FHIR writes them.
func LowerUUID(s string) string {
	if IsUUID(s) {
		return LowerID(s)
	}
	return s
}

// Coding returns a coding of a code system with code and display.
func Coding(system string, cd fhir.Coding) fhir.Coding {
	return fhir.Coding{System: system, Code: cd.Code, Display: cd.Display}
}

// Concept returns a CodeableConcept holding one coding.
func Concept(system string, cd fhir.Coding) *fhir.CodeableConcept {
	return &fhir.CodeableConcept{Coding: []fhir.Coding{Coding(system, cd)}}
}

// TSFromFHIR turns a FHIR DateTime at path into a v3 TS.
func TSFromFHIR(c *BundleContext, s, path string) string {
	return TSFromFHIRAt(c, s, path, "")
}

// TSFromFHIRAt is TSFromFHIR for the DateTime at path+suffix, joined only
// for a problem.
func TSFromFHIRAt(c *BundleContext, s, path, suffix string) string {
	if s == "" {
		c.Fail(path+suffix, "missing mandatory date time")
		return ""
	}
	ts, err := V3TimestampFromFHIR(s)
	if err != nil {
		c.Fail(path+suffix, "%v", err)
	}
	return ts
}

// FHIRTimeFromTS turns a v3 TS at n into a FHIR DateTime.
func FHIRTimeFromTS(n v3.Node, ts string) string {
	if ts == "" {
		return ""
	}
	s, err := FHIRDateTimeFromV3(ts)
	if err != nil {
		n.Fail("%v", err)
	}
	return s
}

// TS reads a TS element's value.
func TS(n v3.Node) string {
	Attrs(n, "value", "*", XSIType, "TS")
	ExpectChildren(n)
	return n.Value()
}

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
	Attrs(n, "root", v3.OIDTemplateID, "extension", ext)
	n.Attr("root")
}

// Null checks an element that is always <tag nullFlavor="NA"/>.
func Null(n v3.Node) {
	Attrs(n, "nullFlavor", NullNA)
	ExpectChildren(n)
	if n.Exists() && n.Attr("nullFlavor") != NullNA {
		n.Fail("want nullFlavor=%q", NullNA)
	}
}

// Interval reads an IVL_INT (repeatNumber) with both ends.
func Interval(n v3.Node) (low, high string) {
	Attrs(n, XSIType, "IVL_INT")
	ExpectModel(n, "low", "high")
	l, h := n.Child("low"), n.Child("high")
	Attrs(l, "value", "*")
	Attrs(h, "value", "*")
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
	Attrs(n, "unit", "1", "value", "*")
	ExpectModel(n, "translation")
	tr := n.Child("translation")
	Attrs(tr, "code", "*", "codeSystem", V3SNOMED, "displayName", "*", "value", "*")
	ExpectChildren(tr)
	v := n.Value()
	if tv := tr.Value(); n.Exists() && tr.Exists() && tv != v {
		tr.Fail("translation value %q differs from the quantity's %q", tv, v)
	}
	num, err := Decimal(v)
	if v != "" && err != nil {
		n.Fail("%v", err)
	}
	// A translation without a code is what the EPS API writes for a FHIR
	// quantity whose unit has none (dispense-notification.ts,
	// dispense-claim.ts: SnomedCode of an absent code).
	code := tr.OptAttr("code")
	if cs := tr.OptAttr("codeSystem"); cs != "" && cs != V3SNOMED {
		tr.Fail("unknown code system %q (want %s)", cs, V3SNOMED)
	}
	return AltQuantity{Value: num, Code: code, Unit: tr.OptAttr("displayName")}
}

// ---------------------------------------------------------------------------
// v3 writing

// AddAltQuantity writes a quantity in alternative units; a unit without a
// display is written without displayName (the MIM's ST is at least one
// character long; the EPS API leaves it out too).
func AddAltQuantity(parent *etree.Element, q AltQuantity) {
	el := v3.Add(parent, "quantity", "unit", "1", "value", string(q.Value))
	var room [8]string
	attrs := room[:0]
	if q.Code != "" { // a unit without a code: none, as the EPS API writes it
		attrs = append(attrs, "code", q.Code)
	}
	attrs = append(attrs, "codeSystem", V3SNOMED)
	if q.Unit != "" {
		attrs = append(attrs, "displayName", q.Unit)
	}
	v3.Add(el, "translation", append(attrs, "value", string(q.Value))...)
}

// AddInterval writes an IVL_INT.
func AddInterval(parent *etree.Element, tag, low, high string) {
	iv := v3.Add(parent, tag)
	v3.AddValue(iv, "low", low)
	v3.AddValue(iv, "high", high)
}

// ---------------------------------------------------------------------------
// FHIR helpers

// SubExtensionString returns the first string-like value of a sub-extension, or "".
func SubExtensionString(ext *fhir.Extension, url string) string {
	for _, e := range SubExtensions(ext, url) {
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
func ExtCoding(c *BundleContext, exts []fhir.Extension, url, path string) *fhir.Coding {
	return ExtCodingAt(c, exts, url, path, "")
}

// ExtCodingAt is ExtCoding recording a problem at path+suffix, joined only
// then.
func ExtCodingAt(c *BundleContext, exts []fhir.Extension, url, path, suffix string) *fhir.Coding {
	e := c.ExtensionAt(exts, url, path, suffix)
	if e == nil {
		return nil
	}
	if e.ValueCoding == nil {
		c.Fail(path+suffix, "extension %s has no valueCoding", url)
		return nil
	}
	return e.ValueCoding
}

// RepeatInfo reads Extension-EPS-RepeatInformation: numberOfRepeatsIssued
// and numberOfRepeatsAllowed, as whole numbers.
func RepeatInfo(c *BundleContext, ext *fhir.Extension, path string) (issued, allowed int, ok bool) {
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
	return fhir.Extension{URL: ExtensionEPSRepeatInformation, Extension: []fhir.Extension{
		{URL: "numberOfRepeatsAllowed", ValueInteger: &allowed},
		{URL: "numberOfRepeatsIssued", ValueInteger: &issued},
	}}, true
}

// AltQuantityFromFHIR takes a FHIR Quantity in SNOMED units to v3.
func AltQuantityFromFHIR(c *BundleContext, q *fhir.Quantity, path string) AltQuantity {
	return AltQuantityFromFHIRAt(c, q, path, "")
}

// AltQuantityFromFHIRAt is AltQuantityFromFHIR for the Quantity at
// path+suffix, joined only for a problem.
func AltQuantityFromFHIRAt(c *BundleContext, q *fhir.Quantity, path, suffix string) AltQuantity {
	if q == nil {
		c.Fail(path+suffix, "missing mandatory quantity")
		return AltQuantity{}
	}
	if q.Value == "" {
		c.Fail(path+suffix+".value", "missing mandatory value")
	} else if _, err := Decimal(string(q.Value)); err != nil {
		c.Fail(path+suffix+".value", "%v", err)
	}
	if q.Code == "" && q.Unit == "" {
		c.Fail(path+suffix, "missing mandatory unit (a code or a name)")
	}
	return AltQuantity{Value: q.Value, Code: q.Code, Unit: q.Unit}
}

// AltQuantityToFHIR writes a v3 quantity as a FHIR Quantity.
func AltQuantityToFHIR(q AltQuantity) *fhir.Quantity {
	if q.Code == "" {
		return &fhir.Quantity{Value: q.Value, Unit: q.Unit}
	}
	return &fhir.Quantity{Value: q.Value, Unit: q.Unit, System: fhir.SystemSNOMED, Code: q.Code}
}

// MedicationSNOMED returns the SNOMED coding of a medicationCodeableConcept
// or, when there is none, of the Medication a medicationReference names in
// the bundle (as the EPS API reads a MedicationRequest's or
// MedicationDispense's medication, common getMedicationCoding). path is the
// resource's FHIR path.
func MedicationSNOMED(c *BundleContext, cc *fhir.CodeableConcept, ref *fhir.Reference, path string) fhir.Coding {
	if cc == nil && ref != nil {
		code, codePath := ResolveMedicationCode(c, ref, path+".medicationReference")
		if code == nil {
			return fhir.Coding{}
		}
		return SNOMED(c, code, codePath)
	}
	if cc == nil {
		return SNOMED(c, cc, path+".medicationCodeableConcept")
	}
	// SNOMED's checks, the path joined only for a problem.
	cd := c.CodingAt(unsafe.Slice(cc, 1), fhir.SystemSNOMED, path, ".medicationCodeableConcept.coding")
	if cd == nil {
		c.Fail(path+".medicationCodeableConcept.coding", "no coding with system %s", fhir.SystemSNOMED)
		return fhir.Coding{}
	}
	return *cd
}

// ResolveMedicationCode returns the code of the Medication a reference
// names in the bundle and its FHIR path, or nil (recorded on c).
func ResolveMedicationCode(c *BundleContext, ref *fhir.Reference, path string) (*fhir.CodeableConcept, string) {
	raw, ok := c.Resolve(ref, path).(*fhir.RawResource)
	if !ok || raw.Type != "Medication" {
		c.Fail(path, "does not reference a Medication")
		return nil, path
	}
	var med struct {
		Code *fhir.CodeableConcept `json:"code"`
	}
	if err := json.Unmarshal(raw.JSON, &med); err != nil || med.Code == nil {
		c.Fail(c.Path(raw)+".code", "missing mandatory code")
		return nil, path
	}
	return med.Code, c.Path(raw) + ".code"
}

// SNOMED returns the SNOMED coding of a concept, recording a missing one.
func SNOMED(c *BundleContext, cc *fhir.CodeableConcept, path string) fhir.Coding {
	if cc == nil {
		c.Fail(path, "missing mandatory medication code")
		return fhir.Coding{}
	}
	cd := c.CodingOf(cc, fhir.SystemSNOMED, path)
	if cd == nil {
		c.Fail(path+".coding", "no coding with system %s", fhir.SystemSNOMED)
		return fhir.Coding{}
	}
	return *cd
}
