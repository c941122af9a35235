package mapping

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/v3"
)

func TestReleaseProbe(t *testing.T) {
	for _, f := range []string{"release_success.xml", "release_invalid.xml", "repeat_dispensing_release_success.xml", "repeat_prescribing_release_success.xml", "full_successful_release.xml"} {
		data, _ := os.ReadFile("/work/shared/corpus/release-responses/" + f)
		r, root, err := v3.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		_, subject := v3.ReadWrapper(root)
		prr := subject.Child("PrescriptionReleaseResponse")
		for i, comp := range prr.All("component") {
			pp := comp.Child("ParentPrescription")
			cp := pp.El.Copy()
			rx := cp.FindElement("pertinentInformation1/pertinentPrescription")
			for _, tag := range []string{"pertinentInformation10", "pertinentInformation9", "pertinentInformation11"} {
				if e := rx.SelectElement(tag); e != nil {
					rx.RemoveChild(e)
				}
			}
			for _, pi2 := range rx.SelectElements("pertinentInformation2") {
				li := pi2.SelectElement("pertinentLineItem")
				if e := li.SelectElement("pertinentInformation4"); e != nil {
					li.RemoveChild(e)
				}
			}
			rd, node := v3.NewReader("x", cp)
			n := 0
			env := Env{NewID: func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }, AcceptBadCheckCharacter: true}
			b := ReadParentPrescription(node, nil, env)
			if rd.Err() != nil {
				t.Errorf("%s[%d]: %v", f, i, rd.Err())
				continue
			}
			var carried []string
			for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
				for _, e := range mr.Extension {
					if e.URL == ExtensionV3Original {
						carried = append(carried, *e.Extension[0].ValueCode)
					}
					if strings.HasPrefix(e.URL, PorxgateExtensionBase) && e.URL != ExtensionV3Original {
						carried = append(carried, e.URL[len(PorxgateExtensionBase):])
					}
				}
			}
			if len(carried) > 0 {
				t.Logf("%s[%d]: carried %v", f, i, carried)
				mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
				for _, mr := range mrs {
					var keep []fhir.Extension
					for _, e := range mr.Extension {
						if e.URL != ExtensionV3Original || *e.Extension[0].ValueCode != partParentPrescription {
							keep = append(keep, e)
						}
					}
					mr.Extension = keep
				}
				regen := regenerateParentPrescription(b, env)
				t.Logf("diff: %s", probeDiff("", cp, regen))
			}
			_ = etree.NewDocument
		}
		_ = r
	}
}

func probeDiff(path string, a, b *etree.Element) string {
	if b == nil { return path + ": regen nil" }
	p := path + "/" + a.Tag
	if a.Tag != b.Tag { return p + ": tag " + a.Tag + " vs " + b.Tag }
	for _, at := range a.Attr {
		if at.Key == "xmlns" { continue }
		if b.SelectAttrValue(at.FullKey(), "\x00") != at.Value { return p + "/@" + at.FullKey() + " " + at.Value + " vs " + b.SelectAttrValue(at.FullKey(), "<none>") }
	}
	if len(a.Attr) != len(b.Attr) { return fmt.Sprintf("%s attrs %v vs %v", p, a.Attr, b.Attr) }
	if strings.TrimSpace(a.Text()) != strings.TrimSpace(b.Text()) { return p + " text " + a.Text() + " vs " + b.Text() }
	ak, bk := a.ChildElements(), b.ChildElements()
	for i := range ak {
		if ak[i].Parent() != nil && ak[i].Parent().Tag == "signatureText" { continue }
		if i >= len(bk) { return p + "/" + ak[i].Tag + " missing in regen" }
		if d := probeDiff(p, ak[i], bk[i]); d != "" { return d }
	}
	if len(bk) > len(ak) { return p + " extra " + bk[len(ak)].Tag }
	return ""
}
