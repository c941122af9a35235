package sim

import (
	"net/http"
	"net/url"
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
