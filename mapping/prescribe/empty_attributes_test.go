package prescribe

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
)

// TestPrescriptionRefusesEmptyAttributes empties, one at a time, every
// attribute of the ParentPrescription of up to eight Send messages (the corpus's,
// or porxgate's v3 of the project's own prescriptions) and wants each
// variant refused, as the dispensing readers refuse theirs
// (mapping.TestDispensingRefusesEmptyAttributes): an id's root or
// extension, a time, a number, a code or a display name is never empty in
// the schemas, so Spine refuses such a prescription. A use or qualifier (a
// set of codes) and a telecom's value (a url) may be empty and are read as
// absent; the signature's xmldsig elements are not HL7 v3's and are passed
// over (an enveloped signature's Reference URI="" is valid). Before, the
// reader took 4,615 of the emptied attributes of the corpus's 20 Send
// messages as read, and EPS was sent the prescription without them.
func TestPrescriptionRefusesEmptyAttributes(t *testing.T) {
	_, msgs := sendPairs(t)
	// Each message empties some 240 attributes, one translation each: eight
	// messages keep the test to a few seconds.
	for k, m := range msgs[:min(8, len(msgs))] {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(m); err != nil {
			t.Fatal(err)
		}
		pp := doc.FindElement("//ParentPrescription")
		if pp == nil {
			t.Fatalf("message %d: no ParentPrescription", k)
		}
		refused := 0
		n := maptest.EachAttributeEmptied(t, doc, pp, func(el *etree.Element, a *etree.Attr, variant []byte) {
			_, _, err := PrescribeToFHIR(variant, benchEnv())
			// An attribute with a prefix (xsi:type) is not one RefuseEmptyAttrs
			// judges, nor one inside the signature's xmldsig elements.
			other := a.Space != "" || strings.Contains(el.GetPath(), "/signatureText/")
			switch allowed := core.EmptyAttrAllowed(el.Tag, a.Key) || other; {
			case allowed && err != nil:
				t.Errorf("message %d: %s/@%s empty (the schemas allow it): refused: %v", k, el.GetPath(), a.Key, err)
			case !allowed && err == nil:
				t.Errorf("message %d: %s/@%s empty: accepted", k, el.GetPath(), a.Key)
			case !allowed:
				refused++
			}
		})
		if n == 0 || refused == 0 {
			t.Fatalf("message %d: %d attributes, %d refused", k, n, refused)
		}
		if k == 0 {
			t.Logf("message %d (%s): %d attributes emptied, %d refused", k, filepath.Base(pp.Tag), n, refused)
		}
	}
}
