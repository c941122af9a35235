package journal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// cancelResponse is a Cancel Response as Spine and porxgate write it: the
// outcome in pertinentInformation3/pertinentResponse/value, beside the
// pertinentResponse's own code CRR.
func cancelResponse(interaction, ack, code, display string) string {
	return `<hl7:` + interaction + ` xmlns:hl7="urn:hl7-org:v3"><hl7:id root="C0DE0000-0000-4000-8000-000000000001"/>
<hl7:acknowledgement typeCode="` + ack + `"><hl7:messageRef><hl7:id root="C0DE0000-0000-4000-8000-000000000002"/></hl7:messageRef></hl7:acknowledgement>
<hl7:ControlActEvent><hl7:subject><CancellationResponse xmlns="urn:hl7-org:v3">
<pertinentInformation2><pertinentPrescriptionID><code code="PID" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>
<value root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="42C67E-A99968-11EBAK"/></pertinentPrescriptionID></pertinentInformation2>
<pertinentInformation3><pertinentResponse classCode="OBS" moodCode="EVN"><code code="CRR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>
<value codeSystem="2.16.840.1.113883.2.1.3.2.4.17.19" code="` + code + `" displayName="` + display + `"/></pertinentResponse></pertinentInformation3>
</CancellationResponse></hl7:subject></hl7:ControlActEvent></hl7:` + interaction + `>`
}

// releaseRejection is a Prescription Release Rejection as porxgate writes
// it (mapping/release): the reason in pertinentRejectionReason/value.
func releaseRejection(code, display string) string {
	return `<PORX_IN110101UK30 xmlns="urn:hl7-org:v3"><id root="C0DE0000-0000-4000-8000-000000000003"/>
<acknowledgement typeCode="AE"><messageRef><id root="C0DE0000-0000-4000-8000-000000000004"/></messageRef></acknowledgement>
<ControlActEvent><subject><PrescriptionReleaseReject classCode="INFO" moodCode="EVN"><id root="C0DE0000-0000-4000-8000-000000000005"/>
<pertinentInformation typeCode="PERT"><seperatableInd value="false"/><pertinentRejectionReason classCode="OBS" moodCode="EVN">
<code code="PRRR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/><text>Prescription is with another dispenser</text>
<value code="` + code + `" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.34" displayName="` + display + `"/></pertinentRejectionReason></pertinentInformation>
</PrescriptionReleaseReject></subject></ControlActEvent></PORX_IN110101UK30>`
}

// TestCancelResponseOutcome: the journal reads a Cancel Response's outcome
// (and a Subsequent Cancel Response's) from its pertinentResponse value,
// where Spine and porxgate put it, and a Release Rejection's reason from
// its pertinentRejectionReason value (it had no code). It looked only for code elements under
// parents a cancel response does not have, found no code, and so recorded
// every cancel response as "cancelled" — 0004 (not cancelled: dispensed),
// 0008 (not found) and 0002 (pending with the dispenser) included.
func TestCancelResponseOutcome(t *testing.T) {
	tests := []struct {
		name, payload, result, code, rx string
	}{
		{"cancelled", cancelResponse("PORX_IN050101UK31", "AA", "0001", "Prescription/item was cancelled"), "cancelled", "0001", "42C67E-A99968-11EBAK"},
		{"pending", cancelResponse("PORX_IN050101UK31", "AA", "0002", "Prescription/item was not cancelled. With dispenser. Marked for cancellation"), "pending", "0002", "42C67E-A99968-11EBAK"},
		{"dispensed", cancelResponse("PORX_IN050101UK31", "AE", "0004", "Prescription/item was not cancelled. Prescription has been dispensed."), "not-cancelled", "0004", "42C67E-A99968-11EBAK"},
		{"subsequent, not dispensed", cancelResponse("PORX_IN050102UK32", "AA", "0010", "Prescription/item was not cancelled. Prescription has been not dispensed"), "not-cancelled", "0010", "42C67E-A99968-11EBAK"},
		{"release rejected", releaseRejection("0004", "Prescription is with another dispenser"), "not-released", "0004", ""},
		{"subsequent, cancelled", cancelResponse("PORX_IN050102UK32", "AA", "0001", "Prescription/item was cancelled"), "cancelled", "0001", "42C67E-A99968-11EBAK"},
	}
	if corpustest.Present() {
		for _, c := range []struct{ file, result, code string }{
			{"cancel_success.xml", "cancelled", "0001"},
			{"cancel_error_dispensed.xml", "not-cancelled", "0004"},
			{"cancel_error.xml", "not-cancelled", "0008"},
		} {
			b, err := os.ReadFile(filepath.Join(corpustest.Dir(t), "spine-responses", c.file))
			if err != nil {
				t.Fatal(err)
			}
			// The HL7 part of the ebXML message.
			s := string(b)
			start := strings.Index(s, "<hl7:PORX_IN050101UK31")
			end := strings.Index(s, "</hl7:PORX_IN050101UK31>")
			if start < 0 || end < start {
				t.Fatalf("%s: no PORX_IN050101UK31 in it", c.file)
			}
			tests = append(tests, struct{ name, payload, result, code, rx string }{
				"corpus " + c.file, s[start : end+len("</hl7:PORX_IN050101UK31>")], c.result, c.code, ""})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for reader, f := range map[string]payloadFacts{"readV3": readV3(tt.payload), "readV3Tree": readV3Tree(tt.payload)} {
				if f.outcome == nil || f.outcome.Result != tt.result || f.outcome.Code != tt.code {
					t.Errorf("%s: outcome %+v, want %s %s", reader, f.outcome, tt.result, tt.code)
				}
				if tt.rx != "" && (len(f.ids.PrescriptionIDs) != 1 || f.ids.PrescriptionIDs[0] != tt.rx) {
					t.Errorf("%s: prescription ids %v", reader, f.ids.PrescriptionIDs)
				}
			}
		})
	}
}
