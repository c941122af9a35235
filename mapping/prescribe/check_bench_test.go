package prescribe

import (
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// BenchmarkSameSignedElement is the lossless check of prescription v3 →
// FHIR alone: each corpus Send message's ParentPrescription compared with
// what its FHIR writes back (core.SameSignedElement, as carryUnrepresented
// asks it), the reading and writing done before the timer starts.
func BenchmarkSameSignedElement(b *testing.B) {
	_, msgs := sendPairs(b)
	type pair struct{ pp, regen *etree.Element }
	var pairs []pair
	for _, m := range msgs {
		_, root, _, err := core.OpenV3(m, benchEnv(), "Parent Prescription", v3.ParentPrescription, v3.ParentPrescriptionNonUrgent)
		if err != nil {
			b.Fatal(err)
		}
		_, subject := v3.ReadWrapper(root)
		pp := subject.Child("ParentPrescription")
		bundle, _, _ := readParentPrescription(pp, m, benchEnv(), nil)
		regen := regenerateParentPrescription(bundle, benchEnv(), nil)
		if regen == nil || !IsSigned(pp.El) || !core.SameSignedElement(pp.El, regen, InSignature) {
			continue
		}
		pairs = append(pairs, pair{pp.El, regen})
	}
	if len(pairs) == 0 {
		b.Skip("no signed message written back alike")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pairs[i%len(pairs)]
		if !core.SameSignedElement(p.pp, p.regen, InSignature) {
			b.Fatal("not the same")
		}
	}
}

// TestSameSignedElementAllocatesNothing holds the lossless check of each
// signed corpus Send prescription to no allocation: the parts of both
// prescriptions are listed in room of its own (v3.AppendSignedParts). (A
// text in several pieces, as some of the project's signed variants have,
// is joined to be compared.)
func TestSameSignedElementAllocatesNothing(t *testing.T) {
	if !corpustest.Present() {
		t.Skip("no corpus: the project's own prescriptions are unsigned")
	}
	_, msgs := sendPairs(t)
	checked := 0
	for _, m := range msgs {
		_, root, _, err := core.OpenV3(m, benchEnv(), "Parent Prescription", v3.ParentPrescription, v3.ParentPrescriptionNonUrgent)
		if err != nil {
			t.Fatal(err)
		}
		_, subject := v3.ReadWrapper(root)
		pp := subject.Child("ParentPrescription")
		bundle, _, _ := readParentPrescription(pp, m, benchEnv(), nil)
		regen := regenerateParentPrescription(bundle, benchEnv(), nil)
		if regen == nil || !IsSigned(pp.El) || !core.SameSignedElement(pp.El, regen, InSignature) {
			continue
		}
		checked++
		if n := testing.AllocsPerRun(5, func() { core.SameSignedElement(pp.El, regen, InSignature) }); n != 0 {
			t.Errorf("%d allocations a check", int(n))
		}
	}
	if checked == 0 {
		t.Fatal("no signed prescription written back alike")
	}
}
