package mapping_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestDispensingRefusesEmptyAttributes empties, one at a time, every
// attribute of the payload (the ControlActEvent's subject) of the project's
// own dispensing, cancellation and release requests (and cancel responses), and wants each variant
// refused.
// Ids, times, numbers, booleans, display names and structural codes are
// never empty in these models and a coded value's code must be a term of
// its vocabulary, so Spine refuses such a message; a use (a set of codes)
// and a telecom's value (a url) may be empty and are taken as absent. Before, the dispensing readers took an empty NHS number,
// short-form prescription id, line item id, item status or handed-over
// time as read and sent EPS a message without it (60 of the 268
// attributes of dn-full-two-items.xml), and the cancel and release request
// readers likewise (a nominated release for an empty dispenser ODS code).
func TestDispensingRefusesEmptyAttributes(t *testing.T) {
	var files []string
	for _, glob := range []string{"dispense/*.xml", "claim/claim-*.xml", "return/*.xml", "withdraw/*.xml", "rebuild/*.xml", "cancel/*.xml", "release/*-release-request-*.xml"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", glob))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 16 {
		t.Fatalf("found %d fixtures, want the dispensing, cancel and release request ones", len(files))
	}
	reg := mapping.NewRegistry()
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, root, err := v3.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			tr := reg.ByInteraction(root.El.Tag)
			if tr == nil || tr.ToFHIR == nil {
				t.Fatalf("no translator for %s", root.El.Tag)
			}
			if _, _, err := tr.ToFHIR(data, variantEnv(data)); err != nil {
				t.Fatalf("the fixture itself is refused: %v", err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(data); err != nil {
				t.Fatal(err)
			}
			subject := doc.FindElement("/*/ControlActEvent/subject")
			if subject == nil {
				t.Fatal("no ControlActEvent/subject")
			}
			n := maptest.EachAttributeEmptied(t, doc, subject, func(el *etree.Element, a *etree.Attr, variant []byte) {
				_, _, err := tr.ToFHIR(variant, variantEnv(variant))
				switch allowed := core.EmptyAttrAllowed(el.Tag, a.Key); {
				case allowed && err != nil:
					t.Errorf("%s/@%s empty (the schemas allow it): refused: %v", el.GetPath(), a.Key, err)
				case !allowed && err == nil:
					t.Errorf("%s/@%s empty: accepted", el.GetPath(), a.Key)
				}
			})
			if n == 0 {
				t.Fatal("no attribute in the payload")
			}
		})
	}
}
