package sim

import (
	"testing"
	"time"
)

// TestReturnEndsTheNomination: a dispense proposal return takes the
// prescription back from the pharmacy and ends its nomination, as Spine's
// update_for_return does (the nominated performer moves to the nomination
// history; eps-spine-shared record.py): the pharmacy that returned it does
// not get it again from its next nominated download, and another pharmacy
// takes it by its id (the patient's token). The tracker names no owner.
// Before, the returned prescription stayed nominated and the next
// nominated download handed it straight back to the pharmacy that had
// just returned it.
func TestReturnEndsTheNomination(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	post := poster(t, api, p)
	releasedCount := func(a answer) int {
		t.Helper()
		a.want(t, 200, "")
		params, _ := a.json["parameter"].([]any)
		if len(params) == 0 {
			return 0 // NO_MORE_PRESCRIPTIONS
		}
		passed := params[0].(map[string]any)["resource"].(map[string]any)
		return int(passed["total"].(float64))
	}

	post("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
	if n := releasedCount(post("/Task/$release", "release-nominated.json", nil)); n != 1 {
		t.Fatalf("first nominated release handed over %d prescriptions, want 1", n)
	}
	post("/Task", "return.json", nil).want(t, 200, "informational")

	again := post("/Task/$release", "release-nominated.json", nil)
	if n := releasedCount(again); n != 0 || again.issueCode() != "NO_MORE_PRESCRIPTIONS" {
		t.Fatalf("nominated release after the return: %d prescriptions (%s), want none: %s", n, again.issueCode(), again.body)
	}

	if owner, ok := trackerTaskOver(t, api, p.sf)["owner"]; ok {
		t.Fatalf("tracker owner after the return = %v, want none", owner)
	}

	if n := releasedCount(post("/Task/$release", "release-patient.json", map[string]string{"PHARMACY": "FA666"})); n != 1 {
		t.Fatalf("patient release by another pharmacy after the return handed over %d, want 1", n)
	}
}
