package dispense_test

import (
	"encoding/json"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestRequestedQuantityUnitAsEPS: the requested quantity of a dispensed
// item (the contained MedicationRequest's dispenseRequest.quantity) is
// written as the v3 supplyRequest's code and quantity as the official EPS
// translator writes them (dispense-notification.ts, SnomedCode of the
// quantity's code and unit), checked against its output on variants of
// the corpus's dispense notifications: a unit without a code gives a code
// element and a translation, each without a code attribute. Before,
// porxgate wrote code="" on the supplyRequest's code.
func TestRequestedQuantityUnitAsEPS(t *testing.T) {
	base := maptest.Testdata(t, "eps-fhir/Dispense--handed-over-offset.json")
	tests := []struct {
		name string
		drop []string // quantity fields taken out of the first contained MedicationRequest
		code string   // the code attribute of both elements; "" none
	}{
		{"code and unit", nil, "428673006"},
		{"unit without code", []string{"code", "system"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b map[string]any
			if err := json.Unmarshal(base, &b); err != nil {
				t.Fatal(err)
			}
			edited := false
			for _, e := range b["entry"].([]any) {
				r := e.(map[string]any)["resource"].(map[string]any)
				if r["resourceType"] != "MedicationDispense" || edited {
					continue
				}
				for _, c := range r["contained"].([]any) {
					if c := c.(map[string]any); c["resourceType"] == "MedicationRequest" {
						q := c["dispenseRequest"].(map[string]any)["quantity"].(map[string]any)
						for _, k := range tt.drop {
							delete(q, k)
						}
						edited = true
					}
				}
			}
			if !edited {
				t.Fatal("the fixture has no contained MedicationRequest")
			}
			body, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			out, err := dispense.DispenseToV3(body, core.Meta{}, dispensetest.Env())
			if err != nil {
				t.Fatal(err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(out); err != nil {
				t.Fatal(err)
			}
			sr := doc.FindElement("//pertinentSuppliedLineItem/component1/supplyRequest")
			if sr == nil {
				t.Fatalf("no supplyRequest in\n%s", out)
			}
			for _, el := range []*etree.Element{sr.FindElement("code"), sr.FindElement("quantity/translation")} {
				if el == nil {
					t.Fatalf("supplyRequest without code or quantity translation in\n%s", out)
				}
				if got := el.SelectAttrValue("displayName", ""); got != "tablet" {
					t.Errorf("%s/@displayName = %q, want tablet", el.GetPath(), got)
				}
				a := el.SelectAttr("code")
				switch {
				case tt.code == "" && a != nil:
					t.Errorf("%s/@code = %q, want none (the EPS API writes none)", el.GetPath(), a.Value)
				case tt.code != "" && (a == nil || a.Value != tt.code):
					t.Errorf("%s/@code = %v, want %s", el.GetPath(), a, tt.code)
				}
			}
		})
	}
}
