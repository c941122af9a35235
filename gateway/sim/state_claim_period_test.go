package sim

import (
	"bytes"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestClaimAmendmentPeriod: a claim amendment is refused outside the
// claim period, as EPS refuses it: 400 CLAIM_AMEND_PERIOD_ISSUE (Spine
// 0100, "Claim amendment is not permitted outside of the claim period";
// the EPS API's spine-response-handler.ts and its specification), which
// ends with the 5th day of the month after the claim was made (the EPS
// API's dispenseClaim.feature: a claim created on 28 February amended
// after the 5th of the following month). The period runs from the first
// claim (Spine keeps its claim date through amendments, record.py
// update_for_claim_amend), dated by Claim.created (the v3 claim's
// effectiveTime), else the day it came. A first claim is not held to it.
// Before, the simulator took an amendment at any time.
func TestClaimAmendmentPeriod(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name    string
		created string // the first claim's Claim.created; "" none
		claimAt string
		amends  []string // when each amendment comes, the last one answered want
		status  int
		code    string
	}{
		{"on the 5th of the next month", "2025-02-28T13:30:00+00:00", "2025-02-28T14:00:00Z", []string{"2025-03-05T23:59:59Z"},
			http.StatusOK, "informational"},
		{"after the 5th of the next month", "2025-02-28T13:30:00+00:00", "2025-02-28T14:00:00Z", []string{"2025-03-06T00:00:00Z"},
			http.StatusBadRequest, "CLAIM_AMEND_PERIOD_ISSUE"},
		{"over the year end", "2024-12-20T10:00:00+00:00", "2024-12-20T10:00:00Z", []string{"2025-01-05T12:00:00Z"},
			http.StatusOK, "informational"},
		{"over the year end, too late", "2024-12-20T10:00:00+00:00", "2024-12-20T10:00:00Z", []string{"2025-01-06T09:00:00Z"},
			http.StatusBadRequest, "CLAIM_AMEND_PERIOD_ISSUE"},
		{"dated by Claim.created, not by when it came", "2025-01-31T10:00:00+00:00", "2025-02-04T10:00:00Z", []string{"2025-02-06T10:00:00Z"},
			http.StatusBadRequest, "CLAIM_AMEND_PERIOD_ISSUE"},
		{"no Claim.created: the day it came", "", "2025-01-31T10:00:00Z", []string{"2025-02-05T10:00:00Z"},
			http.StatusOK, "informational"},
		{"a second amendment counts from the first claim", "2025-02-10T10:00:00+00:00", "2025-02-10T10:00:00Z",
			[]string{"2025-03-01T10:00:00Z", "2025-03-07T10:00:00Z"}, http.StatusBadRequest, "CLAIM_AMEND_PERIOD_ISSUE"},
		{"a first claim long after", "2024-01-01T10:00:00+00:00", "2025-03-10T10:00:00Z", nil, http.StatusOK, "informational"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var clock atomic.Int64
			clock.Store(at("2024-01-01T09:00:00Z").UnixNano())
			_, base := startSim(t, Options{Now: func() time.Time { return time.Unix(0, clock.Load()).UTC() }})
			p := newRx(t, uint32(80+i), "FH542")
			post := poster(t, base+DefaultBasePath, p)
			post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
			post("/Task/$release", "release-nominated.json", nil).want(t, http.StatusOK, "")
			post("/$process-message", "dispense-notification.json", map[string]string{"MESSAGEID": "d1", "STATUS1": "0001", "STATUS2": "0001"}).
				want(t, http.StatusOK, "informational")
			claim := func(id, replaces string) answer {
				body := fixture(t, "claim.json", p.repl(map[string]string{"CLAIMID": id, "REPLACES": replaces}))
				if tt.created != "" {
					body = bytes.Replace(body, []byte(`"use": "claim",`), []byte(`"use": "claim", "created": "`+tt.created+`",`), 1)
				}
				return do(t, http.MethodPost, base+DefaultBasePath+"/Claim", body, nil)
			}
			clock.Store(at(tt.claimAt).UnixNano())
			last := claim("c0", "")
			for n, when := range tt.amends {
				clock.Store(at(when).UnixNano())
				if n > 0 {
					last.want(t, http.StatusOK, "informational")
				}
				last = claim(fmt.Sprintf("c%d", n+1), fmt.Sprintf("c%d", n))
			}
			last.want(t, tt.status, tt.code)
		})
	}
}
