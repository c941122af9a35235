package sim

import (
	"net/http"
	"testing"
	"time"
)

// TestPrimaryCarePrescriptionNeedsCommissioner: the EPS API refuses a
// primary care prescription-order (Extension-DM-PrescriptionType 01xx)
// whose requester's Organization has no partOf (the commissioning
// organisation, a v3 prescription's healthCareProviderLicense), or whose
// requester's PractitionerRole names a healthcareService, before it
// reaches Spine (bundle-validator.ts, checkPrimaryCarePrescriptionResources):
// 400, one issue of code invalid, and nothing kept. Other prescription
// types need neither. Before, the simulator took them (200).
func TestPrimaryCarePrescriptionNeedsCommissioner(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	partOf := map[string]any{"identifier": map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "84H"}}

	// order returns prescription p's prescription-order.json with both
	// MedicationRequests of prescription type typ (none when empty), the
	// organisation (entry 5) part of partOf when set, and the role (entry
	// 4) naming a healthcareService when hs.
	order := func(p rx, typ string, partOf map[string]any, hs bool) []byte {
		t.Helper()
		return editedFixture(t, "prescription-order.json", p.repl(nil), func(entries []any) []any {
			if typ != "" {
				for _, i := range []int{1, 2} {
					mr := entryResource(entries, i)
					ext, _ := mr["extension"].([]any)
					mr["extension"] = append(ext, map[string]any{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType",
						"valueCoding": map[string]any{"system": "https://fhir.nhs.uk/CodeSystem/prescription-type", "code": typ}})
				}
			}
			if partOf != nil {
				entryResource(entries, 5)["partOf"] = partOf
			}
			if hs {
				entryResource(entries, 4)["healthcareService"] = []any{map[string]any{"reference": "urn:uuid:hs"}}
			}
			return entries
		})
	}
	tests := []struct {
		name   string
		typ    string
		partOf map[string]any
		hs     bool
		want   string // diagnostics; "" taken
	}{
		{"primary care with its commissioner", "0101", partOf, false, ""},
		{"primary care without a partOf", "0101", nil, false, "Required field organization.partOf is missing."},
		{"primary care nurse without a partOf", "0113", nil, false, "Required field organization.partOf is missing."},
		{"primary care with a healthcareService", "0101", partOf, true, "Unexpected field of practitionerRole.healthcareService."},
		{"secondary care without a partOf", "1001", nil, false, ""},
		{"no prescription type", "", nil, false, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newRx(t, uint32(i+1), "FH542")
			a := do(t, http.MethodPost, api+"/$process-message", order(p, tt.typ, tt.partOf, tt.hs), nil)
			_, held := s.State().Get(p.sf)
			if tt.want == "" {
				if a.status != http.StatusOK || !held {
					t.Fatalf("answer %d (held %v), want 200: %s", a.status, held, a.body)
				}
				return
			}
			issues, _ := a.json["issue"].([]any)
			if a.status != http.StatusBadRequest || len(issues) != 1 || held {
				t.Fatalf("answer %d with %d issues (held %v), want 400 with one: %s", a.status, len(issues), held, a.body)
			}
			is := issues[0].(map[string]any)
			if is["severity"] != "error" || is["code"] != "invalid" || is["diagnostics"] != tt.want {
				t.Fatalf("issue %v, want error/invalid %q", is, tt.want)
			}
		})
	}
}
