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
