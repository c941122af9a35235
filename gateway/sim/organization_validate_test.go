package sim

import (
	"net/http"
	"testing"
	"time"
)

// TestRepresentedOrganizationAsEPS: the EPS API writes a prescriber's
// organisation as the v3 representedOrganization with exactly one telecom
// and one address (translation/request/organization.ts, onlyElement), and
// refuses a prescription-order or cancellation whose author's or
// responsible party's organisation has none or more: 400, one fatal issue
// of code invalid coded INVALID_VALUE "Required field missing." or
// TOO_MANY_VALUES_SUBMITTED "Too many values submitted. Expected 1
// element.", at Organization.telecom, Organization.address or, for a role
// in a HealthcareService, HealthcareService.telecom, and nothing is kept.
// Seen against the official translator on variants of the corpus's
// prescriptions and cancellations (an Organization with a second telecom
// or address, or none). Before, the simulator took them (200).
func TestRepresentedOrganizationAsEPS(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	tel := map[string]any{"system": "phone", "value": "01234567890", "use": "work"}
	tel2 := map[string]any{"system": "phone", "value": "09999111222", "use": "work"}
	addr := map[string]any{"line": []any{"1 TEST STREET"}, "postalCode": "LS1 4HR"}
	addr2 := map[string]any{"line": []any{"2 TEST STREET"}, "postalCode": "LS1 4HR"}
	// order returns prescription p's prescription-order.json with the
	// organisation's (entry 5) telecoms and addresses set (nil: none) and,
	// when hsTel is not nil, the role (entry 4) in a HealthcareService of
	// telecoms hsTel.
	order := func(p rx, orgTel, orgAddr, hsTel []any) []byte {
		t.Helper()
		return editedFixture(t, "prescription-order.json", p.repl(nil), func(entries []any) []any {
			org := entryResource(entries, 5)
			delete(org, "telecom")
			delete(org, "address")
			if orgTel != nil {
				org["telecom"] = orgTel
			}
			if orgAddr != nil {
				org["address"] = orgAddr
			}
			if hsTel != nil {
				entryResource(entries, 4)["healthcareService"] = []any{map[string]any{"reference": "urn:uuid:hs"}}
				entries = append(entries, map[string]any{"fullUrl": "urn:uuid:hs", "resource": map[string]any{
					"resourceType": "HealthcareService",
					"identifier":   []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A99968"}},
					"name":         "PORXGATE TEST SERVICE", "telecom": hsTel}})
			}
			return entries
		})
	}
	tests := []struct {
		name                 string
		orgTel, orgAddr, hs  []any
		code, display, where string // the refusal; code "" taken
	}{
		{"one telecom, one address", []any{tel}, []any{addr}, nil, "", "", ""},
		{"two telecoms", []any{tel, tel2}, []any{addr}, nil, "TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element.", "Organization.telecom"},
		{"no telecom", nil, []any{addr}, nil, "INVALID_VALUE", "Required field missing.", "Organization.telecom"},
		{"two addresses", []any{tel}, []any{addr, addr2}, nil, "TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element.", "Organization.address"},
		{"no address", []any{tel}, nil, nil, "INVALID_VALUE", "Required field missing.", "Organization.address"},
		{"telecom checked before address", []any{tel, tel2}, nil, nil, "TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element.", "Organization.telecom"},
		{"healthcare service's one telecom, the organisation's none", nil, nil, []any{tel}, "", "", ""},
		{"healthcare service's two telecoms", []any{tel}, []any{addr}, []any{tel, tel2}, "TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element.", "HealthcareService.telecom"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newRx(t, uint32(i+1), "FH542")
			a := do(t, http.MethodPost, api+"/$process-message", order(p, tt.orgTel, tt.orgAddr, tt.hs), nil)
			_, held := s.State().Get(p.sf)
			if tt.code == "" {
				if a.status != http.StatusOK || !held {
					t.Fatalf("answer %d (held %v), want 200: %s", a.status, held, a.body)
				}
				return
			}
			if held {
				t.Fatalf("prescription %s held after the refusal", p.sf)
			}
			a.wantTranslationRefusal(t, tt.code, tt.display, tt.where)
		})
	}

	// A cancellation: its requester's organisation the same way.
	p := newRx(t, 100, "FH542")
	do(t, http.MethodPost, api+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).want(t, 200, "informational")
	cancel := func(orgTel []any) []byte {
		t.Helper()
		return editedFixture(t, "cancel.json", p.repl(nil), func(entries []any) []any {
			entryResource(entries, 3)["organization"] = map[string]any{"reference": "urn:uuid:org"}
			return append(entries, map[string]any{"fullUrl": "urn:uuid:org", "resource": map[string]any{
				"resourceType": "Organization",
				"identifier":   []any{map[string]any{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A83008"}},
				"name":         "PORXGATE TEST SURGERY", "telecom": orgTel, "address": []any{addr}}})
		})
	}
	do(t, http.MethodPost, api+"/$process-message", cancel([]any{tel, tel2}), nil).
		wantTranslationRefusal(t, "TOO_MANY_VALUES_SUBMITTED", "Too many values submitted. Expected 1 element.", "Organization.telecom")
	if got, _ := s.State().Get(p.sf); got.Items[0].Status != ItemToBeDispensed {
		t.Fatalf("item %s is %s after a refused cancellation, want to be dispensed", got.Items[0].ID, got.Items[0].Status)
	}
	if a := do(t, http.MethodPost, api+"/$process-message", cancel([]any{tel}), nil); a.status != http.StatusOK {
		t.Fatalf("cancellation with one organisation telecom answered %d: %s", a.status, a.body)
	}
}
