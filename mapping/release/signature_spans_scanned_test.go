package release

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// scannedSpansIn parses doc in a Space and returns scannedSignatureSpans
// of its signatureText elements (signatureTextElements: not the ones
// inside another) and signatureTextSpans of it for as many.
func scannedSpansIn(t testing.TB, doc []byte) (scanned, textual [][]byte, ok bool) {
	t.Helper()
	sp := v3.NewScratch().Get()
	_, root, err := sp.Parse(doc)
	if err != nil {
		return nil, nil, false
	}
	sigs := signatureTextElements(root.El)
	return scannedSignatureSpans(sp, sigs), signatureTextSpans(doc, len(sigs)), true
}

// TestScannedSignatureSpans checks the spans found where the scanner read
// each signatureText element: the spans signatureTextSpans gives, without
// the whole message being scanned, and none (for the caller to look the
// usual way) whenever the element's end tag could be mistaken.
func TestScannedSignatureSpans(t *testing.T) {
	const ns = `xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"`
	tests := []struct {
		name string
		doc  string
		out  []string // "" stands for an empty element; nil: none found
	}{
		{"two plain", `<r ` + ns + `><signatureText><S>1</S></signatureText><b/><signatureText>x</signatureText></r>`,
			[]string{`<signatureText><S>1</S></signatureText>`, `<signatureText>x</signatureText>`}},
		{"prefixed", `<hl7:r xmlns:hl7="urn:hl7-org:v3"><hl7:signatureText a="1"><S/></hl7:signatureText></hl7:r>`,
			[]string{`<signatureText><S/></signatureText>`}},
		{"prefixed, prefixed content", `<hl7:r xmlns:hl7="urn:hl7-org:v3"><hl7:signatureText><hl7:S>x</hl7:S></hl7:signatureText></hl7:r>`,
			[]string{`<signatureText><hl7:S>x</hl7:S></signatureText>`}},
		{"attributes and white space", "<r " + ns + "><signatureText\n  nullFlavor=\"NA\" >y</signatureText></r>",
			[]string{"<signatureText\n  nullFlavor=\"NA\" >y</signatureText>"}},
		{"'>' in an attribute value", `<r ` + ns + `><signatureText a="x>y">z</signatureText></r>`,
			[]string{`<signatureText a="x>y">z</signatureText>`}},
		{"empty elements", `<r ` + ns + `><signatureText/><signatureText nullFlavor="NA"/></r>`, []string{"", ""}},
		{"look-alike names inside", `<r ` + ns + `><signatureText><signatureTextual/><xsignatureText/><p:signatureTextX xmlns:p="urn:p"/></signatureText></r>`,
			[]string{`<signatureText><signatureTextual/><xsignatureText/><p:signatureTextX xmlns:p="urn:p"/></signatureText>`}},
		{"a start tag in a comment elsewhere", `<r ` + ns + `><!-- <signatureText>w</signatureText> --><signatureText>a</signatureText></r>`,
			[]string{`<signatureText>a</signatureText>`}},
		{"text and references", `<r ` + ns + `><signatureText>a &lt;signatureText&gt; &amp; b</signatureText></r>`,
			[]string{`<signatureText>a &lt;signatureText&gt; &amp; b</signatureText>`}},
		{"followed by an element after white space", "<r " + ns + "><signatureText><S/></signatureText>\n <b/></r>",
			[]string{`<signatureText><S/></signatureText>`}},
		{"followed by a prefixed element", `<hl7:r xmlns:hl7="urn:hl7-org:v3"><hl7:signatureText>x</hl7:signatureText><hl7:b/></hl7:r>`,
			[]string{`<signatureText>x</signatureText>`}},
		{"followed by a comment holding an end tag", `<r ` + ns + `><signatureText>x</signatureText><!-- </signatureText> --><b/></r>`,
			[]string{`<signatureText>x</signatureText>`}},
		{"followed by CDATA holding an end tag", `<r ` + ns + `><a><signatureText>x</signatureText><![CDATA[</signatureText>]]><b/></a></r>`,
			[]string{`<signatureText>x</signatureText>`}},
		{"CDATA without '<' inside, followed by an element", `<r ` + ns + `><signatureText><S><![CDATA[x]]></S></signatureText><b/></r>`,
			[]string{`<signatureText><S><![CDATA[x]]></S></signatureText>`}},
		{"a reference to '<' inside, followed by an element", `<r ` + ns + `><signatureText>a &lt; b</signatureText><b/></r>`,
			[]string{`<signatureText>a &lt; b</signatureText>`}},
		{"white space in its end tag, followed by an element", `<r ` + ns + `><signatureText>x</signatureText ><b/></r>`, nil},
		{"comment inside", `<r ` + ns + `><signatureText><!-- c --><S/></signatureText></r>`, nil},
		{"end tag in a comment inside", `<r ` + ns + `><signatureText><S/><!-- </signatureText> --></signatureText></r>`, nil},
		{"end tag in a comment inside, followed by an element", `<r ` + ns + `><signatureText><S/><!-- </signatureText> --></signatureText><b/></r>`, nil},
		{"end tag in CDATA inside, followed by an element", `<r ` + ns + `><signatureText><S><![CDATA[</signatureText>]]></S></signatureText><b/></r>`, nil},
		{"nested, followed by an element", `<r ` + ns + `><signatureText><signatureText>x</signatureText>y</signatureText><b/></r>`, nil},
		{"CDATA inside", `<r ` + ns + `><signatureText><S><![CDATA[</signatureText>]]></S></signatureText></r>`, nil},
		{"processing instruction inside", `<r ` + ns + `><signatureText><?pi x?></signatureText></r>`, nil},
		{"nested", `<r ` + ns + `><signatureText><signatureText>x</signatureText>y</signatureText></r>`, nil},
		{"nested, prefixed", `<r ` + ns + `><signatureText><hl7:signatureText/></signatureText></r>`, nil},
		{"nested, non-ASCII prefix", `<r ` + ns + ` xmlns:é="urn:e"><signatureText><é:signatureText/></signatureText></r>`, nil},
		{"white space in its end tag", `<r ` + ns + `><signatureText>x</signatureText ></r>`, nil},
		{"one of two unclear", `<r ` + ns + `><signatureText>a</signatureText><signatureText><!-- c --></signatureText></r>`, nil},
		{"read by etree's reader (a DOCTYPE)", `<!DOCTYPE r><r ` + ns + `><signatureText>a</signatureText></r>`, nil},
		{"no signatures", `<r ` + ns + `><a/></r>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, ok := scannedSpansIn(t, []byte(tt.doc))
			if !ok {
				t.Fatal("not read")
			}
			checkSpans(t, got, tt.out)
		})
	}
	if got := scannedSignatureSpans(nil, nil); got != nil {
		t.Errorf("no Space: spans %q", got)
	}
}

// TestScannedSignatureSpansCorpus holds the spans found where the scanner
// read each signature to the ones the scan of the whole message finds,
// over the release responses of the corpus and the project.
func TestScannedSignatureSpansCorpus(t *testing.T) {
	msgs := corpustest.Files(t, func(rel string) bool { return strings.HasPrefix(rel, "release-responses/") })
	own, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, msg := range append(msgs, own) {
		scanned, textual, ok := scannedSpansIn(t, msg)
		if !ok || textual == nil {
			continue // not a message both read
		}
		if scanned == nil || len(scanned) != len(textual) {
			t.Fatalf("message %d: %d spans found where scanned, want %d", i, len(scanned), len(textual))
		}
		for j := range textual {
			if !bytes.Equal(scanned[j], textual[j]) {
				t.Errorf("message %d signature %d: %.80q, want %.80q", i, j, scanned[j], textual[j])
			}
		}
	}
}

// FuzzScannedSignatureSpans holds the spans found where the scanner read
// each signatureText element to whole elements: each span's content is
// well-formed on its own (so the end tag after it is the element's own),
// and a span the scan of the whole message also finds is the same
// (unless a start tag's attribute value holds '>', which that scan takes
// for the tag's end).
func FuzzScannedSignatureSpans(f *testing.F) {
	f.Add([]byte(`<r xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"><hl7:signatureText a="T"><S>T</S></hl7:signatureText><signatureText/></r>`))
	f.Add([]byte(`<r xmlns="urn:hl7-org:v3"><signatureText><signatureText>x</signatureText><!-- </signatureText> --></signatureText></r>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		scanned, textual, ok := scannedSpansIn(t, doc)
		if !ok || scanned == nil {
			return
		}
		for i, s := range scanned {
			if s == nil {
				continue
			}
			if !bytes.HasPrefix(s, []byte("<signatureText")) || !bytes.HasSuffix(s, []byte("</signatureText>")) {
				t.Fatalf("span %q is not a signatureText element", s)
			}
			gt := v3.StartTagEnd(s, len("<signatureText"))
			content := s[gt+1 : len(s)-len("</signatureText>")]
			if _, ok := v3.CheckXML(append(append([]byte("<w>"), content...), "</w>"...)); !ok {
				t.Fatalf("span %q: its content is not well-formed on its own", s)
			}
			if textual != nil && bytes.IndexByte(s[:gt], '>') == gt && !bytes.Equal(s, textual[i]) {
				t.Fatalf("span %d %q, the scan of the message finds %q", i, s, textual[i])
			}
		}
	})
}
