package compare

import (
	"runtime"
	"strings"
	"testing"
)

// unlikeThroughout builds a release-like answer of about size bytes whose
// line items all carry the value v.
func unlikeThroughout(size int, v string) []byte {
	var b strings.Builder
	b.WriteString(`<PORX_IN070101UK31 xmlns="urn:hl7-org:v3"><ControlActEvent><subject><PrescriptionReleaseResponse><component><ParentPrescription>` +
		`<pertinentInformation1><pertinentPrescription><pertinentInformation2>`)
	for b.Len() < size {
		b.WriteString(`<q v="` + v + `"/>`)
	}
	b.WriteString(`</pertinentInformation2></pertinentPrescription></pertinentInformation1></ParentPrescription></component>` +
		`</PrescriptionReleaseResponse></subject></ControlActEvent></PORX_IN070101UK31>`)
	return []byte(b.String())
}

// TestCompareLargeUnlikeAnswersBounded: two answers unlike in each of
// many siblings (a route's broken answer, up to the 8 MiB the legacy
// client reads) were paired sibling by sibling with a copy of the rest
// each time: quadratic. Two 400 KB answers of 40,000 such siblings took
// 14 s and allocated 6.7 GB (an 8 MiB one, hours; no timeout bounds the
// comparison), and their 40,000 difference lines (8 MB, twenty times the
// answer) went into the journal with the exchange. Pairing past
// maxPairing is now one pass, and a comparison lists at most
// maxDifferences differences, counting the rest.
func TestCompareLargeUnlikeAnswersBounded(t *testing.T) {
	a, b := unlikeThroughout(400<<10, "1"), unlikeThroughout(400<<10, "2")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	diffs, err := Compare(a, b, nil, "legacy", "fhir")
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<30 {
		t.Errorf("comparing two %d KB answers allocated %d MB, want under 1 GB", len(a)>>10, alloc>>20)
	}
	if len(diffs) != maxDifferences+1 {
		t.Fatalf("%d differences listed, want %d and a line counting the rest", len(diffs), maxDifferences+1)
	}
	if last := diffs[len(diffs)-1]; !strings.Contains(last, "more differences not listed") || !strings.HasPrefix(last, "(40") {
		t.Errorf("last line %q, want the count of the differences not listed (about 40,000)", last)
	}
	if !strings.HasSuffix(diffs[0], "pertinentInformation2/q@v: legacy has 1, fhir has 2") {
		t.Errorf("first difference %q", diffs[0])
	}
}
