package core

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// sameWritten fails t unless the two documents write the same bytes and
// their trees are the same to a reader (SameElement).
func sameWritten(t *testing.T, what string, gotDoc, wantDoc *etree.Document) {
	t.Helper()
	if g, w := WriteIndented(gotDoc), WriteIndented(wantDoc); !bytes.Equal(g, w) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, g, w)
	}
	if !SameElement(gotDoc.Root(), wantDoc.Root(), func(*etree.Element) bool { return false }) {
		t.Errorf("%s: the trees differ to a reader", what)
	}
}

func TestAddFixedAnnotationAsAddAnnotation(t *testing.T) {
	tests := []struct{ tag, separatable, act, code string }{
		{"pertinentInformation1", "true", "pertinentDispensingSitePreference", "DSP"},
		{"pertinentInformation8", "false", "pertinentTokenIssued", "TI"},
		{"pertinentInformation4", "x", "pertinentPrescriptionType", "PT"}, // a separatable indicator of neither value
	}
	for _, tt := range tests {
		a := NewFixedAnnotation(tt.tag, tt.separatable, tt.act, tt.code)
		gotDoc, got := v3.NewDocument("pertinentPrescription")
		wantDoc, want := v3.NewDocument("pertinentPrescription")
		v3.AddValue(AddFixedAnnotation(got, a), "value", "true")
		v3.AddValue(AddAnnotation(want, tt.tag, tt.separatable, tt.act, tt.code), "value", "true")
		sameWritten(t, tt.tag+" "+tt.act, gotDoc, wantDoc)
	}
}

func TestAddFixedRefAsAddRef(t *testing.T) {
	fulfils := []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}
	tests := []struct {
		tag                          string
		separatable, tpl             string
		ref, classCode, moodCode, id string
	}{
		{"inFulfillmentOf", "true", TemplateSourceOf1, "priorOriginalItemRef", "SBADM", "RQO", "a54219b8-f741-4c47-b662-e4f8dfa49ab6"},
		{"predecessor", "false", TemplateSourceOf1, "priorSupplyHeaderRef", "SBADM", "EVN", "not-a-uuid"},
		{"reversalOf", "", "", "priorMessageRef", "INFO", "EVN", ""}, // no separatable indicator, template or id extension
	}
	for _, tt := range tests {
		r := NewFixedRef(tt.tag, fulfils, tt.separatable, tt.tpl, tt.ref, tt.classCode, tt.moodCode)
		gotDoc, got := v3.NewDocument("pertinentSupplyHeader")
		wantDoc, want := v3.NewDocument("pertinentSupplyHeader")
		AddFixedRef(got, r, tt.id)
		AddRef(want, tt.tag, fulfils, tt.separatable, tt.tpl, tt.ref, tt.classCode, tt.moodCode, tt.id)
		sameWritten(t, tt.tag, gotDoc, wantDoc)
	}
}

func TestFixedShapesAsAdd(t *testing.T) {
	tests := []struct {
		f     *v3.Fixed
		tag   string
		attrs []string
	}{
		{FixedSeparatable, "seperatableInd", []string{"value", "true"}},
		{FixedNotSeparatable, "seperatableInd", []string{"value", "false"}},
		{FixedAdministrationCode, "code", []string{"code", CodeAdministration, "codeSystem", V3SNOMED, "displayName", NameAdministration}},
		{FixedDispensingCode, "code", []string{"code", CodeDispensing, "codeSystem", V3SNOMED, "displayName", NameDispensing}},
		{FixedEffectiveTimeNA, "effectiveTime", []string{"nullFlavor", "NA"}},
		{FixedAuthor, "author", []string{"contextControlCode", "OP", "typeCode", "AUT"}},
		{FixedComponent, "component", []string{"typeCode", "COMP"}},
		{FixedComponent1, "component1", []string{"typeCode", "COMP"}},
		{FixedLineItemTemplate, "templateId", []string{"root", v3.OIDTemplateID, "extension", TemplateSourceOf2}},
		{FixedProduct, "product", []string{"contextControlCode", "OP", "typeCode", "PRD"}},
		{FixedRequestedMaterial, "manufacturedRequestedMaterial", []string{"classCode", "MMAT", "determinerCode", "KIND"}},
	}
	for _, tt := range tests {
		gotDoc, got := v3.NewDocument("act")
		wantDoc, want := v3.NewDocument("act")
		v3.AddFixed(got, tt.f)
		v3.Add(want, tt.tag, tt.attrs...)
		sameWritten(t, tt.f.String(), gotDoc, wantDoc)
	}
}
