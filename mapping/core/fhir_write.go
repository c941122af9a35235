package core

import (
	"slices"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// OnlyPatient returns the bundle's only Patient.
func OnlyPatient(c *BundleContext) *fhir.Patient {
	// The first two Patients, without the list of them all that
	// fhir.EntriesOf makes.
	var first, second *fhir.Patient
	for _, e := range c.Bundle.Entry {
		if p, ok := e.Resource.(*fhir.Patient); ok {
			if first != nil {
				second = p
				break
			}
			first = p
		}
	}
	switch {
	case first == nil:
		c.Fail("Bundle.entry", "no Patient")
	case second != nil:
		c.Fail(c.Path(second), "more than one Patient")
	default:
		return first
	}
	return nil
}

// AddAnnotation writes <tag contextConductionInd typeCode=PERT> with its
// seperatableInd and a <act classCode=OBS moodCode=EVN> whose code is one of
// the prescription annotation codes; it returns the act for its value.
func AddAnnotation(parent *etree.Element, tag, separatable, act, code string) *etree.Element {
	rel := v3.Add(parent, tag, "contextConductionInd", "true", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", separatable)
	a := v3.Add(rel, act, "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(a, "code", code, v3.OIDPertinentCode, "")
	return a
}

// FixedAnnotation is the fixed part of an annotation AddAnnotation writes (the
// relationship, its seperatableInd, the act and its code), laid out once
// as v3.Fixed elements by NewFixedAnnotation, for AddFixedAnnotation.
type FixedAnnotation struct{ rel, sep, act, code *v3.Fixed }

// NewFixedAnnotation returns the annotation AddAnnotation(parent, tag,
// separatable, act, code) writes, as v3.Fixed elements: for package
// variables (it panics where v3.NewFixed does).
func NewFixedAnnotation(tag, separatable, act, code string) *FixedAnnotation {
	var sep *v3.Fixed
	switch separatable {
	case "true":
		sep = FixedSeparatable
	case "false":
		sep = FixedNotSeparatable
	default:
		sep = v3.NewFixed("seperatableInd", "value", separatable)
	}
	return &FixedAnnotation{
		rel:  v3.NewFixed(tag, "contextConductionInd", "true", "typeCode", "PERT"),
		sep:  sep,
		act:  v3.NewFixed(act, "classCode", "OBS", "moodCode", "EVN"),
		code: v3.NewFixed("code", "code", code, "codeSystem", v3.OIDPertinentCode),
	}
}

// AddFixedAnnotation writes the annotation a as AddAnnotation writes it,
// from its fixed elements (see v3.AddFixed); it returns the act for its
// value.
func AddFixedAnnotation(parent *etree.Element, a *FixedAnnotation) *etree.Element {
	rel := v3.AddFixed(parent, a.rel)
	v3.AddFixed(rel, a.sep)
	act := v3.AddFixed(rel, a.act)
	v3.AddFixed(act, a.code)
	return act
}

// Elements the prescribing and dispensing templates share whose names and
// attributes are fixed, for v3.AddFixed.
var (
	// FixedSeparatable is <seperatableInd value="true"/>,
	// FixedNotSeparatable <seperatableInd value="false"/>.
	FixedSeparatable    = v3.NewFixed("seperatableInd", "value", "true")
	FixedNotSeparatable = v3.NewFixed("seperatableInd", "value", "false")
	// FixedAdministrationCode is the code of a prescription or line item
	// (AddCV of CodeAdministration with its name), FixedDispensingCode
	// of a quantity or supply (CodeDispensing), both in V3SNOMED.
	FixedAdministrationCode = v3.NewFixed("code", "code", CodeAdministration, "codeSystem", V3SNOMED, "displayName", NameAdministration)
	FixedDispensingCode     = v3.NewFixed("code", "code", CodeDispensing, "codeSystem", V3SNOMED, "displayName", NameDispensing)
	// FixedEffectiveTimeNA is <effectiveTime nullFlavor="NA"/>.
	FixedEffectiveTimeNA = v3.NewFixed("effectiveTime", "nullFlavor", NullNA)
	// FixedRecordTarget is <recordTarget typeCode="RCT">,
	// FixedResponsibleParty <responsibleParty typeCode="RESP"> (the
	// patient's care provider, and a cancellation's responsible party).
	FixedRecordTarget     = v3.NewFixed("recordTarget", "typeCode", "RCT")
	FixedResponsibleParty = v3.NewFixed("responsibleParty", "typeCode", "RESP")
	// FixedShortFormValue is the <value root="(short-form prescription
	// id OID)"> of a prescription id annotation, for v3.AddFixedII.
	FixedShortFormValue = v3.NewFixed("value", "root", v3.OIDShortFormID)
	// FixedAuthor is an act's <author contextControlCode="OP"
	// typeCode="AUT">.
	FixedAuthor = v3.NewFixed("author", "contextControlCode", "OP", "typeCode", "AUT")
	// FixedComponent and FixedComponent1 are <component typeCode="COMP">
	// and <component1 typeCode="COMP">.
	FixedComponent  = v3.NewFixed("component", "typeCode", "COMP")
	FixedComponent1 = v3.NewFixed("component1", "typeCode", "COMP")
	// FixedLineItemTemplate is a line item relationship's templateId
	// (TemplateSourceOf2).
	FixedLineItemTemplate = NewFixedTemplate(TemplateSourceOf2)
	// FixedProduct is a quantity's <product contextControlCode="OP"
	// typeCode="PRD">, FixedRequestedMaterial the requested
	// <manufacturedRequestedMaterial classCode="MMAT" determinerCode="KIND">.
	FixedProduct           = v3.NewFixed("product", "contextControlCode", "OP", "typeCode", "PRD")
	FixedRequestedMaterial = v3.NewFixed("manufacturedRequestedMaterial", "classCode", "MMAT", "determinerCode", "KIND")
)

// DosageText returns the dosage instructions text: the text of a single
// dosage, or for several the texts of dosages with the same sequence joined
// by ", and " (in their order) and the sequences, in ascending order, joined
// by ", then ", as the EPS API does (common/dosage-instructions.ts). Gaps
// between sequence numbers (1, 2, 5) write nothing.
func DosageText(c *BundleContext, ds []fhir.Dosage, path string) string {
	return DosageTextAt(c, ds, path, "")
}

// DosageTextAt is DosageText of the dosage instructions at path+suffix,
// joined only where it may be needed (not for one instruction, the usual).
func DosageTextAt(c *BundleContext, ds []fhir.Dosage, path, suffix string) string {
	switch len(ds) {
	case 1:
		return ds[0].Text
	case 0:
		c.Fail(path+suffix, "missing mandatory dosageInstruction")
		return ""
	}
	path += suffix
	groups := make(map[int64][]string, len(ds))
	seqs := make([]int64, 0, len(ds))
	for i, d := range ds {
		if d.Sequence == nil {
			c.Fail(Indexed(path, i)+".sequence", "dosage instructions lacking complete sequencing")
			return ""
		}
		seq, err := strconv.ParseInt(string(*d.Sequence), 10, 32)
		if err != nil {
			c.Fail(Indexed(path, i)+".sequence", "sequence %q is not a whole number", *d.Sequence)
			return ""
		}
		if _, seen := groups[seq]; !seen {
			seqs = append(seqs, seq)
		}
		groups[seq] = append(groups[seq], d.Text)
	}
	slices.Sort(seqs)
	parts := make([]string, len(seqs))
	for i, seq := range seqs {
		parts[i] = strings.Join(groups[seq], ", and ")
	}
	return strings.Join(parts, ", then ")
}
