package journal

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// sameFacts checks that walkV3, where it reads payload, finds exactly the
// facts readV3Tree finds; it reports whether walkV3 read it.
func sameFacts(t *testing.T, payload string) bool {
	t.Helper()
	got, ok := walkV3(payload)
	if !ok {
		return false
	}
	if want := readV3Tree(payload); !reflect.DeepEqual(got, want) {
		t.Fatalf("walkV3 and readV3Tree differ for %q:\nwalk %+v %+v %+v\ntree %+v %+v %+v", payload,
			got, got.signature, got.outcome, want, want.signature, want.outcome)
	}
	return true
}

// TestWalkV3: the one-pass reader finds what the tree reader finds,
// including where document order and nesting make a difference.
func TestWalkV3(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantWalk bool
	}{
		{"prescription", prescriptionV3, true},
		{"ack", `<hl7:MCCI_IN010000UK13 xmlns:hl7="urn:hl7-org:v3"><hl7:id root="A"/><hl7:acknowledgement typeCode="AE"><hl7:acknowledgementDetail><hl7:code code="5000" displayName="bad"/></hl7:acknowledgementDetail><hl7:messageRef><hl7:id root="REF"/></hl7:messageRef></hl7:acknowledgement></hl7:MCCI_IN010000UK13>`, true},
		{"root id not first child", `<a><x/><id root="B"/><id root="C"/></a>`, true},
		{"root id without root", `<a><id/><id root="C"/></a>`, true},
		{"nested refs", `<a><targetMessage><x><messageRef><id root="b"/></messageRef></x><id root="a"/></targetMessage><messageRef><id root="a"/></messageRef></a>`, true},
		{"ref without id", `<a><targetMessage><x/></targetMessage><messageRef><y><id root="deep"/></y><id/></messageRef></a>`, true},
		{"ids", `<a><id root="2.16.840.1.113883.2.1.4.1" extension="9990548609"/><value root="1.2.826.0.1285.0.1.10" extension="FH542"/><x><id p:root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="R1" xmlns:p="urn:p"/><id root="2.16.840.1.113883.2.1.4.1" extension="9990548609"/></x></a>`, true},
		{"issue codes", `<PORX_IN050101UK31><x><cancellationResponseReason><code code="0002" displayName="pending"/></cancellationResponseReason></x><rejectionReason><code code="9"/></rejectionReason></PORX_IN050101UK31>`, true},
		{"code of the root", `<code code="1"/>`, true},
		{"signature", `<a><Signature><SignedInfo><SignatureMethod Algorithm="rsa"/><Reference><DigestMethod Algorithm="sha1"/><DigestValue>` + "\n  abc=\n" + `</DigestValue></Reference></SignedInfo></Signature></a>`, true},
		{"digest text with comments, entity and a child", `<a><DigestValue>x<!--c-->y&amp;<b/>z</DigestValue></a>`, true},
		{"digest text after a PI", `<a><DigestValue><?p?>x</DigestValue></a>`, true},
		{"nested digests", `<a><DigestValue>outer<DigestValue>inner</DigestValue></DigestValue></a>`, true},
		{"nested digests, last inside", `<a><DigestValue>one</DigestValue><DigestValue>two<x><DigestValue>three</DigestValue></x></DigestValue></a>`, true},
		{"empty digest", `<a><DigestValue/></a>`, true},
		{"CDATA walked", `<a><DigestValue>x<![CDATA[y]]><!--c--><![CDATA[z]]></DigestValue></a>`, true},
		{"DOCTYPE goes to the tree", `<!DOCTYPE a><a><DigestValue>x</DigestValue></a>`, false},
		{"malformed", `<a><b></a>`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameFacts(t, tt.in); got != tt.wantWalk {
				t.Errorf("walkV3 read it: %v, want %v", got, tt.wantWalk)
			}
			_ = readV3(tt.in)
		})
	}
}

// TestWalkV3Corpus: on every v3 message of the corpus the one-pass reader
// finds what the tree reader finds.
func TestWalkV3Corpus(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".xml") })
	walked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if sameFacts(t, string(b)) {
			walked++
		}
	}
	if len(files) > 0 && walked == 0 {
		t.Errorf("walkV3 read none of %d corpus files", len(files))
	}
}

// FuzzWalkV3: whatever the input, walkV3 finds readV3Tree's facts or
// leaves the payload to it.
func FuzzWalkV3(f *testing.F) {
	f.Add(prescriptionV3)
	f.Add(`<a><targetMessage><x><messageRef><id root="b"/></messageRef></x><id root="a"/></targetMessage></a>`)
	f.Add(`<a><DigestValue>outer<!--c--><DigestValue>inner</DigestValue></DigestValue></a>`)
	f.Fuzz(func(t *testing.T, s string) { sameFacts(t, s) })
}

// BenchmarkReadV3 reads the project's prescription as the journal's
// writer does.
func BenchmarkReadV3(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if f := readV3(prescriptionV3); f.interaction == "" {
			b.Fatal("nothing read")
		}
	}
}

// BenchmarkReadV3Tree reads the same prescription into a tree, as readV3
// did before walkV3, for comparison.
func BenchmarkReadV3Tree(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if f := readV3Tree(prescriptionV3); f.interaction == "" {
			b.Fatal("nothing read")
		}
	}
}
