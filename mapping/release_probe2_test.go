package mapping

import (
	"os"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
)

func TestReleaseProbe2(t *testing.T) {
	for _, f := range []string{"spec/dispensing/release/acute-primary-example-res.json", "spec/dispensing/release/eRD-primary-example-res.json", "spec/dispensing/release/repeat-primary-example-res.json", "sandbox/Release-Response-200_OK.json"} {
		data, _ := os.ReadFile("/work/shared/corpus/examples/" + f)
		res, err := fhir.DecodeResource(data)
		if err != nil {
			t.Fatal(f, err)
		}
		p := res.(*fhir.Parameters)
		for _, prm := range p.Parameter {
			sb, ok := prm.Resource.(*fhir.Bundle)
			if !ok {
				t.Logf("%s %s: %T", f, prm.Name, prm.Resource)
				continue
			}
			for i, e := range sb.Entry {
				r := e.Resource
				if r == nil {
					r = e.Inline
				}
				b, ok := r.(*fhir.Bundle)
				if !ok {
					t.Logf("%s %s[%d]: %T", f, prm.Name, i, r)
					continue
				}
				c := NewBundleContext(b, "X")
				parent := etree.NewElement("subject")
				WriteParentPrescription(c, parent, Env{AcceptBadCheckCharacter: true})
				t.Logf("%s %s[%d]: err=%v", f, prm.Name, i, c.Err())
			}
		}
	}
}
