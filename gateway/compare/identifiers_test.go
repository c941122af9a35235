package compare

import (
	"testing"
)

// cancelResponseWithDispenser builds a cancel response "not cancelled:
// with dispenser" naming the dispenser's role profile and user (SDS ids,
// twelve digits, which the cancel request does not carry) and the time the
// dispenser took the prescription.
func cancelResponseWithDispenser(roleProfile, user, taken string) string {
	return `<PORX_IN050101UK31 xmlns="urn:hl7-org:v3"><id root="11111111-0000-4000-8000-000000000001"/><creationTime value="20260301101502"/>
<ControlActEvent><subject><CancellationResponse><effectiveTime value="20260301101502"/><performer><time value="` + taken + `"/><AgentPerson>
<id root="1.2.826.0.1285.0.2.0.67" extension="` + roleProfile + `"/><agentPerson><id root="1.2.826.0.1285.0.2.0.65" extension="` + user + `"/></agentPerson>
<representedOrganization><id root="1.2.826.0.1285.0.1.10" extension="FLL14"/></representedOrganization></AgentPerson></performer>
<pertinentInformation3><pertinentResponse><value code="0005" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.19"/></pertinentResponse></pertinentInformation3>
</CancellationResponse></subject></ControlActEvent></PORX_IN050101UK31>`
}

// TestCompareTwelveDigitIdentifiers: an SDS user or role profile id is
// twelve digits, the shape of an HL7 timestamp to the minute
// (YYYYMMDDHHMM). Not in the request, it was taken for a fresh timestamp
// and compared only as "<timestamp>", so that a cancel response naming
// another dispenser matched. Only a TS (an element's value attribute)
// that reads as a date and time is a timestamp.
func TestCompareTwelveDigitIdentifiers(t *testing.T) {
	base := cancelResponseWithDispenser("555050322107", "131167442519", "20201216113208")
	tests := []diffCase{
		{"another time the dispenser took it", cancelResponseWithDispenser("555050322107", "131167442519", "20201216120000"), nil},
		{"another role profile", cancelResponseWithDispenser("555050322999", "131167442519", "20201216113208"),
			[]string{"AgentPerson/id@extension: a has 555050322107, b has 555050322999"}},
		{"another user", cancelResponseWithDispenser("555050322107", "131167442000", "20201216113208"),
			[]string{"agentPerson/id@extension: a has 131167442519, b has 131167442000"}},
	}
	runDiffCases(t, base, tests)
}
