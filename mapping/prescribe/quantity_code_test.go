package prescribe

import (
	"strconv"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/core"
)

// TestPrescribedQuantityUnitAsEPS: a MedicationRequest's
// dispenseRequest.quantity is written as the v3 lineItemQuantity's dm+d
// translation as the official EPS translator writes it (line-item.ts,
// SnomedCode of the quantity's code and unit), checked against its output
// on variants of the corpus's prescriptions: a unit without a code gives a
// translation without a code attribute (before, porxgate wrote code=""),
// one without a name no displayName.
func TestPrescribedQuantityUnitAsEPS(t *testing.T) {
	base := fixture(t, "repeat-dispensing-pharmacist-endorsed.json")
	tests := []struct {
		name       string
		drop       []string // quantity fields taken out of the first MedicationRequest
		attrs      map[string]string
		noAttrsFor []string
	}{
		{"code and unit", nil, map[string]string{"code": "", "displayName": "", "value": ""}, nil},
		{"unit without code", []string{"code", "system"}, map[string]string{"displayName": "", "value": ""}, []string{"code"}},
		{"code without unit", []string{"unit"}, map[string]string{"code": "", "value": ""}, []string{"displayName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want map[string]any
			body := editBundle(t, base, func(b map[string]any) {
				q := resourceAt(b, 1)["dispenseRequest"].(map[string]any)["quantity"].(map[string]any)
				for _, k := range tt.drop {
					delete(q, k)
				}
				want = q
			})
			out, err := PrescribeToV3(body, core.Meta{}, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(out); err != nil {
				t.Fatal(err)
			}
			tr := doc.FindElement("//pertinentLineItem/component/lineItemQuantity/quantity/translation")
			if tr == nil {
				t.Fatalf("no quantity translation in\n%s", out)
			}
			fhirOf := map[string]string{"code": "code", "displayName": "unit", "value": "value"}
			for a := range tt.attrs {
				got := tr.SelectAttr(a)
				if got == nil {
					t.Errorf("translation/@%s absent", a)
					continue
				}
				if w, ok := want[fhirOf[a]]; ok && got.Value != anyString(w) {
					t.Errorf("translation/@%s = %q, want %v", a, got.Value, w)
				}
			}
			for _, a := range tt.noAttrsFor {
				if got := tr.SelectAttr(a); got != nil {
					t.Errorf("translation/@%s = %q, want none (the EPS API writes none)", a, got.Value)
				}
			}
		})
	}
}

// anyString is a JSON value as text (numbers as encoding/json decodes them).
func anyString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}
