package sim

import (
	"encoding/json"
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
		var b map[string]any
		if err := json.Unmarshal(fixture(t, "prescription-order.json", p.repl(nil)), &b); err != nil {
			t.Fatal(err)
		}
		entries := b["entry"].([]any)
		res := func(i int) map[string]any { return entries[i].(map[string]any)["resource"].(map[string]any) }
		set := func(r map[string]any, tel []any) {
			delete(r, "telecom")
			if tel != nil {
				r["telecom"] = tel
			}
		}
		set(res(4), roleTel)
		set(res(5), orgTel)
		if withPrac {
			prac := map[string]any{"resourceType": "Practitioner", "identifier": []any{map[string]any{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555086689106"}}}
			set(prac, pracTel)
			res(4)["practitioner"] = map[string]any{"reference": "urn:uuid:prac"}
			entries = append(entries, map[string]any{"fullUrl": "urn:uuid:prac", "resource": prac})
		}
		if rp {
			for _, i := range []int{1, 2} {
				ext, _ := res(i)["extension"].([]any)
				res(i)["extension"] = append(ext, map[string]any{"url": extResponsible,
					"valueReference": map[string]any{"reference": "urn:uuid:role-rp"}})
			}
			entries = append(entries, map[string]any{"fullUrl": "urn:uuid:role-rp", "resource": map[string]any{"resourceType": "PractitionerRole",
				"identifier":   []any{map[string]any{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "200102238987"}},
				"organization": res(4)["organization"]}})
		}
		b["entry"] = entries
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name                  string
		roleTel, orgTel, prac []any
		withPrac, rp          bool
		where                 string // expression of the refusal; "" taken
	}{
		{"role's own", tel, nil, nil, false, false, ""},
		{"none: role, no practitioner, organisation without", nil, nil, nil, false, false, "Organization.telecom"},
		{"organisation's when no practitioner", nil, tel, nil, false, false, ""},
		{"practitioner without, though the organisation has one", nil, tel, nil, true, false, "Practitioner.telecom"},
		{"practitioner's", nil, nil, tel, true, false, ""},
		{"responsible party falls back to the organisation's", tel, tel, nil, false, true, ""},
		{"responsible party without any", tel, nil, nil, false, true, "Organization.telecom"},
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
			issues, _ := a.json["issue"].([]any)
			if a.status != http.StatusBadRequest || len(issues) != 1 || held {
				t.Fatalf("answer %d with %d issues (held %v), want 400 with one: %s", a.status, len(issues), held, a.body)
			}
			raw, _ := json.Marshal(issues[0])
			var got struct {
				Severity, Code string
				Details        struct {
					Coding []struct{ System, Code, Display string }
				}
				Expression []string
			}
			_ = json.Unmarshal(raw, &got)
			if got.Severity != "fatal" || got.Code != "invalid" || len(got.Details.Coding) != 1 ||
				got.Details.Coding[0].System != codeSystemSpineErrorR4 || got.Details.Coding[0].Code != "TOO_FEW_VALUES_SUBMITTED" ||
				got.Details.Coding[0].Display != "ResponsiblePractitioner must have at least one telecom." ||
				len(got.Expression) != 1 || got.Expression[0] != tt.where {
				t.Fatalf("issue %s, want fatal/invalid TOO_FEW_VALUES_SUBMITTED at %s", raw, tt.where)
			}
		})
	}
}
