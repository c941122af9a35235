package sim

import (
	"net/http"
	"testing"
	"time"
)

// TestPrescriptionPeopleNeedATelecom: the EPS API writes a telephone number
// for the prescription's author and responsible party
// (practitioner.ts, getAgentPersonTelecom): the PractitionerRole's own
// telecom, else its Practitioner's (when it names one by reference), else
// its Organization's; with none it refuses the prescription-order, 400,
// one fatal issue of code invalid coded TOO_FEW_VALUES_SUBMITTED
// "ResponsiblePractitioner must have at least one telecom.", and nothing is
// kept. A legacy v3 author or responsible party without a telecom (the
// MIM's AgentPerson telecom is optional) is such a prescription. Before,
// the simulator took it (200).
func TestPrescriptionPeopleNeedATelecom(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	tel := []any{map[string]any{"system": "phone", "value": "01234567890", "use": "work"}}

	// order returns prescription n's prescription-order.json with the
	// role's (entry 4) and the organisation's (entry 5) telecoms set (nil:
	// none), and, with pracTel set or rp, a Practitioner the role names of
	// telecoms pracTel; rp adds a responsible party's role without a
	// telecom, naming no Practitioner, for the same organisation.
	order := func(p rx, roleTel, orgTel, pracTel []any, withPrac, rp bool) []byte {
		t.Helper()
		set := func(r map[string]any, tel []any) {
			delete(r, "telecom")
			if tel != nil {
				r["telecom"] = tel
			}
		}
		return editedFixture(t, "prescription-order.json", p.repl(nil), func(entries []any) []any {
			role := entryResource(entries, 4)
			set(role, roleTel)
			set(entryResource(entries, 5), orgTel)
			if withPrac {
				prac := map[string]any{"resourceType": "Practitioner", "identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555086689106"}}}
				set(prac, pracTel)
				role["practitioner"] = map[string]any{"reference": "urn:uuid:prac"}
				entries = append(entries, map[string]any{"fullUrl": "urn:uuid:prac", "resource": prac})
			}
			if rp {
				for _, i := range []int{1, 2} {
					mr := entryResource(entries, i)
					ext, _ := mr["extension"].([]any)
					mr["extension"] = append(ext, map[string]any{"url": extResponsible,
						"valueReference": map[string]any{"reference": "urn:uuid:role-rp"}})
				}
				entries = append(entries, map[string]any{"fullUrl": "urn:uuid:role-rp", "resource": map[string]any{"resourceType": "PractitionerRole",
					"identifier":   []any{map[string]any{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "200102238987"}},
					"organization": role["organization"]}})
			}
			return entries
		})
	}
	tests := []struct {
		name                  string
		roleTel, orgTel, prac []any
		withPrac, rp          bool
		where                 string // expression of the refusal; "" taken
		// orgMissing: refused for the organisation's own want of a
		// telecom (representedOrganizationIssue), once the person has one.
		orgMissing bool
	}{
		{"role's own", tel, tel, nil, false, false, "", false},
		{"role's own, organisation without", tel, nil, nil, false, false, "Organization.telecom", true},
		{"none: role, no practitioner, organisation without", nil, nil, nil, false, false, "Organization.telecom", false},
		{"organisation's when no practitioner", nil, tel, nil, false, false, "", false},
		{"practitioner without, though the organisation has one", nil, tel, nil, true, false, "Practitioner.telecom", false},
		{"practitioner's", nil, tel, tel, true, false, "", false},
		{"practitioner's, organisation without", nil, nil, tel, true, false, "Organization.telecom", true},
		{"responsible party falls back to the organisation's", tel, tel, nil, false, true, "", false},
		// The author's organisation, the responsible party's too, is
		// refused before EPS comes to the responsible party.
		{"responsible party without any", tel, nil, nil, false, true, "Organization.telecom", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newRx(t, uint32(i+1), "FH542")
			a := do(t, http.MethodPost, api+"/$process-message", order(p, tt.roleTel, tt.orgTel, tt.prac, tt.withPrac, tt.rp), nil)
			_, held := s.State().Get(p.sf)
			if tt.where == "" {
				if a.status != http.StatusOK || !held {
					t.Fatalf("answer %d (held %v), want 200: %s", a.status, held, a.body)
				}
				return
			}
			if held {
				t.Fatalf("prescription %s held after the refusal", p.sf)
			}
			if tt.orgMissing {
				a.wantTranslationRefusal(t, "INVALID_VALUE", "Required field missing.", tt.where)
				return
			}
			a.wantTranslationRefusal(t, "TOO_FEW_VALUES_SUBMITTED", "ResponsiblePractitioner must have at least one telecom.", tt.where)
		})
	}
}
