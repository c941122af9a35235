package release_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/ack"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestReleaseRejectionHoldingOrganisationAsEPS: the EPS API names the
// holding dispenser only for PRESCRIPTION_WITH_ANOTHER_DISPENSER (…16.34
// 0004), as a contained Organization referenced by
// Extension-Spine-supportingInfo, and when Spine names no performer it
// contains a placeholder Organization named UNKNOWN with ODS code UNKNOWN
// (spine-response-handler.ts ReleaseRejectionHandler.handleErrorResponse,
// getOrganizationInfo). porxgate's outcome has the same shape, still gives
// the v3 back exactly, and EPS's placeholder never becomes a performer in
// the rejection the legacy side gets.
func TestReleaseRejectionHoldingOrganisationAsEPS(t *testing.T) {
	rejection := string(maptest.Testdata(t, "release/release-rejection-110101-with-another-dispenser.xml"))
	const withAnother = `<value code="0004" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.34" displayName="Prescription is with another dispenser"/>`
	if !strings.Contains(rejection, withAnother) {
		t.Fatal("test message changed")
	}
	expired := strings.Replace(rejection, withAnother, `<value code="0002" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.34" displayName="Prescription has expired"/>`, 1)
	i := strings.Index(rejection, "<performer ")
	j := strings.Index(rejection, "</performer>") + len("</performer>")
	noPerformer := rejection[:i] + strings.TrimLeft(rejection[j:], " \n")

	t.Run("0002 with a performer names no organisation", func(t *testing.T) {
		body, _ := relRoundTrip(t, []byte(expired))
		oo := decodeOutcomeT(t, body)
		if len(oo.Contained) != 0 || fhir.FindExtension(oo.Extension, core.ExtensionSpineSupportingInfo) != nil {
			t.Errorf("rejection 0002: contained %d, supportingInfo present; want neither (EPS names the holder only for 0004)", len(oo.Contained))
		}
	})
	var unknownOutcome []byte
	t.Run("0004 without a performer names EPS's UNKNOWN organisation", func(t *testing.T) {
		body, _ := relRoundTrip(t, []byte(noPerformer))
		oo := decodeOutcomeT(t, body)
		if len(oo.Contained) != 1 {
			t.Fatalf("contained = %d, want EPS's placeholder Organization: %s", len(oo.Contained), body)
		}
		org, ok := oo.Contained[0].(*fhir.Organization)
		if !ok || org.Name != "UNKNOWN" || fhir.FindIdentifier(org.Identifier, fhir.SystemODS) != "UNKNOWN" {
			t.Errorf("contained = %+v, want Organization UNKNOWN with ODS code UNKNOWN", oo.Contained[0])
		}
		ext := fhir.FindExtension(oo.Extension, core.ExtensionSpineSupportingInfo)
		if ext == nil || ext.ValueReference == nil || ext.ValueReference.Reference != "#"+org.ID {
			t.Errorf("supportingInfo = %+v, want a reference to #%s", ext, org.ID)
		}
		unknownOutcome = body
	})
	t.Run("EPS's UNKNOWN organisation writes no performer", func(t *testing.T) {
		if unknownOutcome == nil {
			t.Skip("needs the previous case")
		}
		// EPS's own outcome: without porxgate's extensions and urn:oid coding.
		oo := decodeOutcomeT(t, unknownOutcome)
		oo.Extension = []fhir.Extension{*fhir.FindExtension(oo.Extension, core.ExtensionSpineSupportingInfo)}
		oo.Issue[0].Details.Coding = oo.Issue[0].Details.Coding[:1]
		body, err := fhir.Marshal(oo)
		if err != nil {
			t.Fatal(err)
		}
		req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
		got, out, err := release.ReleaseAnswerFromEPS(req, body, 400, release.ReleaseReplyEnds{}, relEnv())
		if err != nil {
			t.Fatal(err)
		}
		if out.Rejection == nil || out.Rejection.Code != "0004" {
			t.Errorf("rejection = %+v, want 0004", out.Rejection)
		}
		if strings.Contains(string(got), "<performer") || strings.Contains(string(got), "UNKNOWN") || out.DispenserODS != "" {
			t.Errorf("EPS's placeholder became a performer (dispenser %q):\n%s", out.DispenserODS, got)
		}
	})
}

// TestReleaseAnswerAcknowledgementCodesOnly: Spine refuses a release request
// it cannot take as a message (a duplicate message id) with an MCCI AR whose
// acknowledgementDetail is …17.32 202; the EPS API passes the code through
// as a Spine-ErrorOrWarningCode (spine-response-handler.ts
// toUnhandledMessageTypeErrorCode; confirmed with the official translator).
// Such an answer is not a release rejection: ReleaseAnswerFromEPS refuses
// it, so that the gateway answers with AckFromOutcome's AR 202, as Spine.
func TestReleaseAnswerAcknowledgementCodesOnly(t *testing.T) {
	oo := &fhir.OperationOutcome{Base: fhir.Base{ResourceType: "OperationOutcome"}, Issue: []fhir.Issue{
		maptest.Issue("error", "invalid", fhir.CodeSystemSpineErrorOrWarning, "202", "Duplicate HL7 ID Error", "")}}
	body, err := fhir.Marshal(oo)
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	if got, out, err := release.ReleaseAnswerFromEPS(req, body, 400, release.ReleaseReplyEnds{}, relEnv()); err == nil {
		t.Fatalf("ReleaseAnswerFromEPS made %s (reason %+v) of an acknowledgement code alone:\n%s", out.Interaction, out.Rejection, got)
	}
	a, _, err := ack.AckFromOutcome(oo, 400, ack.AckRequest{RequestID: "R", Interaction: v3.NominatedReleaseRequest, SenderASID: "1", ReceiverASID: "2"}, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := []core.SpineCode{{System: v3.OIDAckDetailCode, Code: "202", Display: "Duplicate HL7 ID Error", Severity: core.AckSeverityError}}
	if a.TypeCode != core.AckRejected || !reflect.DeepEqual(a.Details, want) || a.Reasons != nil {
		t.Errorf("AckFromOutcome = %s %+v %+v, want AR %+v", a.TypeCode, a.Details, a.Reasons, want)
	}
}

// TestReleaseRejectionLineEnds: EPS's free text (a passed-through Spine
// displayName, diagnostics) may end its lines with CR LF, which no XML
// receiver reads back as written; the rejection carries line feeds.
func TestReleaseRejectionLineEnds(t *testing.T) {
	iss := maptest.Issue("error", "processing", fhir.CodeSystemSpineErrorOrWarning, "FAILURE_TO_PROCESS_MESSAGE",
		"Unable to process message. Information missing or invalid - one\r\ntwo", "first\r\nsecond\rthird")
	body, err := fhir.Marshal(&fhir.OperationOutcome{Base: fhir.Base{ResourceType: "OperationOutcome"}, Issue: []fhir.Issue{iss}})
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "release/nominated-release-request-060102.xml")
	got, out, err := release.ReleaseAnswerFromEPS(req, body, 400, release.ReleaseReplyEnds{}, relEnv())
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(string(got), '\r') {
		t.Errorf("rejection holds a carriage return:\n%q", got)
	}
	if want := "Unable to process message. Information missing or invalid - one\ntwo"; out.Rejection == nil || out.Rejection.Display != want {
		t.Errorf("reason = %+v, want display %q", out.Rejection, want)
	}
}
