package sim

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestCancelByAnotherPrescriberIsAnotherOrganisation: Spine tells a
// cancellation of an item already marked for cancellation "requested by
// another prescriber" (R-0007) when it comes from another organisation:
// it compares the cancellations' agentOrganization, the requester's
// organisation (eps-spine-shared record.py,
// check_pending_cancellation_unique_w_disp). Another clinician of the same
// practice cancelling the same item is answered as the first was (pending,
// with the dispenser). Before, the simulator compared the requesters' role
// profiles and answered R-0007 to a colleague of the first prescriber.
func TestCancelByAnotherPrescriberIsAnotherOrganisation(t *testing.T) {
	_, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	do(t, http.MethodPost, api+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).want(t, 200, "informational")
	do(t, http.MethodPost, api+"/Task/$release", fixture(t, "release-nominated.json", p.repl(nil)), nil).want(t, 200, "")

	// cancel sends the cancellation of item 1 from requester (an SDS role
	// profile) of organisation org.
	cancel := func(requester, org string) string {
		t.Helper()
		body := fixture(t, "cancel.json", p.repl(map[string]string{"REQUESTER": requester}))
		body = bytes.ReplaceAll(body, []byte(`"value": "A83008"`), []byte(`"value": "`+org+`"`))
		a := do(t, http.MethodPost, api+"/$process-message", body, nil)
		for _, code := range []CancelCode{CancelPendingWithDispenser, CancelByAnotherPrescriber} {
			if strings.Contains(string(a.body), `"`+string(code)+`"`) {
				return string(code)
			}
		}
		t.Fatalf("cancellation answer without R-0002 or R-0007: %d %s", a.status, a.body)
		return ""
	}
	tests := []struct {
		name, requester, org string
		want                 CancelCode
	}{
		{"first", "100102238986", "A83008", CancelPendingWithDispenser},
		{"same prescriber again", "100102238986", "A83008", CancelPendingWithDispenser},
		{"colleague of the same practice", "200102238987", "A83008", CancelPendingWithDispenser},
		{"another practice", "300102238988", "B81001", CancelByAnotherPrescriber},
	}
	for _, tt := range tests {
		if got := cancel(tt.requester, tt.org); got != string(tt.want) {
			t.Fatalf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}
