package sim

import (
	"net/http"
	"testing"
	"time"
)

// TestWithdrawnRepeatDispensingStaysActive: Spine's withdrawal of a
// repeat dispensing prescription's dispense notification goes back no
// further than "with dispenser - active" (RepeatDispenseRecord
// get_withdrawn_status in eps-spine-shared repeat_dispense.py), so the
// pharmacy cannot then return the issue; an acute prescription goes back
// to "with dispenser" and may be returned. Before, the simulator put the
// repeat dispensing issue back to "with dispenser" and took its return.
func TestWithdrawnRepeatDispensingStaysActive(t *testing.T) {
	tests := []struct {
		name       string
		course     string
		wantStatus PrescriptionStatus
		wantReturn string // the return's issue code
	}{
		{"repeat dispensing", courseRepeatDispensing, StatusWithDispenserActive, "PRESCRIPTION_INVALID_STATE_TRANSITION"},
		{"acute", "acute", StatusWithDispenser, "informational"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
			api := base + DefaultBasePath
			p := newRx(t, uint32(i+1), "FH542")
			post := poster(t, api, p)
			do(t, http.MethodPost, api+"/$process-message", withCourse(t, p, tt.course, 2), nil).want(t, 200, "informational")
			partlyDispense(t, post)
			post("/Task", "withdraw.json", map[string]string{"FOCUSID": "d1"}).want(t, 200, "informational")
			task := trackerTaskOver(t, api, p.sf)
			if st, items := businessStatus(task), itemStatuses(task); st != string(tt.wantStatus) ||
				items[0] != string(ItemWithDispenser) || items[1] != string(ItemWithDispenser) {
				t.Fatalf("after the withdrawal: %s %v, want %s with both items with the dispenser", st, items, tt.wantStatus)
			}
			a := post("/Task", "return.json", nil)
			if a.issueCode() != tt.wantReturn {
				t.Fatalf("return after the withdrawal: %d %s, want %s", a.status, a.body, tt.wantReturn)
			}
		})
	}
}
