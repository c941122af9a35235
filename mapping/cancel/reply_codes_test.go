package cancel

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// TestCancelResponseFromEPSEveryBundleCode: every cancellation response
// code the EPS API answers in a Bundle (its cancellation-medication-request
// table: R-0001…R-0007 and R-0010 with the MedicationRequest status it
// sets; R-0008, R-0009, R-5000 and R-5888 come as an OperationOutcome,
// TestCancelResponseFromEPSAnswers) gives back Spine's code, displayName
// and acknowledgement typeCode, AA only with HTTP 200; only 0002 and 0003
// are pending. Measured against the official translator: each of Spine's
// twelve codes in a Cancel Response went through its v3 → FHIR and back
// through CancelResponseFromEPS unchanged.
func TestCancelResponseFromEPSEveryBundleCode(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	base := string(cancelFixture(t, "eps_answer_pending.json"))
	const pendingDisplay = "Prescription/item was not cancelled. With dispenser. Marked for cancellation"
	cases := []struct {
		code, display, status string
		httpStatus            int
		typeCode              string
		pending               bool
	}{
		{"0001", "Prescription/item was cancelled", "cancelled", 200, core.AckAccepted, false},
		{"0002", pendingDisplay, "active", 400, core.AckError, true},
		{"0003", "Prescription/item was not cancelled. With dispenser active. Marked for cancellation", "active", 400, core.AckError, true},
		{"0004", "Prescription/item was not cancelled. Prescription has been dispensed.", "completed", 400, core.AckError, false},
		{"0005", "Prescription/item has expired", "stopped", 400, core.AckError, false},
		{"0006", "Prescription/item had already been cancelled", "cancelled", 400, core.AckError, false},
		{"0007", "Prescription/item cancellation requested by another prescriber", "unknown", 400, core.AckError, false},
		{"0010", "Prescription/item was not cancelled. Prescription has been not dispensed.", "stopped", 400, core.AckError, false},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			answer := strings.Replace(base, `"code": "R-0002", "display": "`+pendingDisplay+`"`, `"code": "R-`+tc.code+`", "display": "`+tc.display+`"`, 1)
			answer = strings.Replace(answer, `"status": "active"`, `"status": "`+tc.status+`"`, 1)
			if !strings.Contains(answer, "R-"+tc.code) {
				t.Fatal("the fixture no longer carries R-0002 as written here")
			}
			msg, out, err := CancelResponseFromEPS(req, []byte(answer), tc.httpStatus, CancelReplyEnds{}, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			if out.Code.Code != tc.code || out.FHIRCode != "R-"+tc.code || out.TypeCode != tc.typeCode || out.Pending != tc.pending || out.DispenserODS != "FZZ99" {
				t.Errorf("outcome = %+v", out)
			}
			s := string(msg)
			for _, want := range []string{
				`<acknowledgement typeCode="` + tc.typeCode + `">`,
				`code="` + tc.code + `" displayName="` + tc.display + `"`,
			} {
				if !strings.Contains(s, want) {
					t.Errorf("reply lacks %s", want)
				}
			}
			replyOK(t, msg)
		})
	}
}
