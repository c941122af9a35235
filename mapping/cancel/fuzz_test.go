package cancel

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// FuzzCancelV3ToFHIR feeds arbitrary bytes to the cancellation readers:
// they must not panic, and whatever they accept must go back to v3 and be
// read again.
func FuzzCancelV3ToFHIR(f *testing.F) {
	f.Add(cancelFixture(f, "cancel_request_uk.xml"))
	if reply, err := SubsequentCancelResponse(cancelFixture(f, "cancel_request_uk.xml"), "0004",
		&CancelPerformer{ODS: "FZZ99", Name: "PHARMACY"}, CancelReplyEnds{}, core.FixedEnv()); err == nil {
		f.Add(reply)
	}
	// An error code reads as the EPS API's OperationOutcome.
	if reply, err := SubsequentCancelResponse(cancelFixture(f, "cancel_request_uk.xml"), "0008", nil, CancelReplyEnds{}, core.FixedEnv()); err == nil {
		f.Add(reply)
	}
	f.Add([]byte(`<PORX_IN030101UK32 xmlns="urn:hl7-org:v3"/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env := core.FixedEnv()
		if body, meta, err := CancelToFHIR(data, env); err == nil {
			out, err := CancelToV3(body, meta, env)
			if err != nil {
				t.Fatalf("accepted v3 does not go back: %v\n%s", err, body)
			}
			if _, _, err := CancelToFHIR(out, env); err != nil {
				t.Fatalf("written v3 does not read again: %v\n%s", err, out)
			}
		}
		if body, meta, err := CancelResponseToFHIR(data, env); err == nil {
			out, err := CancelResponseToV3(body, meta, env)
			if err != nil {
				t.Fatalf("accepted response does not go back: %v\n%s", err, body)
			}
			if _, _, err := CancelResponseToFHIR(out, env); err != nil {
				t.Fatalf("written response does not read again: %v\n%s", err, out)
			}
		}
		_, _ = ReadCancelRequestInfo(data)
	})
}

// FuzzCancelResponseFromEPS feeds arbitrary bytes as the EPS API's answer
// to a cancel request (under the HTTP statuses it answers with) to the
// gateway's reply writer: it must not panic, and a reply it writes must be
// a cancel response the reader takes.
func FuzzCancelResponseFromEPS(f *testing.F) {
	req := cancelFixture(f, "cancel_request_uk.xml")
	f.Add(cancelFixture(f, "eps_answer_pending.json"), 200)
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"business-rule","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-IssueCode","code":"R-0008"}]}}]}`), 400)
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[]}`), 200)
	f.Add([]byte(`{}`), 500)
	f.Fuzz(func(t *testing.T, answer []byte, status int) {
		env := core.FixedEnv()
		msg, _, err := CancelResponseFromEPS(req, answer, status, CancelReplyEnds{}, env)
		if err != nil {
			return
		}
		if _, _, err := CancelResponseToFHIR(msg, env); err != nil {
			t.Fatalf("written reply does not read: %v\n%s", err, msg)
		}
	})
}
