package cancel

import (
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestCancelRefusal: a Cancel Request porxgate cannot map is answered as
// Spine answers one it cannot process, with a Cancel Response AE 5000
// "Unable to process message. Information missing or invalid - <what>"
// repeating the request's people and ids (no line item for a cancellation
// of the whole prescription); one without what a Cancel Response repeats
// cannot be answered so.
func TestCancelRefusal(t *testing.T) {
	req := string(cancelFixture(t, "cancel_request_uk.xml"))
	oo := &fhir.OperationOutcome{Issue: []fhir.Issue{{Severity: "error", Code: "value",
		Details:     &fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.CodeSystemSpineErrorOrWarning, Code: "INVALID_VALUE", Display: "Invalid value"}}},
		Diagnostics: "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest/pertinentInformation1: missing"}}}
	cut := func(re string) func(string) string {
		return func(s string) string { return regexp.MustCompile(re).ReplaceAllString(s, "") }
	}
	cases := []struct {
		name     string
		edit     func(string) string
		lineItem bool
		wantErr  string
	}{
		{"line item", func(s string) string { return s }, true, ""},
		{"whole prescription", cut(`(?s)\s*<pertinentInformation1 .*?</pertinentInformation1>`), false, ""},
		{"no patient", cut(`(?s)\s*<recordTarget .*?</recordTarget>`), true, "the patient or a person is missing"},
		{"no prescription id", cut(`(?s)\s*<pertinentInformation2 .*?</pertinentInformation2>`), true, "pertinentInformation2: missing"},
		{"not a cancel request", func(s string) string { return strings.ReplaceAll(s, "PORX_IN030101UK32", "PORX_IN020101UK31") }, true, "is not a cancel request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.edit(req)
			if tc.name != "line item" && in == req {
				t.Fatal("the case changes nothing")
			}
			msg, err := CancelRefusal([]byte(in), oo, CancelReplyEnds{SenderASID: "990101234567"}, core.FixedEnv())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := string(msg)
			for _, want := range []string{"<PORX_IN050101UK31 ", `<acknowledgement typeCode="AE">`, `extension="918273645546"`,
				`code="5000" displayName="Unable to process message. Information missing or invalid - /PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest/pertinentInformation1: missing"`,
				`extension="7D3E21-B86019-4A2C9F"`, `<id root="0E5D4C3B-2A19-4F08-8E7D-6C5B4A392817"/>`} {
				if !strings.Contains(s, want) {
					t.Errorf("refusal lacks %s\n%s", want, s)
				}
			}
			if got := strings.Contains(s, "<pertinentLineItemRef "); got != tc.lineItem {
				t.Errorf("refusal names a line item: %v, want %v\n%s", got, tc.lineItem, s)
			}
			for _, part := range []string{"recordTarget", "author"} {
				want := payloadOf(t, []byte(in), "ControlActEvent", "subject", "CancellationRequest", part)
				got := payloadOf(t, msg, "ControlActEvent", "subject", "CancellationResponse", part)
				if !core.SameElement(want.ChildElements()[0], got.ChildElements()[0], nil) {
					t.Errorf("%s differs from the request's", part)
				}
			}
		})
	}
}
