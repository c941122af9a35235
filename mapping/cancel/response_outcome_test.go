package cancel

import (
	"reflect"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestCancelResponseErrorIsOperationOutcome: the EPS API makes an
// OperationOutcome, not a Bundle, of a cancel response whose code is an
// error (0008 R-0008 not-found, 0009 R-0009 not-supported, 5000 R-5000
// processing with Spine's text, 5888 R-5888 invalid: cancellation-response.ts
// translateSpineCancelResponseIntoOperationOutcome,
// cancellation-medication-request.ts; confirmed with the official
// translator on the corpus cancel_error.xml). porxgate's outcome has the
// same issue, and the message comes back exactly; the other codes stay a
// Bundle.
func TestCancelResponseErrorIsOperationOutcome(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	const unab = "Unable to process message. Information missing or invalid - NHS number mismatch"
	cases := []struct {
		code, issueType, rCode, display string
	}{
		{"0008", "not-found", "R-0008", "Prescription/item not found"},
		{"0009", "not-supported", "R-0009", "Cancellation functionality disabled in SPINE"},
		{"5000", "processing", "R-5000", unab},
		{"5888", "invalid", "R-5888", "Invalid Message."},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			answer := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"` + tc.issueType +
				`","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history","code":"` + tc.rCode + `","display":"` + tc.display + `"}]}}]}`
			msg, _, err := CancelResponseFromEPS(req, []byte(answer), 400, CancelReplyEnds{}, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			body, meta, err := CancelResponseToFHIR(msg, core.FixedEnv())
			if err != nil {
				t.Fatal(err)
			}
			r, err := fhir.DecodeResource(body)
			if err != nil {
				t.Fatal(err)
			}
			oo, ok := r.(*fhir.OperationOutcome)
			if !ok {
				t.Fatalf("cancel response %s → %s, want an OperationOutcome as the EPS API makes", tc.code, r.GetResourceType())
			}
			want := fhir.Issue{Severity: "error", Code: tc.issueType, Details: &fhir.CodeableConcept{Coding: []fhir.Coding{
				{System: fhir.CodeSystemStatusHistory, Code: tc.rCode, Display: tc.display}}}}
			if len(oo.Issue) != 1 || !reflect.DeepEqual(oo.Issue[0], want) {
				t.Errorf("issues = %+v\nwant [%+v]", oo.Issue, want)
			}
			env := core.FixedEnv()
			env.Now = env.Now.Add(time.Hour)
			back, err := CancelResponseToV3(body, meta, env)
			if err != nil {
				t.Fatal(err)
			}
			if !core.SameElement(normalizedV3(mustRoot(t, msg)), normalizedV3(mustRoot(t, back)), nil) {
				t.Errorf("round trip changed the message:\n%s\n---\n%s", msg, back)
			}
		})
	}
	// A cancellation that is not an error stays the Bundle.
	ok, err := SubsequentCancelResponse(req, "0004", nil, CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	replyOK(t, ok)
}
