package prescribe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
)

// TestPrescriptionCarryKeepsNamespaces: a prescriber may declare xmlns:xsi
// on the message's root and write an xsi:type naming an element's declared
// type deep inside (ST on a dosage instruction, CV on the prescription
// type), as Spine's schema validator takes. What FHIR cannot say is carried
// as v3; the carried part must declare the prefixes it uses, or the v3
// written back has an unbound xsi: prefix (not namespace-well-formed, the
// type lost). Before, the whole ParentPrescription was carried without the
// declaration, and a line item carried with it was taken for a difference
// (its declaration counted), so the whole ParentPrescription was carried
// for a type inside one line item.
func TestPrescriptionCarryKeepsNamespaces(t *testing.T) {
	const xsiNS = "http://www.w3.org/2001/XMLSchema-instance"
	req, err := os.ReadFile(filepath.Join("..", "..", "testdata", "prescribe", "acute-nurse-controlled-drug-unsigned.json"))
	if err != nil {
		t.Fatal(err)
	}
	v3msg, err := prescribe.PrescribeToV3(req, core.Meta{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Replace(string(v3msg), `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">`, `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3" xmlns:xsi="`+xsiNS+`">`, 1)
	if base == string(v3msg) {
		t.Fatalf("written message has no root to declare xsi on:\n%.300s", v3msg)
	}
	typeOnce := func(t *testing.T, s, inside, old, new string) string {
		t.Helper()
		at := strings.Index(s, inside)
		if at < 0 {
			t.Fatalf("message has no %s", inside)
		}
		i := strings.Index(s[at:], old)
		if i < 0 {
			t.Fatalf("no %s after %s", old, inside)
		}
		return s[:at+i] + new + s[at+i+len(old):]
	}
	tests := []struct {
		name      string
		msg       string
		wantParts []string // the parts carried
	}{
		{"ST on a dosage instruction", typeOnce(t, base, "<pertinentDosageInstructions", "<value>", `<value xsi:type="ST">`), []string{"lineItem"}},
		{"CV on the prescription type", typeOnce(t, base, "<pertinentPrescriptionType", "<value ", `<value xsi:type="CV" `), []string{"ParentPrescription"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, meta, err := prescribe.PrescribeToFHIR([]byte(tt.msg), core.FixedEnv())
			if err != nil {
				t.Fatalf("v3 → FHIR: %v", err)
			}
			if got := carriedParts(t, body); strings.Join(got, ",") != strings.Join(tt.wantParts, ",") {
				t.Errorf("carried %v, want %v", got, tt.wantParts)
			}
			back, err := prescribe.PrescribeToV3(body, meta, core.FixedEnv())
			if err != nil {
				t.Fatalf("FHIR → v3: %v", err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(back); err != nil {
				t.Fatal(err)
			}
			typed := 0
			for _, el := range doc.FindElements("//*") {
				for _, a := range el.Attr {
					if a.Space != "xsi" {
						continue
					}
					typed++
					if ns := a.NamespaceURI(); ns != xsiNS {
						t.Errorf("%s/@%s: namespace %q, want %s (the prefix is unbound)", el.GetPath(), a.FullKey(), ns, xsiNS)
					}
				}
			}
			if typed != 1 {
				t.Errorf("%d xsi attributes written back, want the 1 sent", typed)
			}
		})
	}
}

// carriedParts lists the parts a prescription-order Bundle carries as v3.
func carriedParts(t *testing.T, body []byte) []string {
	t.Helper()
	b, err := fhir.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		for _, e := range mr.Extension {
			if e.URL != core.ExtensionV3Original {
				continue
			}
			if p := fhir.FindExtension(e.Extension, "part"); p != nil && p.ValueCode != nil {
				parts = append(parts, *p.ValueCode)
			}
		}
	}
	return parts
}
