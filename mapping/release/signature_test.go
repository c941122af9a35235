package release

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSignatureTextSpans checks the byte scan that finds each signature's
// own bytes in a release response: prefixes, empty elements, look-alike
// names, closing tags and counts that do not match.
func TestSignatureTextSpans(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want int
		out  []string // nil entry "" stands for an empty element
		fail bool
	}{
		{name: "two plain", want: 2,
			raw: `<a><signatureText><S>1</S></signatureText><b/><signatureText>x</signatureText></a>`,
			out: []string{`<signatureText><S>1</S></signatureText>`, `<signatureText>x</signatureText>`}},
		{name: "prefixed", want: 1,
			raw: `<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:signatureText><S/></hl7:signatureText></hl7:a>`,
			out: []string{`<signatureText><S/></signatureText>`}},
		{name: "attributes and white space", want: 1,
			raw: "<a><signatureText\n  nullFlavor=\"NA\" >y</signatureText></a>",
			out: []string{"<signatureText\n  nullFlavor=\"NA\" >y</signatureText>"}},
		{name: "prefixed with attributes", want: 1,
			raw: `<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:signatureText a="1"><S/></hl7:signatureText></hl7:a>`,
			out: []string{`<signatureText><S/></signatureText>`}},
		{name: "empty element", want: 2,
			raw: `<a><signatureText/><signatureText nullFlavor="NA"/></a>`, out: []string{"", ""}},
		{name: "look-alike names are not signatures", want: 1,
			raw: `<a><signatureTextual/><xsignatureText/><p:signatureTextX/><signatureText>z</signatureText></a>`,
			out: []string{`<signatureText>z</signatureText>`}},
		{name: "name in text is not a tag", want: 1,
			raw: `<a><t>signatureText </t><signatureText>z</signatureText></a>`,
			out: []string{`<signatureText>z</signatureText>`}},
		{name: "fewer than wanted", want: 2, raw: `<a><signatureText>z</signatureText></a>`, fail: true},
		{name: "more than wanted", want: 1, raw: `<a><signatureText/><signatureText/></a>`, fail: true},
		{name: "unclosed", want: 1, raw: `<a><signatureText>z</a>`, fail: true},
		{name: "prefix closes differently", want: 1, raw: `<a><p:signatureText>z</signatureText></a>`, fail: true},
		{name: "at the very start and end", want: 0, raw: `signatureText`, out: []string{}},
		{name: "capital T all around", want: 1,
			raw: `<a T="T"><xT/>T<signatureTextT/>signatureT<signatureText>T</signatureText>signatureText</a>`,
			out: []string{`<signatureText>T</signatureText>`}},
		{name: "x all around", want: 2,
			raw: `<x x="x"><xx/>x<signatureTex/><signatureTextx/>signatureTex<p:signatureTex>x</p:signatureTex><signatureText>x</signatureText><x:signatureText/>x</x>`,
			out: []string{`<signatureText>x</signatureText>`, ""}},
		{name: "name at the very start", want: 0, raw: `signatureText>`, out: []string{}},
		{name: "x at the very start and end", want: 0, raw: `x<signatureTex`, out: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.out
			if tt.fail {
				want = nil
			}
			checkSpans(t, signatureTextSpans([]byte(tt.raw), tt.want), want)
		})
	}
}

// checkSpans fails t unless spans are want ("" for a nil span; want nil:
// no spans at all).
func checkSpans(t *testing.T, spans [][]byte, want []string) {
	t.Helper()
	if want == nil {
		if spans != nil {
			t.Fatalf("spans = %q, want none", spans)
		}
		return
	}
	strs := make([]string, len(spans))
	for i, s := range spans {
		strs[i] = string(s)
	}
	if !slices.Equal(strs, want) {
		t.Fatalf("spans = %q, want %q", strs, want)
	}
}

// TestSignatureTextOpeningsCorpus holds the byte scan to a regular
// expression of the same start tags over the release responses of the
// corpus and the project.
func TestSignatureTextOpeningsCorpus(t *testing.T) {
	re := signatureTextStartTag
	msgs := corpustest.Files(t, func(rel string) bool { return strings.HasPrefix(rel, "release-responses/") })
	own, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, msg := range append(msgs, own) {
		want := re.FindAllIndex(msg, -1)
		got := signatureTextOpenings(msg, len(want))
		if len(got) != len(want) {
			t.Fatalf("message %d: %d start tags, want %d", i, len(got), len(want))
		}
		for j := range want {
			if got[j].start != want[j][0] {
				t.Errorf("message %d tag %d at %d, want %d", i, j, got[j].start, want[j][0])
			}
		}
	}
}

// TestMessageSignatures checks that a release response's signatures are
// matched to their spans whether or not every signatureText of the message
// is a component's prescription's: only then is the tree not walked.
func TestMessageSignatures(t *testing.T) {
	rx := func(sig string) string {
		return `<component><ParentPrescription><pertinentInformation1><pertinentPrescription><author>` + sig +
			`</author></pertinentPrescription></pertinentInformation1></ParentPrescription></component>`
	}
	tests := []struct {
		name string
		doc  string
		want []string // the spans, in document order; nil: none matched
	}{
		{"components only", `<r><p>` + rx(`<signatureText>a</signatureText>`) + rx(`<signatureText/>`) + rx(`<signatureText>c</signatureText>`) + `</p></r>`,
			[]string{`<signatureText>a</signatureText>`, ``, `<signatureText>c</signatureText>`}},
		{"one elsewhere too", `<r><signatureText>w</signatureText><p>` + rx(`<signatureText>a</signatureText>`) + rx(`<x/>`) + `</p></r>`,
			[]string{`<signatureText>w</signatureText>`, `<signatureText>a</signatureText>`}},
		{"a start tag in a comment", `<r><!-- <signatureText>w</signatureText> --><p>` + rx(`<signatureText>a</signatureText>`) + `</p></r>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, ok := v3.ScanXML([]byte(tt.doc))
			if !ok {
				t.Fatal("not read")
			}
			_, p := v3.NewReader("r", doc.Root().SelectElement("p"))
			sigs, spans := messageSignatures(nil, doc.Root(), p.All("component"), []byte(tt.doc))
			if tt.want == nil {
				if spans != nil {
					t.Fatalf("spans %q, want none", spans)
				}
				return
			}
			if len(sigs) != len(tt.want) || len(spans) != len(tt.want) {
				t.Fatalf("%d signatures and %d spans, want %d", len(sigs), len(spans), len(tt.want))
			}
			for i, w := range tt.want {
				if string(spans[i]) != w || sigs[i].Tag != "signatureText" {
					t.Errorf("signature %d: %s span %q, want %q", i, sigs[i].Tag, spans[i], w)
				}
			}
			// Each component's signature is the one its span belongs to.
			all := signatureTextElements(doc.Root())
			if !slices.Equal(sigs, all) {
				t.Errorf("signatures %v, want the tree's %v", sigs, all)
			}
		})
	}
}

// signatureTextStartTag is what signatureTextOpenings looks for, as a
// regular expression: the reference its fuzz target holds it to.
var signatureTextStartTag = regexp.MustCompile(`<(?:[A-Za-z_][A-Za-z0-9._-]*:)?signatureText[ \t\r\n/>]`)

// FuzzSignatureTextSpans holds the byte scan for signatureText start tags
// to the regular expression of them, and the spans cut from any input to
// whole signatureText elements, without panicking.
func FuzzSignatureTextSpans(f *testing.F) {
	f.Add([]byte(`<a><hl7:signatureText a="T"><S>T</S></hl7:signatureText><signatureText/>signatureText</a>`))
	f.Add([]byte(`<signatureTextT><p:signatureText>x</signatureText></p:signatureText>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		want := signatureTextStartTag.FindAllIndex(raw, -1)
		got := signatureTextOpenings(raw, len(want))
		if len(got) != len(want) {
			t.Fatalf("%d start tags, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].start != want[i][0] {
				t.Fatalf("tag %d at %d, want %d", i, got[i].start, want[i][0])
			}
		}
		for _, s := range signatureTextSpans(raw, len(want)) {
			if s != nil && (!bytes.HasPrefix(s, []byte("<signatureText")) || !bytes.HasSuffix(s, []byte("</signatureText>"))) {
				t.Fatalf("span %q is not a signatureText element", s)
			}
		}
	})
}
