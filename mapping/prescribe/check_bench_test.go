package prescribe

import (
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
)

// signedPair is a signed corpus Send message's ParentPrescription and the
// one its FHIR writes back, alike as the lossless check sees them.
type signedPair struct{ pp, regen *etree.Element }

// signedPairs reads each corpus Send message and writes its FHIR back,
// keeping the signed ones the lossless check finds alike.
func signedPairs(tb testing.TB) []signedPair {
	tb.Helper()
	_, msgs := sendPairs(tb)
	var pairs []signedPair
	for _, m := range msgs {
		pp, bundle := readForWriteBack(tb, m)
		regen := regenerateParentPrescription(bundle, benchEnv(), nil)
		if regen == nil || !IsSigned(pp.El) || !core.SameSignedElement(pp.El, regen, InSignature) {
			continue
		}
		pairs = append(pairs, signedPair{pp.El, regen})
	}
	return pairs
}

// BenchmarkSameSignedElement is the lossless check of prescription v3 →
// FHIR alone: each corpus Send message's ParentPrescription compared with
// what its FHIR writes back (core.SameSignedElementUnder, as
// carryUnrepresented asks it), the reading and writing done before the
// timer starts.
func BenchmarkSameSignedElement(b *testing.B) {
	pairs := signedPairs(b)
	if len(pairs) == 0 {
		b.Skip("no signed message written back alike")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pairs[i%len(pairs)]
		if !core.SameSignedElementUnder(p.pp, p.regen, signatureTextTag) {
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
	pairs := signedPairs(t)
	for _, p := range pairs {
		if n := testing.AllocsPerRun(5, func() { core.SameSignedElement(p.pp, p.regen, InSignature) }); n != 0 {
			t.Errorf("%d allocations a check", int(n))
		}
	}
	if len(pairs) == 0 {
		t.Fatal("no signed prescription written back alike")
	}
}
