package cancel

import (
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelResponseOptionalParts: a Cancel Response without what
// PORX_MT135201UK31 makes optional (the line item ref, pertinentInformation1
// 0..1, as Spine and porxgate's own CancelRefusal answer the cancellation
// of a whole prescription; the responsible party 0..1; the response's code
// CV 0..1) is read, as the EPS API reads it: the MedicationRequest has no
// line-item identifier, the requester is the cancel requester; and FHIR ->
// v3 gives the very message back. Before, the reader refused each as a
// missing mandatory element, porxgate's own refusal included.
func TestCancelResponseOptionalParts(t *testing.T) {
	req := string(cancelFixture(t, "cancel_request_uk.xml"))
	whole := regexp.MustCompile(`(?s)\s*<pertinentInformation1 .*?</pertinentInformation1>`).ReplaceAllString(req, "")
	oo := &fhir.OperationOutcome{Issue: []fhir.Issue{{Severity: "error", Code: "value",
		Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.CodeSystemSpineErrorOrWarning, Code: "INVALID_VALUE", Display: "Invalid value"}}}}}}
	env := core.FixedEnv()
	refusal, err := CancelRefusal([]byte(whole), oo, CancelReplyEnds{SenderASID: "990101234567"}, env)
	if err != nil {
		t.Fatal(err)
	}
	lined, err := CancelRefusal([]byte(req), oo, CancelReplyEnds{SenderASID: "990101234567"}, env)
	if err != nil {
		t.Fatal(err)
	}
	// The same response, the cancellation made (0001, AA).
	success := strings.NewReplacer(`typeCode="AE"`, `typeCode="AA"`).Replace(
		regexp.MustCompile(`code="5000" displayName="[^"]*"`).ReplaceAllString(string(lined), `code="0001" displayName="Prescription/item was cancelled"`))
	cut := func(s, re string) string { return regexp.MustCompile(re).ReplaceAllString(s, "") }
	noLine := cut(success, `(?s)\s*<pertinentInformation1 .*?</pertinentInformation1>`)
	const respParty = `(?s)\s*<responsibleParty contextControlCode="OP" typeCode="RESP">.*?</responsibleParty>`
	noResp := cut(success, respParty)
	noCode := cut(success, `\s*<code code="CRR"[^>]*/>`)
	for _, tc := range []struct {
		name              string
		msg               string
		lineItem, outcome bool
		// requesterIsAuthor: the MedicationRequest's requester (the
		// prescriber) is the cancel requester.
		requesterIsAuthor bool
	}{
		{"porxgate's refusal of a whole-prescription cancellation", string(refusal), false, true, false},
		{"all parts", success, true, false, false},
		{"no line item", noLine, false, false, false},
		{"no responsible party", noResp, true, false, true},
		{"no response code", noCode, true, false, false},
		{"none of them", cut(cut(noLine, respParty), `\s*<code code="CRR"[^>]*/>`), false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "all parts" && !tc.outcome && tc.msg == success {
				t.Fatal("the case changes nothing")
			}
			body, meta, err := CancelResponseToFHIR([]byte(tc.msg), env)
			if err != nil {
				t.Fatalf("refused: %v\n%s", err, tc.msg)
			}
			res, err := fhir.DecodeResource(body)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := res.(*fhir.OperationOutcome); ok != tc.outcome {
				t.Fatalf("an OperationOutcome: %v, want %v", ok, tc.outcome)
			}
			if !tc.outcome {
				b := res.(*fhir.Bundle)
				mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
				if len(mrs) != 1 {
					t.Fatalf("%d MedicationRequests", len(mrs))
				}
				mr := mrs[0]
				if got := len(mr.Identifier) > 0; got != tc.lineItem {
					t.Errorf("line-item identifier: %v, want %v (%v)", got, tc.lineItem, mr.Identifier)
				}
				ext := fhir.FindExtension(mr.Extension, core.ExtensionResponsiblePractitioner)
				if ext == nil || ext.ValueReference == nil || mr.Requester == nil {
					t.Fatalf("no requester or cancel requester (%v, %v)", ext, mr.Requester)
				}
				if got := ext.ValueReference.Reference == mr.Requester.Reference; got != tc.requesterIsAuthor {
					t.Errorf("the requester is the cancel requester: %v, want %v", got, tc.requesterIsAuthor)
				}
				if mr.Status != "cancelled" {
					t.Errorf("status %q, want cancelled", mr.Status)
				}
			}
			back, err := CancelResponseToV3(body, meta, env)
			if err != nil {
				t.Fatalf("FHIR -> v3: %v", err)
			}
			if d, err := v3.Compare([]byte(tc.msg), back, v3.Rules{FHIRRequest: []byte(tc.msg)}); err != nil || d != nil {
				t.Errorf("v3 -> FHIR -> v3 differs: %v %v\n%s", d, err, back)
			}
		})
	}
}
