package prescribe

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestDocumentSizeFits checks that the writer's buffer is made large enough
// for what it writes (so it never grows) without being much larger, on the
// project's own prescriptions and the corpus's.
func TestDocumentSizeFits(t *testing.T) {
	bundles := ownPrescriptions(t)
	reqs, _ := sendPairs(t)
	for i, raw := range append(bundles, reqs...) {
		b, err := fhir.ParseBundle(raw)
		if err != nil {
			t.Fatal(err)
		}
		env := core.FixedEnv()
		p, err := buildPrescription(nil, b, prescribeInteraction(core.Meta{}, env), core.Meta{}, env)
		if err != nil {
			t.Fatal(err)
		}
		size, out := core.DocumentSize(p.doc), core.WriteIndented(p.doc)
		if len(out) > size || size > len(out)+len(out)/50+64 {
			t.Errorf("message %d: %d bytes written, %d estimated", i, len(out), size)
		}
	}
}
