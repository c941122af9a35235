package sim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCancellationValidatedAsEPS: the EPS API checks a
// prescription-order-update before it reaches Spine (bundle-validator.ts,
// verifyCancellationBundle) and refuses, with HTTP 400 and one issue each
// (code value, EPS's diagnostics and expression), a Bundle that is not
// exactly one MedicationRequest, a MedicationRequest whose status is not
// cancelled, and one without a statusReason; nothing is cancelled. Before,
// the simulator cancelled every MedicationRequest of a Bundle of several
// (EPS cancels one line item a message) and answered the other two with
// Spine's R-5888, which EPS never sends for them.
func TestCancellationValidatedAsEPS(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	do(t, http.MethodPost, api+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).want(t, 200, "informational")

	// edit returns the cancel Bundle with its MedicationRequest changed by
	// change, and a copy of it for ITEM2 added when both is set.
	edit := func(both bool, change func(mr map[string]any)) []byte {
		var b map[string]any
		if err := json.Unmarshal(fixture(t, "cancel.json", p.repl(nil)), &b); err != nil {
			t.Fatal(err)
		}
		entries := b["entry"].([]any)
		mr := entries[1].(map[string]any)["resource"].(map[string]any)
		if change != nil {
			change(mr)
		}
		if both {
			raw, _ := json.Marshal(entries[1])
			second := strings.ReplaceAll(string(raw), p.item1, p.item2)
			var e any
			_ = json.Unmarshal([]byte(second), &e)
			b["entry"] = append(entries, e)
		}
		out, _ := json.Marshal(b)
		return out
	}
	tests := []struct {
		name string
		body []byte
		want []string // diagnostics, in order
	}{
		{"two MedicationRequests", edit(true, nil),
			[]string{"The Bundle must contain exactly one MedicationRequest if MessageHeader.eventCoding.code is 'prescription-order-update'."}},
		{"status active", edit(false, func(mr map[string]any) { mr["status"] = "active" }),
			[]string{"MedicationRequest.status must be cancelled."}},
		{"no statusReason", edit(false, func(mr map[string]any) { delete(mr, "statusReason") }),
			[]string{"Expected MedicationRequest to have a value for statusReason."}},
		{"two, active, no reason", edit(true, func(mr map[string]any) { mr["status"] = "active"; delete(mr, "statusReason") }),
			[]string{"The Bundle must contain exactly one MedicationRequest if MessageHeader.eventCoding.code is 'prescription-order-update'.",
				"MedicationRequest.status must be cancelled.", "Expected MedicationRequest to have a value for statusReason."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, http.MethodPost, api+"/$process-message", tt.body, nil)
			issues, _ := a.json["issue"].([]any)
			if a.status != http.StatusBadRequest || a.json["resourceType"] != "OperationOutcome" || len(issues) != len(tt.want) {
				t.Fatalf("answer %d with %d issues, want 400 with %d: %s", a.status, len(issues), len(tt.want), a.body)
			}
			for i, want := range tt.want {
				is := issues[i].(map[string]any)
				if is["severity"] != "error" || is["code"] != "value" || is["diagnostics"] != want || is["expression"] == nil {
					t.Fatalf("issue %d = %v, want error/value %q with its expression", i, is, want)
				}
			}
		})
	}
	got, _ := s.State().Get(p.sf)
	for _, it := range got.Items {
		if it.Status != ItemToBeDispensed {
			t.Fatalf("item %s is %s after refused cancellations, want to be dispensed", it.ID, it.Status)
		}
	}
}
