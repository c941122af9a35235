package sim

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDispenseNotificationSentAgain: a dispense notification sent again
// with the message id (Bundle.identifier) of one the prescription took —
// the client retrying after the answer was lost, or a sender's MHS sending
// it twice — is refused as EPS refuses it, 400 with Spine's 202
// "Duplicate HL7 ID Error", and changes nothing; one refused the first time
// is processed again. Before, the simulator applied it again: a repeated
// partial dispense was recorded twice (a withdrawal then undid only the
// copy, leaving the prescription "with dispenser - active"), a withdrawn
// one sent again was dispensed anew, and a repeated complete dispense was
// refused as already dispensed, as if another notification had come.
func TestDispenseNotificationSentAgain(t *testing.T) {
	type step struct {
		path, fix string
		extra     map[string]string
		status    int
		code      string
		fault     *Faults // set before the step
	}
	dn := func(id, st1, st2 string) map[string]string {
		return map[string]string{"MESSAGEID": id, "STATUS1": st1, "STATUS2": st2}
	}
	lost := &Faults{Fail5xxAfter: 1, Ops: []string{"process-message"}}
	const dup = "202"
	tests := []struct {
		name       string
		steps      []step
		wantStatus PrescriptionStatus
		wantItems  [2]ItemStatus
		wantKept   int // dispense notifications standing
	}{
		{"complete dispense, first answer lost", []step{
			{"/$process-message", "dispense-notification.json", dn("d1", "0001", "0001"), http.StatusServiceUnavailable, "transient", lost},
			{"/$process-message", "dispense-notification.json", dn("d1", "0001", "0001"), http.StatusBadRequest, dup, nil},
		}, StatusDispensed, [2]ItemStatus{ItemDispensed, ItemDispensed}, 1},
		{"partial dispense sent twice, then withdrawn", []step{
			{"/$process-message", "dispense-notification.json", dn("d1", "0003", "0004"), http.StatusOK, "informational", nil},
			{"/$process-message", "dispense-notification.json", dn("d1", "0003", "0004"), http.StatusBadRequest, dup, nil},
			{"/Task", "withdraw.json", map[string]string{"FOCUSID": "d1", "MESSAGEID": "w1"}, http.StatusOK, "informational", nil},
		}, StatusWithDispenser, [2]ItemStatus{ItemWithDispenser, ItemWithDispenser}, 0},
		{"withdrawn notification sent again", []step{
			{"/$process-message", "dispense-notification.json", dn("d1", "0003", "0004"), http.StatusOK, "informational", nil},
			{"/Task", "withdraw.json", map[string]string{"FOCUSID": "d1", "MESSAGEID": "w1"}, http.StatusOK, "informational", nil},
			{"/$process-message", "dispense-notification.json", dn("D1", "0003", "0004"), http.StatusBadRequest, dup, nil},
		}, StatusWithDispenser, [2]ItemStatus{ItemWithDispenser, ItemWithDispenser}, 0},
		{"earlier notification again after a later one", []step{
			{"/$process-message", "dispense-notification.json", dn("d1", "0003", "0004"), http.StatusOK, "informational", nil},
			{"/$process-message", "dispense-notification.json", dn("d2", "0001", "0001"), http.StatusOK, "informational", nil},
			{"/$process-message", "dispense-notification.json", dn("d1", "0003", "0004"), http.StatusBadRequest, dup, nil},
		}, StatusDispensed, [2]ItemStatus{ItemDispensed, ItemDispensed}, 2},
		{"a refused notification is processed again", []step{
			{"/$process-message", "dispense-notification.json", dn("d1", "0007", "0001"), http.StatusBadRequest, "INVALID_VALUE", nil},
			{"/$process-message", "dispense-notification.json", dn("d1", "0007", "0001"), http.StatusBadRequest, "INVALID_VALUE", nil},
			{"/$process-message", "dispense-notification.json", dn("d2", "0001", "0001"), http.StatusOK, "informational", nil},
		}, StatusDispensed, [2]ItemStatus{ItemDispensed, ItemDispensed}, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
			api := base + DefaultBasePath
			p := newRx(t, uint32(60+i), "FH542")
			post := poster(t, api, p)
			post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
			post("/Task/$release", "release-nominated.json", nil).want(t, http.StatusOK, "")
			for n, st := range tt.steps {
				if st.fault != nil {
					s.SetFaults(*st.fault)
				}
				a := post(st.path, st.fix, st.extra)
				if a.status != st.status || a.issueCode() != st.code {
					t.Fatalf("step %d (%s %v): %d %s, want %d %s", n+1, st.path, st.extra, a.status, a.body, st.status, st.code)
				}
			}
			got, _ := s.State().Get(p.sf)
			if got.Status != tt.wantStatus || got.Items[0].Status != tt.wantItems[0] || got.Items[1].Status != tt.wantItems[1] {
				t.Errorf("prescription %s %s/%s, want %s %s/%s", got.Status, got.Items[0].Status, got.Items[1].Status,
					tt.wantStatus, tt.wantItems[0], tt.wantItems[1])
			}
			if len(got.Dispenses) != tt.wantKept {
				t.Errorf("%d dispense notifications standing, want %d", len(got.Dispenses), tt.wantKept)
			}
			if bs := businessStatus(trackerTaskOver(t, api, p.sf)); bs != string(tt.wantStatus) {
				t.Errorf("tracker business status %s, want %s", bs, tt.wantStatus)
			}
		})
	}
}

// TestMessageSentAgain: every message the simulator applies —
// prescription-order, cancellation, return, withdrawal, claim — sent
// again with the id of one the prescription took (Bundle, Task or Claim
// identifier) is refused as EPS refuses it, 400 with Spine's 202
// "Duplicate HL7 ID Error" (issue code invalid, a Spine-ErrorOrWarningCode
// coding), and changes nothing. Before, the prescription-order was refused
// DUPLICATE_PRESCRIPTION_ID and the others by the state they found
// (already claimed, nothing to withdraw, R-0006…), as for a new message.
func TestMessageSentAgain(t *testing.T) {
	const dup = "202"
	released := func(post func(path, fix string, extra map[string]string) answer, t *testing.T) {
		t.Helper()
		post("/Task/$release", "release-nominated.json", nil).want(t, http.StatusOK, "")
	}
	dispensed := func(post func(path, fix string, extra map[string]string) answer, t *testing.T) {
		t.Helper()
		released(post, t)
		post("/$process-message", "dispense-notification.json", map[string]string{"MESSAGEID": "d1", "STATUS1": "0001", "STATUS2": "0001"}).
			want(t, http.StatusOK, "informational")
	}
	tests := []struct {
		name       string
		setup      func(post func(path, fix string, extra map[string]string) answer, t *testing.T)
		path, fix  string
		extra      map[string]string
		wantStatus PrescriptionStatus
	}{
		{"prescription-order", func(func(string, string, map[string]string) answer, *testing.T) {},
			"/$process-message", "prescription-order.json", map[string]string{"MESSAGEID": "m-order"}, StatusToBeDispensed},
		{"cancellation", func(func(string, string, map[string]string) answer, *testing.T) {},
			"/$process-message", "cancel.json", map[string]string{"MESSAGEID": "m-cancel"}, StatusToBeDispensed},
		{"pending cancellation", released,
			"/$process-message", "cancel.json", map[string]string{"MESSAGEID": "m-cancel"}, StatusWithDispenser},
		{"return", released,
			"/Task", "return.json", map[string]string{"MESSAGEID": "m-return"}, StatusToBeDispensed},
		{"withdrawal", dispensed,
			"/Task", "withdraw.json", map[string]string{"MESSAGEID": "m-withdraw", "FOCUSID": "d1"}, StatusWithDispenser},
		{"claim", dispensed,
			"/Claim", "claim.json", map[string]string{"CLAIMID": "m-claim"}, StatusClaimed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
			api := base + DefaultBasePath
			p := newRx(t, uint32(80+i), "FH542")
			post := poster(t, api, p)
			if tt.fix != "prescription-order.json" {
				post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
			}
			tt.setup(post, t)
			if a := post(tt.path, tt.fix, tt.extra); a.status != http.StatusOK && !strings.Contains(string(a.body), `"`+string(CancelPendingWithDispenser)+`"`) {
				t.Fatalf("first sending: %d %s", a.status, a.body)
			}
			before, _ := s.State().Get(p.sf)
			a := post(tt.path, tt.fix, tt.extra)
			a.want(t, http.StatusBadRequest, dup)
			is := a.json["issue"].([]any)[0].(map[string]any)
			coding := is["details"].(map[string]any)["coding"].([]any)[0].(map[string]any)
			if is["code"] != "invalid" || coding["system"] != "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode" || coding["display"] != "Duplicate HL7 ID Error" {
				t.Errorf("refusal %s, want issue code invalid, Spine-ErrorOrWarningCode 202 Duplicate HL7 ID Error", a.body)
			}
			after, _ := s.State().Get(p.sf)
			if after.Status != tt.wantStatus || after.Status != before.Status || !slices.Equal(after.Items, before.Items) ||
				len(after.Claims) != len(before.Claims) || len(after.Dispenses) != len(before.Dispenses) {
				t.Errorf("the message sent again changed the prescription: %+v → %+v (want %s)", before, after, tt.wantStatus)
			}
		})
	}
}
