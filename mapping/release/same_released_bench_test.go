package release

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// BenchmarkSameReleased is the second lossless comparison of each
// released prescription of the 20-prescription release response
// (sameReleased with its shortcut), alone: an op compares them all.
// Without the corpus it uses the project's own one-prescription response.
func BenchmarkSameReleased(b *testing.B) {
	msg, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
	if err != nil {
		b.Fatal(err)
	}
	if corpustest.Present() {
		if msg, err = os.ReadFile(filepath.Join(corpustest.Dir(b), "release-responses", "full_successful_release.xml")); err != nil {
			b.Fatal(err)
		}
	}
	_, root, err := v3.Parse(msg)
	if err != nil {
		b.Fatal(err)
	}
	prr := root.El.FindElement(".//PrescriptionReleaseResponse")
	_, node := v3.NewReader(root.El.Tag, prr)
	type pair struct {
		pp, regen *etree.Element
		edits     core.TreeEdits
	}
	var pairs []pair
	for _, comp := range node.All("component") {
		pp, regen, edits := writtenBackReleased(comp, root.El.Tag, nil)
		if regen == nil {
			continue
		}
		if !sameReleased(pp.El, regen, true, edits) {
			b.Fatalf("a released prescription is not alike what it writes")
		}
		pairs = append(pairs, pair{pp.El, regen, edits})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range pairs {
			if !sameReleased(p.pp, p.regen, true, p.edits) {
				b.Fatal("unlike")
			}
		}
	}
}
