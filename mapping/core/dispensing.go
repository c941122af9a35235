package core

import (
	"encoding/json"
	"strings"

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
// fixed values porxgate writes back.
func Attrs(n v3.Node, pairs ...string) {
	if !n.Exists() {
		return
	}
next:
	for _, a := range n.El.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
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
			if a.Key == "determinerCode" {
				allowed = determinerValues
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

// dspBool checks a BL element (such as seperatableInd) whose value porxgate
// writes fixed (want): absent, or a boolean. Spine takes either value
// (docs/mappings/accepting.md), so the other one is accepted too.
func dspBool(n v3.Node, want string) {
	if !n.Exists() {
		return
	}
	Attrs(n, "value", separatableValues)
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
	ExpectChildren(rel, "seperatableInd", act)
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
	return fhir.FindExtension(exts, PorxgateExtensionURL(name))
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

func (p *ExtensionBuilder) String(url, v string) {
	if v != "" {
		s := v
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueString: &s})
	}
}

func (p *ExtensionBuilder) DateTime(url, v string) {
	if v != "" {
		s := v
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueDateTime: &s})
	}
}

func (p *ExtensionBuilder) ID(url, v string) {
	if v != "" {
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueIdentifier: &fhir.Identifier{Value: v}})
	}
}

func (p *ExtensionBuilder) Coding(url string, cd fhir.Coding) {
	c := cd
	p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueCoding: &c})
}

func (p *ExtensionBuilder) Integer(url, v string) {
	if v != "" {
		n := json.Number(v)
		p.Subs = append(p.Subs, fhir.Extension{URL: url, ValueInteger: &n})
	}
}

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
		return strings.ToLower(s)
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
	if s == "" {
		c.Fail(path, "missing mandatory date time")
		return ""
	}
	ts, err := V3TimestampFromFHIR(s)
	if err != nil {
		c.Fail(path, "%v", err)
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
	Attrs(n, "value", "*")
	ExpectChildren(n)
	return n.Value()
}
