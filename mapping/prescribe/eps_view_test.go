package prescribe

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// TestEPSParentPrescriptionWithoutIdentifier checks that the simulator's
// and the signature guard's view of a prescription-order Bundle refuses
// one without Bundle.identifier, as PrescribeToV3 does, instead of
// panicking on it (it did: WriteParentPrescription read the identifier
// that PrescribeToV3 alone had checked).
func TestEPSParentPrescriptionWithoutIdentifier(t *testing.T) {
	for _, name := range []string{"acute-nurse-controlled-drug-unsigned.json", "repeat-dispensing-pharmacist-endorsed.json"} {
		body := editBundle(t, fixture(t, name), func(b map[string]any) { delete(b, "identifier") })
		want := "PORX_IN020101UK31: Bundle.identifier: missing mandatory identifier"
		if _, err := PrescribeToV3(body, core.Meta{}, core.FixedEnv()); err == nil || err.Error() != want {
			t.Errorf("%s: PrescribeToV3: %v, want %s", name, err, want)
		}
		if _, err := EPSParentPrescription(body, core.FixedEnv()); err == nil || err.Error() != want {
			t.Errorf("%s: EPSParentPrescription: %v, want %s", name, err, want)
		}
	}
}
