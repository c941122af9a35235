package release

import (
	"encoding/json"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestAddItemExtensions holds the extensions addItemExtensions puts on a
// MedicationRequest, their codings and the dispensing information's list
// made in one allocation, to what they were each made alone: the same
// JSON for a prescription status and an item status, either, or none (and
// the request's own extensions kept before them); and two requests given
// them share nothing: appending to one's dispensing information or
// changing its codings leaves the other's as it was.
func TestAddItemExtensions(t *testing.T) {
	const id = "B4336C66-6884-4406-856C-3344C62C3A0D"
	own := fhir.Extension{URL: "https://example.org/own", ValueString: new(string)}
	for _, tc := range []struct {
		name string
		add  releaseAdditions
		want string
	}{
		{"both", releaseAdditions{status: statusName{"0001", "To be Dispensed"}, itemStatus: []itemStatus{{id, statusName{"0007", "To be Dispensed"}}}},
			`[{"url":"https://example.org/own","valueString":""},{"url":"` + core.ExtensionTaskBusinessStatus + `","valueCoding":{"system":"` + fhir.CodeSystemTaskBusinessStatus + `","code":"0001","display":"To be Dispensed"}},` +
				`{"url":"` + core.ExtensionDispensingInformation + `","extension":[{"url":"dispenseStatus","valueCoding":{"system":"` + fhir.CodeSystemMedicationDispenseType + `","code":"0007","display":"To be Dispensed"}}]}]`},
		{"prescription status", releaseAdditions{status: statusName{"0001", ""}},
			`[{"url":"https://example.org/own","valueString":""},{"url":"` + core.ExtensionTaskBusinessStatus + `","valueCoding":{"system":"` + fhir.CodeSystemTaskBusinessStatus + `","code":"0001"}}]`},
		{"item status", releaseAdditions{itemStatus: []itemStatus{{"other", statusName{"0002", "x"}}, {id, statusName{"0008", ""}}}},
			`[{"url":"https://example.org/own","valueString":""},{"url":"` + core.ExtensionDispensingInformation + `","extension":[{"url":"dispenseStatus","valueCoding":{"system":"` + fhir.CodeSystemMedicationDispenseType + `","code":"0008"}}]}]`},
		{"none", releaseAdditions{itemStatus: []itemStatus{{"other", statusName{"0002", "x"}}}},
			`[{"url":"https://example.org/own","valueString":""}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mrs := [2]*fhir.MedicationRequest{}
			for i := range mrs {
				mrs[i] = &fhir.MedicationRequest{Status: "active",
					Identifier: []fhir.Identifier{{System: fhir.SystemLineItemID, Value: "b4336c66-6884-4406-856c-3344c62c3a0d"}}}
				mrs[i].Extension = []fhir.Extension{own}
				addItemExtensions(mrs[i], tc.add)
			}
			got := func(mr *fhir.MedicationRequest) string {
				b, err := json.Marshal(mr.Extension)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			for _, mr := range mrs {
				if g := got(mr); g != tc.want {
					t.Errorf("extensions\n%s\nwant\n%s", g, tc.want)
				}
			}
			before := got(mrs[1])
			for i := range mrs[0].Extension {
				e := &mrs[0].Extension[i]
				if e.ValueCoding != nil {
					e.ValueCoding.Code = "changed"
				}
				for j := range e.Extension {
					e.Extension[j].ValueCoding.Display = "changed"
				}
				e.Extension = append(e.Extension, fhir.Extension{URL: "appended"})
			}
			if after := got(mrs[1]); after != before {
				t.Errorf("changing one request's extensions changed the other's:\n%s\nwas\n%s", after, before)
			}
		})
	}
}
