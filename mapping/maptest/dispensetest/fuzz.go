package dispensetest

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// FuzzV3 is the body of a v3 → FHIR fuzz target: tr's v3 reader must not
// panic on data, and whatever FHIR it makes of data must write back to v3.
func FuzzV3(t *testing.T, tr *core.Translator, data []byte) {
	t.Helper()
	body, meta, err := tr.ToFHIR(data, Env())
	if err != nil {
		return
	}
	if _, err := tr.ToV3(body, meta, Env()); err != nil {
		t.Fatalf("v3 accepted but its FHIR is rejected: %v\nFHIR: %s", err, body)
	}
}

// FuzzFHIR is the body of a FHIR → v3 fuzz target: tr's FHIR reader must
// not panic on data; an error is a fine answer.
func FuzzFHIR(tr *core.Translator, data []byte) {
	_, _ = tr.ToV3(data, core.Meta{}, Env())
}
