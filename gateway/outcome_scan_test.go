package gateway

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// The unanchored expressions exchangeOutcome and outcomeDetail ran over
// every answer before firstTagMatch: what they find is what it must find.
var (
	wholeAckTypeCodeRE = regexp.MustCompile(`<(?:[A-Za-z][\w.-]*:)?acknowledgement\b[^>]*?\stypeCode\s*=\s*["'](A[AER])["']`)
	wholeAckDetailRE   = regexp.MustCompile(`<(?:[A-Za-z][\w.-]*:)?(?:acknowledgementDetail|justifyingDetectedIssueEvent)\b[^>]*>\s*<(?:[A-Za-z][\w.-]*:)?code\b([^>]*)>`)
)

// TestFirstTagMatchAsWholeSearch: firstTagMatch, given only the tags
// that carry the names, finds what the expressions found searching the
// whole answer, on answers shaped to mislead it (a name in text, in an
// attribute, as a longer name's start, behind prefixes that are not
// prefixes) and on every corpus message.
func TestFirstTagMatchAsWholeSearch(t *testing.T) {
	payloads := []string{
		``,
		`<acknowledgement typeCode="AA"/>`,
		`<hl7:acknowledgement typeCode='AE'/>`,
		`<x>acknowledgement typeCode="AR"</x><acknowledgement typeCode="AE"/>`,
		`<acknowledgementDetail typeCode="AR"/><acknowledgement typeCode="AA"/>`,
		`<x a="hl7:acknowledgement typeCode='AR'"/><acknowledgement typeCode="AE"/>`,
		`<1x:acknowledgement typeCode="AR"/><a.b-c_9:acknowledgement typeCode="AA"/>`,
		`<:acknowledgement typeCode="AR"/><x::acknowledgement typeCode="AR"/><x y:acknowledgement typeCode="AR"/>`,
		`acknowledgement typeCode="AA"`,
		`:acknowledgement typeCode="AA"`,
		`<acknowledgement typeCode="XX"/><acknowledgement typeCode="AE"/>`,
		`<acknowledgement><acknowledgement typeCode="AR">`,
		`<hl7:acknowledgement typeCode="AA"><hl7:acknowledgementDetail typeCode="ER"><hl7:code code="5000" displayName="x"/></hl7:acknowledgementDetail></hl7:acknowledgement>`,
		`<reason><justifyingDetectedIssueEvent classCode="ALRT">  <code code="0003" displayName="Cancelled"/></justifyingDetectedIssueEvent></reason><acknowledgementDetail><code code="0001"/></acknowledgementDetail>`,
		`<acknowledgementDetail><x/><code code="0001"/></acknowledgementDetail><justifyingDetectedIssueEvent><code code="0002"/></justifyingDetectedIssueEvent>`,
		`<justifyingDetectedIssueEventX><code code="1"/></justifyingDetectedIssueEventX><p:justifyingDetectedIssueEvent><q:code code="2"/>`,
		`<acknowledgementDetail`,
		`<acknowledgement typeCode="AA"`,
	}
	for _, b := range corpustest.Files(t, func(rel string) bool { return strings.HasSuffix(rel, ".xml") }) {
		payloads = append(payloads, string(b))
	}
	for i, p := range payloads {
		b := []byte(p)
		if got, want := firstTagMatch(b, ackTypeCodeRE, 1, ackName), wholeAckTypeCodeRE.FindSubmatch(b); !sameMatch(got, want) {
			t.Errorf("payload %d %.80q: acknowledgement typeCode %q, the whole search %q", i, p, got, want)
		}
		if got, want := firstTagMatch(b, ackDetailRE, 2, ackDetailNames...), wholeAckDetailRE.FindSubmatch(b); !sameMatch(got, want) {
			t.Errorf("payload %d %.80q: detail %q, the whole search %q", i, p, got, want)
		}
	}
}

// sameMatch reports whether two submatch lists hold the same texts.
func sameMatch(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestOutcomeFieldsOfALargeAnswer: the outcome of each processed message
// (porxgate_exchanges_total, the "processed" line at info level, a SOAP
// answer's line) was found by regular expressions run over the whole
// answer, 10-30 ns a byte: 8.4 ms of the worker's CPU for the corpus's
// 314 KB release response. They now read only the tags that carry the
// names. Sixty-four release responses in one answer (2 MB), no coded
// detail in any (the common case), still give the accepted outcome. How
// long that takes is BenchmarkOutcomeFieldsOfALargeAnswer's to say (the
// house measures speed in benchmarks, not timed tests).
func TestOutcomeFieldsOfALargeAnswer(t *testing.T) {
	out := largeAcceptedAnswer(t)
	if args := outcomeArgs(out); args[1] != "AA" || args[3] != "AA" || args[5] != "accepted" {
		t.Fatalf("outcome fields %v, want AA, AA, accepted", args)
	}
}

// BenchmarkOutcomeFieldsOfALargeAnswer reports the outcome fields of a 2 MB
// answer (64 release responses with no coded detail): about 0.4 ms when
// only the named tags are read, 10-20 ms when the answer is searched whole.
func BenchmarkOutcomeFieldsOfALargeAnswer(b *testing.B) {
	out := largeAcceptedAnswer(b)
	b.ReportAllocs()
	for b.Loop() {
		if args := outcomeArgs(out); args[5] != "accepted" {
			b.Fatalf("outcome fields %v, want accepted", args)
		}
	}
}

// largeAcceptedAnswer is an Outcome whose one answer is the project's
// accepted release response repeated 64 times.
func largeAcceptedAnswer(tb testing.TB) *Outcome {
	tb.Helper()
	one, err := os.ReadFile("../testdata/release/patient-release-response-070103.xml")
	if err != nil {
		tb.Fatal(err)
	}
	return &Outcome{Answers: []Answer{{Payload: bytes.Repeat(one, 64)}}}
}
