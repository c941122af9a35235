package claim_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestEPSCannotTake: a claim whose dispenser (legalAuthenticator
// AgentPerson) has no telecom, which the MIM allows, makes a Claim EPS's
// translation fails on; the refusal names the element, without a MIM rule.
// The project's claims and EPS-shaped Claims pass.
func TestEPSCannotTake(t *testing.T) {
	env := core.Env{NewID: func() string { return "00000000-0000-4000-8000-000000000001" }}
	const dispenserTelecom = `<telecom use="WP" value="tel:01632960123"/>`
	for _, name := range []string{"claim-nothing-dispensed.xml", "claim-exemption-evidence.xml", "claim-mixed-supplies.xml"} {
		t.Run(name, func(t *testing.T) {
			msg := string(maptest.Testdata(t, "claim/"+name))
			for _, tc := range []struct {
				name, v3 string
				refused  bool
			}{
				{"as written", msg, false},
				{"without the dispenser's telecom", strings.Replace(strings.Replace(msg, dispenserTelecom, "", 1), strings.ReplaceAll(dispenserTelecom, "/>", " />"), "", 1), true},
			} {
				if tc.refused && tc.v3 == msg {
					t.Fatal("fixture lacks the dispenser's telecom")
				}
				body, _, err := claim.ClaimToFHIR([]byte(tc.v3), env)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				err = claim.EPSCannotTake(v3.DispenseClaimInformation, body)
				var ve *v3.Error
				switch {
				case !tc.refused && err != nil:
					t.Errorf("%s: EPSCannotTake = %v, want nil", tc.name, err)
				case tc.refused && (!errors.As(err, &ve) || !strings.HasSuffix(ve.Path, "/legalAuthenticator/AgentPerson/telecom")):
					t.Errorf("%s: EPSCannotTake = %v, want the dispenser's telecom named", tc.name, err)
				case tc.refused && strings.Contains(err.Error(), "MIM rule"):
					t.Errorf("%s: %q names a MIM rule; the MIM allows the message", tc.name, err)
				}
			}
		})
	}
	for _, name := range []string{"Claim--not-dispensed.json", "Claim--endorsements-with-text.json", "Amend--claim-amend.json"} {
		if err := claim.EPSCannotTake(v3.DispenseClaimInformation, maptest.Testdata(t, "eps-fhir/"+name)); err != nil {
			t.Errorf("%s: %v, want nil (an EPS-shaped Claim)", name, err)
		}
	}
}
