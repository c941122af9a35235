package claim_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

func TestClaimV3Malformed(t *testing.T) {
	base := string(maptest.Testdata(t, "claim/claim-exemption-evidence.xml"))
	dispensetest.RunV3Errors(t, claim.ClaimToFHIR, base, []dispensetest.V3ErrorCase{
		{Name: "not xml", Old: "", New: "<<", Want: []string{"not well-formed"}, All: false},
		{Name: "wrong interaction", Old: "", New: `<PORX_IN080101UK31 xmlns="urn:hl7-org:v3"/>`, Want: []string{"not a Dispense Claim Information"}, All: false},
		{Name: "exemption negation inconsistent", Old: `<coveringChargeExempt classCode="OBS" moodCode="EVN" negationInd="false">`, New: `<coveringChargeExempt classCode="OBS" moodCode="EVN" negationInd="true">`, Want: []string{"coveringChargeExempt", "negationInd"}, All: false},
		{Name: "charge not boolean", Old: `<code code="CP" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
                        <value value="false" />`, New: `<code code="CP" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
                        <value value="maybe" />`, Want: []string{"pertinentChargePayment/value"}, All: false},
		{Name: "missing legal authenticator", Old: "legalAuthenticator", New: "legalAuthenticatorX", Want: []string{"PORX_IN090101UK31", "pertinentSupplyHeader/legalAuthenticatorX", "unexpected element"}, All: true},
	})
}

func TestReimbursementV3Malformed(t *testing.T) {
	dispensetest.RunV3Errors(t, claim.ReimbursementToFHIR, string(maptest.Testdata(t, "claim/noclaim-460101.xml")), []dispensetest.V3ErrorCase{
		{Name: "unknown embedded message", Old: "DispenseNotification", New: "Other", Want: []string{"PORX_IN460101UK31", "component4/Other", "unsupported embedded message"}, All: true},
		{Name: "replacement not boolean", Old: `<code code="RPL" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
            <value value="true" />`, New: `<code code="RPL" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
            <value value="yes" />`, Want: []string{"pertinentReplacementInd/value"}, All: false},
		{Name: "missing prescription", Old: "component1", New: "componentX", Want: []string{"ReimbursmentClaim/componentX", "unexpected element"}, All: true},
	})
}

// TestClaimV3RepeatedElements: every element the PORX_MT142001UK31 schema
// allows once is refused when it comes twice, naming the second. Before,
// the reader took the first and dropped the other unsaid: a second charge
// exemption, charge payment, item status or replacementOf never reached EPS
// and nobody was told, where the schema, and Spine with it, refuses the claim.
func TestClaimV3RepeatedElements(t *testing.T) {
	const dc = "ControlActEvent/subject/DispenseClaim"
	sh := dc + "/pertinentInformation1/pertinentSupplyHeader"
	li := sh + "/pertinentInformation1/pertinentSuppliedLineItem"
	q := li + "/component/suppliedLineItemQuantity"
	dispensetest.RunV3Repeats(t, claim.ClaimToFHIR, string(maptest.Testdata(t, "claim/claim-mixed-supplies.xml")), []string{
		dc + "/id", dc + "/effectiveTime", dc + "/primaryInformationRecipient", dc + "/receiver", dc + "/pertinentInformation1",
		dc + "/pertinentInformation2", dc + "/replacementOf", dc + "/coverage", dc + "/sequelTo",
		dc + "/receiver/agent", dc + "/receiver/agent/agentPerson", dc + "/receiver/agent/agentPerson/name", dc + "/receiver/agent/agentPerson/telecom",
		dc + "/pertinentInformation2/pertinentReimbursementClaimRejectRef",
		dc + "/coverage/coveringChargeExempt", dc + "/coverage/coveringChargeExempt/value", dc + "/coverage/coveringChargeExempt/authorization",
		dc + "/coverage/coveringChargeExempt/authorization/authorizingEvidenceSeen",
		dc + "/pertinentInformation1/pertinentSupplyHeader",
		sh + "/id", sh + "/repeatNumber", sh + "/legalAuthenticator", sh + "/pertinentInformation3", sh + "/pertinentInformation4",
		sh + "/inFulfillmentOf", sh + "/predecessor", sh + "/legalAuthenticator/time", sh + "/legalAuthenticator/AgentPerson",
		sh + "/pertinentInformation1/pertinentSuppliedLineItem",
		li + "/id", li + "/repeatNumber", li + "/pertinentInformation1", li + "/pertinentInformation3", li + "/inFulfillmentOf", li + "/predecessor",
		li + "/component/suppliedLineItemQuantity", q + "/quantity", q + "/product", q + "/pertinentInformation1",
		q + "/pertinentInformation2/pertinentDispensingEndorsement/text", li + "/pertinentInformation2",
	})
}

// TestClaimReplacementOfTarget: an amended claim's replacementOf target is a
// 36-character GUID, as Spine's schematron for PORX_IN090101UK31 asserts
// ("replacementOf target must be a 36-character GUID"). Before, porxgate
// took any root and sent EPS an amendment naming no claim.
func TestClaimReplacementOfTarget(t *testing.T) {
	const target = `<id root="D1000000-0000-4000-8000-0000000000CC" />`
	dispensetest.RunV3Errors(t, claim.ClaimToFHIR, string(maptest.Testdata(t, "claim/claim-mixed-supplies.xml")), []dispensetest.V3ErrorCase{
		{Name: "no hyphens", Old: target, New: `<id root="D100000000004000800000000000000CC" />`,
			Want: []string{"PORX_IN090101UK31", "DispenseClaim/replacementOf/priorMessageRef/id/@root", "36-character GUID"}},
		{Name: "OID", Old: target, New: `<id root="1.2.826.0.1285.0.1.10" />`,
			Want: []string{"DispenseClaim/replacementOf/priorMessageRef/id/@root", "36-character GUID"}},
	})
}

// TestReimbursementV3RepeatedElements: the ReimbursmentClaim batch
// (PORX_MT142006UK31) holds each of its parts once; a second prescription,
// notification or replacement indicator is refused, naming it, where the
// reader took the first and dropped the other.
func TestReimbursementV3RepeatedElements(t *testing.T) {
	const r = "ControlActEvent/subject/ReimbursmentClaim"
	dispensetest.RunV3Repeats(t, claim.ReimbursementToFHIR, string(maptest.Testdata(t, "claim/noclaim-460101.xml")), []string{
		r + "/id", r + "/effectiveTime", r + "/component1", r + "/component4", r + "/pertinentInformation",
	})
	dispensetest.RunV3Repeats(t, claim.ReimbursementToFHIR, string(maptest.Testdata(t, "claim/reimbursement-370101.xml")), []string{
		r + "/component2",
	})
}
