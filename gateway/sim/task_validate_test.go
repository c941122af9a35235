package sim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestTaskValidatedAsEPS: the EPS API checks a Task before it reaches
// Spine (task-validator.ts, verifyTask) and refuses, with HTTP 400 and an
// issue of code value each, one whose intent is not order, whose status
// is neither in-progress (a withdrawal, which needs the code abort) nor
// rejected (a return), or whose statusReason is not in the withdrawal's or
// the return's code system; nothing is withdrawn or returned. Before, the
// simulator took any Task coded abort as a withdrawal whatever its status,
// and withdrew or returned without a reason, or with the other's.
func TestTaskValidatedAsEPS(t *testing.T) {
	const (
		withdrawReason = "Task.reasonCode must have a system of 'https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-reason' and a value from that system."
		returnReason   = "Task.reasonCode must have a system of 'https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-return-status-reason' and a value from that system."
	)
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := poster(t, api, p)
	post("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
	partlyDispense(t, post)

	// task returns fixture fix with its fields changed by change.
	task := func(fix string, change func(task map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(fixture(t, fix, p.repl(map[string]string{"FOCUSID": "d1"})), &m); err != nil {
			t.Fatal(err)
		}
		change(m)
		out, _ := json.Marshal(m)
		return out
	}
	withdrawReasonCoding := map[string]any{"coding": []any{map[string]any{
		"system": "https://fhir.nhs.uk/CodeSystem/EPS-task-dispense-withdraw-reason", "code": "LD"}}}
	tests := []struct {
		name string
		body []byte
		want []string
	}{
		{"withdrawal with status completed", task("withdraw.json", func(m map[string]any) { m["status"] = "completed" }),
			[]string{"Task.status must be one of: 'in-progress', 'rejected'."}},
		{"withdrawal without a reason", task("withdraw.json", func(m map[string]any) { delete(m, "statusReason") }),
			[]string{withdrawReason}},
		{"withdrawal without a code", task("withdraw.json", func(m map[string]any) { delete(m, "code") }),
			[]string{"Task.code is required when Task.status is 'in-progress'."}},
		{"in progress coded fulfill", task("withdraw.json", func(m map[string]any) {
			m["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}}}
		}), []string{"Task.code.coding.code must be one of: 'abort'."}},
		{"withdrawal of intent proposal", task("withdraw.json", func(m map[string]any) { m["intent"] = "proposal" }),
			[]string{"Task.intent must be one of: 'order'."}},
		{"return with a withdrawal's reason", task("return.json", func(m map[string]any) { m["statusReason"] = withdrawReasonCoding }),
			[]string{returnReason}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, http.MethodPost, api+"/Task", tt.body, nil)
			issues, _ := a.json["issue"].([]any)
			if a.status != http.StatusBadRequest || len(issues) != len(tt.want) {
				t.Fatalf("answer %d with %d issues, want 400 with %d: %s", a.status, len(issues), len(tt.want), a.body)
			}
			for i, want := range tt.want {
				if is := issues[i].(map[string]any); is["code"] != "value" || is["diagnostics"] != want {
					t.Fatalf("issue %d = %v, want value %q", i, is, want)
				}
			}
			if st := businessStatus(trackerTaskOver(t, api, p.sf)); st != string(StatusWithDispenserActive) {
				t.Fatalf("after the refused Task: %s, want 0003 as before", st)
			}
		})
	}
	post("/Task", "withdraw.json", map[string]string{"FOCUSID": "d1"}).want(t, 200, "informational")
}
