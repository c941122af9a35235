package claim_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
)

// TestClaimPatient: ClaimPatientAbsent finds a Claim whose patient is still
// to be looked up (and its prescription), ClaimWithPatient names it; input
// that is not a Claim is refused with a reason.
func TestClaimPatient(t *testing.T) {
	body, _, err := claim.ClaimToFHIR(maptest.Testdata(t, "claim/claim-mixed-supplies.xml"), core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	absent, shortID, err := claim.ClaimPatientAbsent(body)
	if err != nil || !absent || shortID == "" {
		t.Fatalf("ClaimPatientAbsent = %v, %q, %v; want true, a short-form id, nil", absent, shortID, err)
	}
	named, err := claim.ClaimWithPatient(body, "9449305552")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(named), `"patient":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}}`) {
		t.Errorf("patient not named:\n%s", named)
	}
	if absent, _, err := claim.ClaimPatientAbsent(named); err != nil || absent {
		t.Errorf("named Claim still absent: %v, %v", absent, err)
	}
	if _, err := claim.ClaimToV3(named, core.Meta{}, core.FixedEnv()); err != nil {
		t.Errorf("named Claim no longer maps to v3: %v", err)
	}
	for name, bad := range map[string]string{
		"not JSON":      `{"resourceType":`,
		"not a Claim":   `{"resourceType":"Task","status":"in-progress"}`,
		"empty":         ``,
		"array":         `[]`,
		"unknown type":  `{"resourceType":"Nonsense"}`,
		"patient a num": `{"resourceType":"Claim","patient":42}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := claim.ClaimPatientAbsent([]byte(bad)); err == nil {
				t.Error("no error")
			}
			if _, err := claim.ClaimWithPatient([]byte(bad), "9449305552"); err == nil {
				t.Error("no error")
			}
		})
	}
}
