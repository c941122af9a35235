package release_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/prescribe"
	"github.com/porxgate/porxgate/mapping/release"
)

// The scale benchmarks show how cost grows with a message's size: a
// release response of 1, 5, 20 and 100 prescriptions and a prescription of
// 1, 4 and 20 items (an item: a prescription of a release, a line item of
// a prescription). Each reports ns/op, ns/item (ns/op over the items) and
// msgs/s for the message of n items; a message has a fixed cost as well
// (the wrapper, and a prescription's patient, prescriber and signature),
// so ns/item falls as n grows. Each n > 1 also reports ns/added-item,
// what each item past the first costs, (t(n) - t(1)) / (n - 1), with
// ns/op-at-1, t(1): the one-item message translated in the same
// iterations, outside the benchmark's timer, so that the machine's drift
// weighs on t(n) and t(1) alike. Cost that grows linearly keeps
// ns/added-item flat. They use the project's own messages only, so they
// run without the corpus (which, when present, gives the release ones
// its 20-prescription message to cycle instead).

// scaledPrescription returns the four-item dental prescription (our own
// fixture) cut or grown to n items: items beyond the fourth are copies of
// the first four with their own ids and line item ids, listed in the
// MessageHeader's focus like the others.
func scaledPrescription(tb testing.TB, n int) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "prescribe", "repeat-prescribing-dental-four-items.json"))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := fhir.ParseBundle(raw)
	if err != nil {
		tb.Fatal(err)
	}
	var items, others []fhir.Entry
	for _, e := range b.Entry {
		if _, ok := e.Resource.(*fhir.MedicationRequest); ok {
			items = append(items, e)
		} else {
			others = append(others, e)
		}
	}
	grown := make([]fhir.Entry, 0, n)
	for i := 0; i < n; i++ {
		e := items[i%len(items)]
		if i >= len(items) {
			e = copyItem(tb, e, i)
		}
		grown = append(grown, e)
	}
	mh := fhir.EntriesOf[*fhir.MessageHeader](b)[0]
	focus := make([]fhir.Reference, 0, n+1)
	for _, e := range grown {
		focus = append(focus, fhir.Reference{Reference: e.FullURL})
	}
	for _, r := range mh.Focus {
		if !isItemRef(r.Reference, items) {
			focus = append(focus, r)
		}
	}
	mh.Focus = focus
	b.Entry = append(append([]fhir.Entry{}, others[:1]...), append(grown, others[1:]...)...)
	out, err := fhir.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// copyItem returns a copy of the MedicationRequest entry e as item i, with
// its own resource id, fullUrl and line item id.
func copyItem(tb testing.TB, e fhir.Entry, i int) fhir.Entry {
	tb.Helper()
	j, err := fhir.Marshal(e.Resource)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := fhir.DecodeResource(j)
	if err != nil {
		tb.Fatal(err)
	}
	mr := r.(*fhir.MedicationRequest)
	id := fmt.Sprintf("c2000000-0000-4000-8000-%012d", i)
	mr.ID = id
	for k := range mr.Identifier {
		if mr.Identifier[k].System == fhir.SystemLineItemID {
			mr.Identifier[k].Value = id
		}
	}
	return fhir.Entry{FullURL: "urn:uuid:" + id, Resource: mr}
}

// isItemRef reports whether ref points at one of items.
func isItemRef(ref string, items []fhir.Entry) bool {
	for _, e := range items {
		if e.FullURL == ref {
			return true
		}
	}
	return false
}

// scaledReleaseAnswer returns EPS's $release answer with n prescriptions:
// the corpus's 20-prescription answer cycled when the corpus is present,
// else our own one-prescription release response repeated.
func scaledReleaseAnswer(tb testing.TB, n int) []byte {
	tb.Helper()
	src := maptest.Testdata(tb, "release/"+"patient-release-response-070103.xml")
	if corpustest.Present() {
		src = relCorpus(tb, "release-responses/full_successful_release.xml")
	}
	fhirMsg, _, err := release.ReleaseResponseToFHIR(src, relEnv())
	if err != nil {
		tb.Fatal(err)
	}
	p := decodeParams(tb, epsShaped(tb, fhirMsg))
	passed := p.Find(release.ParamPassedPrescriptions).Resource.(*fhir.Bundle)
	have := passed.Entry
	grown := make([]fhir.Entry, 0, n)
	for i := 0; i < n; i++ {
		grown = append(grown, have[i%len(have)])
	}
	passed.Entry = grown
	total := n
	passed.Total = &total
	out, err := fhir.Marshal(p)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// scaleBench runs op on big, the message of n items, b.N times as the
// benchmark, and reports msgs/s and ns/item; for n > 1 it runs op on one,
// the message of one item, in the same iterations with the benchmark's
// timer stopped (ns/op, B/op and allocs/op stay big's), and reports
// ns/op-at-1, t(1), and ns/added-item, (t(n) - t(1)) / (n - 1), from the
// two messages' own times.
func scaleBench(b *testing.B, n int, big, one []byte, op func([]byte) error) {
	b.Helper()
	b.ReportAllocs()
	var tn, t1 time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := op(big); err != nil {
			b.Fatalf("%d items: %v", n, err)
		}
		tn += time.Since(start)
		if n > 1 {
			b.StopTimer()
			start = time.Now()
			if err := op(one); err != nil {
				b.Fatalf("1 item: %v", err)
			}
			t1 += time.Since(start)
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
	if n > 1 {
		b.ReportMetric(float64(t1.Nanoseconds())/float64(b.N), "ns/op-at-1")
		b.ReportMetric(float64((tn-t1).Nanoseconds())/float64(b.N*(n-1)), "ns/added-item")
	}
}

// BenchmarkScaleReleaseAnswer builds the v3 release response from EPS's
// answer for 1, 5, 20 and 100 prescriptions.
func BenchmarkScaleReleaseAnswer(b *testing.B) {
	req := maptest.Testdata(b, "release/"+"nominated-release-request-060102.xml")
	env := relEnv()
	op := func(eps []byte) error {
		_, _, err := release.ReleaseAnswerFromEPS(req, eps, 200, release.ReleaseReplyEnds{}, env)
		return err
	}
	one := scaledReleaseAnswer(b, 1)
	for _, n := range []int{1, 5, 20, 100} {
		b.Run(fmt.Sprintf("prescriptions=%d", n), func(b *testing.B) {
			scaleBench(b, n, scaledReleaseAnswer(b, n), one, op)
		})
	}
}

// scaledReleaseResponse returns a v3 release response with n prescriptions:
// the components of the corpus's 20-prescription response (our own
// one-prescription response without the corpus) cycled, each copy as it
// was, signature included.
func scaledReleaseResponse(tb testing.TB, n int) []byte {
	tb.Helper()
	src := maptest.Testdata(tb, "release/"+"patient-release-response-070103.xml")
	if corpustest.Present() {
		src = relCorpus(tb, "release-responses/full_successful_release.xml")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(src); err != nil {
		tb.Fatal(err)
	}
	prr := doc.FindElement("//PrescriptionReleaseResponse")
	if prr == nil {
		tb.Fatal("no PrescriptionReleaseResponse")
	}
	comps := prr.SelectElements("component")
	at := comps[0].Index()
	for _, c := range comps {
		prr.RemoveChild(c)
	}
	for i := n - 1; i >= 0; i-- {
		prr.InsertChildAt(at, comps[i%len(comps)].Copy())
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// BenchmarkScaleReleaseResponse reads a v3 release response of 1, 5, 20
// and 100 prescriptions into FHIR.
func BenchmarkScaleReleaseResponse(b *testing.B) {
	env := relEnv()
	op := func(msg []byte) error {
		_, _, err := release.ReleaseResponseToFHIR(msg, env)
		return err
	}
	one := scaledReleaseResponse(b, 1)
	for _, n := range []int{1, 5, 20, 100} {
		b.Run(fmt.Sprintf("prescriptions=%d", n), func(b *testing.B) {
			scaleBench(b, n, scaledReleaseResponse(b, n), one, op)
		})
	}
}

// BenchmarkScalePrescription translates a prescription of 1, 4 and 20
// items, FHIR → v3 and back.
func BenchmarkScalePrescription(b *testing.B) {
	env := relEnv()
	toV3 := func(msg []byte) error {
		_, err := prescribe.PrescribeToV3(msg, core.Meta{}, env)
		return err
	}
	toFHIR := func(msg []byte) error {
		_, _, err := prescribe.PrescribeToFHIR(msg, env)
		return err
	}
	fhirMsg := func(n int) []byte { return scaledPrescription(b, n) }
	v3Msg := func(n int) []byte {
		out, err := prescribe.PrescribeToV3(scaledPrescription(b, n), core.Meta{}, env)
		if err != nil {
			b.Fatalf("%d items: %v", n, err)
		}
		return out
	}
	fhirOne, v3One := fhirMsg(1), v3Msg(1)
	for _, n := range []int{1, 4, 20} {
		b.Run(fmt.Sprintf("FHIRToV3/items=%d", n), func(b *testing.B) { scaleBench(b, n, fhirMsg(n), fhirOne, toV3) })
		b.Run(fmt.Sprintf("V3ToFHIR/items=%d", n), func(b *testing.B) { scaleBench(b, n, v3Msg(n), v3One, toFHIR) })
	}
}

// TestScaledReleaseResponses checks that the scaled release responses are
// real work: each size reads into as many prescription Bundles as asked for.
func TestScaledReleaseResponses(t *testing.T) {
	for _, n := range []int{1, 5, 20, 100} {
		out, _, err := release.ReleaseResponseToFHIR(scaledReleaseResponse(t, n), relEnv())
		if err != nil {
			t.Fatalf("%d prescriptions: %v", n, err)
		}
		passed := decodeParams(t, out).Find(release.ParamPassedPrescriptions).Resource.(*fhir.Bundle)
		if len(passed.Entry) != n {
			t.Errorf("%d prescriptions: %d Bundles", n, len(passed.Entry))
		}
	}
}

// TestScaledMessagesTranslate checks that the scaled messages the
// benchmarks use are real work: each size translates, and the v3 carries
// as many line items as asked for.
func TestScaledMessagesTranslate(t *testing.T) {
	for _, n := range []int{1, 4, 20} {
		v3Msg, err := prescribe.PrescribeToV3(scaledPrescription(t, n), core.Meta{}, relEnv())
		if err != nil {
			t.Fatalf("%d items: %v", n, err)
		}
		if got := bytes.Count(v3Msg, []byte("<pertinentLineItem")); got != n {
			t.Fatalf("%d items: v3 has %d line items", n, got)
		}
	}
}
