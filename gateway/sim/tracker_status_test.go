package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTrackerTaskStatusAfterEachStep: the tracker's Task.status and
// businessStatus after each step of a prescription's life, as the EPS API
// derives them from Spine's status (translation/response/tracker/
// translation.ts): to be dispensed requested 0001, with dispenser accepted
// 0002, with dispenser - active in-progress 0003, dispensed completed 0006,
// claimed completed 0008.
// Before, a prescription downloaded but not yet dispensed was answered
// in-progress, as if the dispenser had begun dispensing it.
func TestTrackerTaskStatusAfterEachStep(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 500, "FH542")
	post := func(path, fix string, extra map[string]string) {
		t.Helper()
		a := do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(extra)), nil)
		if a.status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", path, fix, a.status, a.body)
		}
	}
	steps := []struct {
		name           string
		act            func()
		status, coding string
	}{
		{"prescribed", func() { post("/$process-message", "prescription-order.json", nil) }, "requested", "0001"},
		{"released", func() { post("/Task/$release", "release-patient.json", nil) }, "accepted", "0002"},
		{"item 2 owed", func() {
			post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0004", "MESSAGEID": "d1"})
		}, "in-progress", "0003"},
		{"item 2 dispensed", func() {
			post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": "d2"})
		}, "completed", "0006"},
		{"claimed", func() { post("/Claim", "claim.json", nil) }, "completed", "0008"},
	}
	for _, st := range steps {
		st.act()
		a := do(t, http.MethodGet, api+"/Task?focus:identifier="+url.QueryEscape(p.sf), nil, nil)
		a.want(t, http.StatusOK, "")
		entries, _ := a.json["entry"].([]any)
		if len(entries) != 1 {
			t.Fatalf("%s: %d Tasks\n%s", st.name, len(entries), a.body)
		}
		task := entries[0].(map[string]any)["resource"].(map[string]any)
		coding := task["businessStatus"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"]
		if task["status"] != st.status || coding != st.coding {
			t.Errorf("%s: Task %v %v, want %s %s", st.name, task["status"], coding, st.status, st.coding)
		}
	}
}

// TestTrackerUnknownPrescription: asked for a prescription id Spine does
// not hold, the EPS tracker answers HTTP 200 with an OperationOutcome
// (Spine's NHS111 item details answer a non-zero statusCode, "Prescription
// ID not found", which the EPS API turns into an invalid issue coded
// INVALID with Spine's reason: response/tracker/translation.ts,
// convertSpineTrackerResponseToFhir); a
// prescription it holds that the other parameters filter out is an empty
// searchset (routes/tracker/task.ts, filterBundleEntries). Before, the
// simulator answered an unknown id with an empty searchset too, so the
// gateway's reading of EPS's not-found answer was never exercised.
func TestTrackerUnknownPrescription(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 501, "FH542")
	do(t, http.MethodPost, api+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).want(t, 200, "informational")
	unknown := newRx(t, 502, "FH542").sf
	tests := []struct {
		name, query string
		wantTotal   int // -1: an OperationOutcome
	}{
		{"unknown id", "focus:identifier=" + url.QueryEscape(unknown), -1},
		{"unknown id by identifier, with the patient", "identifier=" + url.QueryEscape(unknown) + "&patient:identifier=" + p.nhs, -1},
		{"known id", "focus:identifier=" + url.QueryEscape(p.sf), 1},
		{"known id, other status", "focus:identifier=" + url.QueryEscape(p.sf) + "&business-status=0006", 0},
		{"known id, other patient", "focus:identifier=" + url.QueryEscape(p.sf) + "&patient:identifier=9999999999", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, http.MethodGet, api+"/Task?"+tc.query, nil, nil)
			if tc.wantTotal < 0 {
				a.want(t, http.StatusOK, "INVALID")
				if a.json["resourceType"] != "OperationOutcome" || !strings.Contains(string(a.body), `"display":"Prescription ID not found"`) ||
					!strings.Contains(string(a.body), `"code":"invalid"`) {
					t.Fatalf("want EPS's not-found OperationOutcome, got %s", a.body)
				}
				return
			}
			a.want(t, http.StatusOK, "")
			if a.json["resourceType"] != "Bundle" || a.json["total"] != float64(tc.wantTotal) {
				t.Fatalf("want a searchset of %d, got %s", tc.wantTotal, a.body)
			}
		})
	}
}
