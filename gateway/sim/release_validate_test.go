package sim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestReleaseValidatedAsEPS: the EPS API checks a Task/$release Parameters
// before it reaches Spine (parameters-validator.ts, verifyParameters): it
// needs an agent PractitionerRole (without one it throws "Parameter with
// name agent not found", answered as an INVALID_VALUE issue), and refuses
// with HTTP 400 and an invalid issue each a release without an owner and
// one whose agent has no telecom; nothing is released. Before, the
// simulator released to a request without an agent or with an agent
// without a telecom, and answered a missing owner in words of its own.
func TestReleaseValidatedAsEPS(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := poster(t, api, p)
	post("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")

	// release returns fixture fix with its parameters changed by change.
	release := func(fix string, change func(params []any) []any) []byte {
		var m map[string]any
		if err := json.Unmarshal(fixture(t, fix, p.repl(nil)), &m); err != nil {
			t.Fatal(err)
		}
		m["parameter"] = change(m["parameter"].([]any))
		out, _ := json.Marshal(m)
		return out
	}
	without := func(name string) func([]any) []any {
		return func(params []any) []any {
			var out []any
			for _, prm := range params {
				if prm.(map[string]any)["name"] != name {
					out = append(out, prm)
				}
			}
			return out
		}
	}
	agentWithoutTelecom := func(params []any) []any {
		for _, prm := range params {
			if prm := prm.(map[string]any); prm["name"] == "agent" {
				delete(prm["resource"].(map[string]any), "telecom")
			}
		}
		return params
	}
	tests := []struct {
		name      string
		body      []byte
		code      string // the issue's code
		detail    string // its details code ("" for none)
		diagnosis string // its diagnostics, or display for INVALID_VALUE
	}{
		{"nominated, no agent", release("release-nominated.json", without("agent")), "invalid", "INVALID_VALUE", "Parameter with name agent not found"},
		{"patient, no agent", release("release-patient.json", without("agent")), "invalid", "INVALID_VALUE", "Parameter with name agent not found"},
		{"agent without telecom", release("release-nominated.json", agentWithoutTelecom), "invalid", "",
			`Required field Parameters.parameter("agent").resource.telecom is missing.`},
		{"no owner", release("release-patient.json", without("owner")), "invalid", "", "Required parameter owner is missing."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, http.MethodPost, api+"/Task/$release", tt.body, nil)
			issues, _ := a.json["issue"].([]any)
			if a.status != http.StatusBadRequest || len(issues) != 1 {
				t.Fatalf("answer %d, want 400 with one issue: %s", a.status, a.body)
			}
			is := issues[0].(map[string]any)
			got := is["diagnostics"]
			if tt.detail != "" {
				got = nil
				if a.issueCode() == tt.detail {
					got = is["details"].(map[string]any)["coding"].([]any)[0].(map[string]any)["display"]
				}
			}
			if is["code"] != tt.code || got != tt.diagnosis {
				t.Fatalf("issue %v, want %s %s %q", is, tt.code, tt.detail, tt.diagnosis)
			}
			if rx, _ := s.State().Get(p.sf); rx.Status != StatusToBeDispensed {
				t.Fatalf("after the refused release: %s, want 0001 (not released)", rx.Status)
			}
		})
	}
	post("/Task/$release", "release-nominated.json", nil).want(t, 200, "")
}
