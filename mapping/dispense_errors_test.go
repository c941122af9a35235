package mapping_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/task"
)

// dispV3ErrorCase is a malformed v3 message made by replacing old with new in a
// dispFixture, and what the error must say.
type dispV3ErrorCase struct {
	name     string
	old, new string
	want     []string
	all      bool
}

// dispRunV3Errors checks that each malformed message fails with an error naming
// the interaction and the element path.
func dispRunV3Errors(t *testing.T, toFHIR func([]byte, core.Env) ([]byte, core.Meta, error), base string, cases []dispV3ErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.old != "" && !strings.Contains(base, tc.old) {
				t.Fatalf("fixture lacks %q", tc.old)
			}
			msg := base
			switch {
			case tc.all:
				msg = strings.ReplaceAll(base, tc.old, tc.new)
			case tc.old != "":
				msg = strings.Replace(base, tc.old, tc.new, 1)
			default:
				msg = tc.new
			}
			_, _, err := toFHIR([]byte(msg), dispTestEnv())
			if err == nil {
				t.Fatal("want an error, got none")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

const dnLI = "/PORX_IN080101UK31/ControlActEvent/subject/DispenseNotification/pertinentInformation1/pertinentSupplyHeader/pertinentInformation1[1]/pertinentSuppliedLineItem"

func TestDispenseV3Malformed(t *testing.T) {
	base := string(maptest.Testdata(t, "dispense/dn-full-two-items.xml"))
	dispRunV3Errors(t, dispense.DispenseToFHIR, base, []dispV3ErrorCase{
		{"not xml", "", "<PORX_IN080101UK31", []string{"not well-formed"}, false},
		{"wrong namespace", `xmlns="urn:hl7-org:v3"`, `xmlns="urn:other"`, []string{"namespace"}, false},
		{"wrong interaction", "", `<?xml version="1.0"?><PORX_IN090101UK31 xmlns="urn:hl7-org:v3"/>`, []string{"PORX_IN090101UK31", "not a Dispense Notification"}, false},
		{"missing supply header id", `<id root="A1000000-0000-4000-8000-000000000001" />
            <code code="225426007"`, `<code code="225426007"`,
			[]string{"PORX_IN080101UK31", "pertinentSupplyHeader/id", "missing mandatory element"}, false},
		{"bad repeat number", `<author contextControlCode="OP" typeCode="AUT">`, `<repeatNumber><low value="x"/><high value="2"/></repeatNumber><author contextControlCode="OP" typeCode="AUT">`, []string{"pertinentSupplyHeader/repeatNumber/low", "whole number"}, false},
		{"unknown item status code system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.23" displayName="Item fully dispensed"`,
			`codeSystem="2.16.840.1.113883.2.1.3.2.4.99" displayName="Item fully dispensed"`,
			[]string{dnLI + "/pertinentInformation3/pertinentItemStatus/value", "codeSystem"}, false},
		{"dose quantity not supported", `<consumable`, `<doseQuantity value="1"/><consumable`, []string{dnLI + "/doseQuantity", "unexpected element"}, false},
		{"wrong typeCode", `<recordTarget typeCode="RCT">`, `<recordTarget typeCode="XYZ">`, []string{"recordTarget", "typeCode"}, false},
		{"translation differs", `displayName="tablet" value="32" />`, `displayName="tablet" value="33" />`, []string{"translation", "differs"}, false},
		{"bad effective time", `<effectiveTime value="20240311091500" />`, `<effectiveTime value="2024-03-11" />`, []string{"DispenseNotification/effectiveTime", "v3 timestamp"}, false},
		{"missing release event", "priorPrescriptionReleaseEventRef", "priorReleaseEventRef", []string{"DispenseNotification/sequelTo/priorReleaseEventRef", "unexpected element"}, true},
	})
}

func TestClaimV3Malformed(t *testing.T) {
	base := string(maptest.Testdata(t, "claim/claim-exemption-evidence.xml"))
	dispRunV3Errors(t, claim.ClaimToFHIR, base, []dispV3ErrorCase{
		{"not xml", "", "<<", []string{"not well-formed"}, false},
		{"wrong interaction", "", `<PORX_IN080101UK31 xmlns="urn:hl7-org:v3"/>`, []string{"not a Dispense Claim Information"}, false},
		{"exemption negation inconsistent", `<coveringChargeExempt classCode="OBS" moodCode="EVN" negationInd="false">`, `<coveringChargeExempt classCode="OBS" moodCode="EVN" negationInd="true">`, []string{"coveringChargeExempt", "negationInd"}, false},
		{"charge not boolean", `<code code="CP" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
                        <value value="false" />`, `<code code="CP" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
                        <value value="maybe" />`, []string{"pertinentChargePayment/value"}, false},
		{"missing legal authenticator", "legalAuthenticator", "legalAuthenticatorX", []string{"PORX_IN090101UK31", "pertinentSupplyHeader/legalAuthenticatorX", "unexpected element"}, true},
	})
}

func TestReturnWithdrawV3Malformed(t *testing.T) {
	dispRunV3Errors(t, task.ReturnToFHIR, string(maptest.Testdata(t, "return/return-erd.xml")), []dispV3ErrorCase{
		{"repeat not a number", `<value value="2" />`, `<value value="two" />`, []string{"PORX_IN100101UK31", "pertinentRepeatInstanceInfo/value"}, false},
		{"return reason code system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.16.28"`, `codeSystem="1.2.3"`, []string{"pertinentReturnReason/value"}, false},
	})
	dispRunV3Errors(t, task.WithdrawToFHIR, string(maptest.Testdata(t, "withdraw/withdraw-erd.xml")), []dispV3ErrorCase{
		{"missing NHS number root", `root="2.16.840.1.113883.2.1.4.1"`, `root="1.2.3"`, []string{"PORX_IN510101UK31", "recordTarget/patient/id"}, false},
		{"missing withdraw reason", "pertinentInformation5", "pertinentInformation6", []string{"ETPWithdraw/pertinentInformation"}, true},
	})
}

func TestRebuildReimbursementV3Malformed(t *testing.T) {
	dispRunV3Errors(t, dispense.RebuildToFHIR, string(maptest.Testdata(t, "rebuild/rebuild-540101.xml")), []dispV3ErrorCase{
		{"no components", "", `<PORX_IN540101UK31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN540101UK31>`, []string{"PORX_IN540101UK31", "missing mandatory element"}, false},
		{"bad sequence", `<sequenceNumber value="1" />`, `<sequenceNumber value="one" />`, []string{"component[1]/sequenceNumber", "whole number"}, false},
		{"nested notification error", `<recordTarget typeCode="RCT">`, `<recordTarget typeCode="RCX">`, []string{"component[1]/DispenseNotification/recordTarget"}, false},
	})
	dispRunV3Errors(t, claim.ReimbursementToFHIR, string(maptest.Testdata(t, "claim/noclaim-460101.xml")), []dispV3ErrorCase{
		{"unknown embedded message", "DispenseNotification", "Other", []string{"PORX_IN460101UK31", "component4/Other", "unsupported embedded message"}, true},
		{"replacement not boolean", `<code code="RPL" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
            <value value="true" />`, `<code code="RPL" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30" />
            <value value="yes" />`, []string{"pertinentReplacementInd/value"}, false},
		{"missing prescription", "component1", "componentX", []string{"ReimbursmentClaim/componentX", "unexpected element"}, true},
	})
}
