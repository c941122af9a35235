package sim

import (
	"net/http"
	"testing"
	"time"
)

// TestTelecomsValidatedAsEPS: the EPS API checks every $process-message
// Bundle's telecoms before it reaches Spine (bundle-validator.ts,
// validateTelecoms): each telecom of an Organization, Practitioner or
// PractitionerRole entry needs a value and a use, else 400 with one issue
// of code invalid each ("Required field bundle.entry[i].resource.telecom[j].use
// is missing."), the Organizations' first. A legacy v3 telecom without a
// use (legal: TEL.use is optional) becomes such a ContactPoint. Before, the
// simulator took the prescription and the cancellation (200), which EPS
// refuses.
func TestTelecomsValidatedAsEPS(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")

	// withTelecoms returns fixture name with telecoms set on its entries
	// (entry index → telecom list).
	withTelecoms := func(name string, telecoms map[int][]map[string]string) []byte {
		t.Helper()
		return editedFixture(t, name, p.repl(nil), func(entries []any) []any {
			for i, tel := range telecoms {
				entryResource(entries, i)["telecom"] = tel
			}
			return entries
		})
	}
	work := map[string]string{"system": "phone", "use": "work", "value": "01234567890"}
	noUse := map[string]string{"system": "phone", "value": "01234567890"}
	empty := map[string]string{"system": "phone"}
	tests := []struct {
		name string
		body []byte
		want []string // diagnostics, in order; none: taken
	}{
		// Taken first (the Patient's telecoms are not checked), so that the
		// cancellation below finds the prescription.
		{"order, patient telecom without use", withTelecoms("prescription-order.json", map[int][]map[string]string{3: {noUse}}), nil},
		// prescription-order.json: entry 4 PractitionerRole, 5 Organization.
		{"order, role telecom without use", withTelecoms("prescription-order.json", map[int][]map[string]string{4: {work, noUse}}),
			[]string{"Required field bundle.entry[4].resource.telecom[1].use is missing."}},
		{"order, organisation's listed before the role's", withTelecoms("prescription-order.json", map[int][]map[string]string{4: {noUse}, 5: {empty}}),
			[]string{"Required field bundle.entry[5].resource.telecom[0].value is missing.",
				"Required field bundle.entry[5].resource.telecom[0].use is missing.",
				"Required field bundle.entry[4].resource.telecom[0].use is missing."}},
		// cancel.json: entry 3 PractitionerRole; EPS's common checks come
		// before the cancellation's own.
		{"cancel, role telecom without use", withTelecoms("cancel.json", map[int][]map[string]string{3: {noUse}}),
			[]string{"Required field bundle.entry[3].resource.telecom[0].use is missing."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, http.MethodPost, api+"/$process-message", tt.body, nil)
			if tt.want == nil {
				if a.status != http.StatusOK {
					t.Fatalf("answer %d, want 200: %s", a.status, a.body)
				}
				return
			}
			issues, _ := a.json["issue"].([]any)
			if a.status != http.StatusBadRequest || a.json["resourceType"] != "OperationOutcome" || len(issues) != len(tt.want) {
				t.Fatalf("answer %d with %d issues, want 400 with %d: %s", a.status, len(issues), len(tt.want), a.body)
			}
			for i, want := range tt.want {
				is := issues[i].(map[string]any)
				if is["severity"] != "error" || is["code"] != "invalid" || is["diagnostics"] != want {
					t.Fatalf("issue %d = %v, want error/invalid %q", i, is, want)
				}
			}
		})
	}
	// The refused prescription-orders and cancellation changed nothing:
	// the prescription the first order made is held, its items still to
	// be dispensed.
	got, ok := s.State().Get(p.sf)
	if !ok {
		t.Fatalf("prescription %s not held after the accepted order", p.sf)
	}
	for _, it := range got.Items {
		if it.Status != ItemToBeDispensed {
			t.Fatalf("item %s is %s, want to be dispensed", it.ID, it.Status)
		}
	}
}
