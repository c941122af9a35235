package prescribe

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// firstSignatureText returns the first element named signatureText (with
// any prefix) under el, in document order, or nil.
func firstSignatureText(el *etree.Element) *etree.Element {
	if el.Tag == "signatureText" {
		return el
	}
	for _, t := range el.Child {
		if ch, ok := t.(*etree.Element); ok {
			if st := firstSignatureText(ch); st != nil {
				return st
			}
		}
	}
	return nil
}

// checkScannedInner parses doc in a Space and holds scannedInner of its
// first signatureText element, on the whole message and on that element's
// own bytes (a release response's span), to rawInner of the same bytes:
// when it answers, rawInner answers the same bytes, ScannedContent
// vouches for them, and signatureData gives what it gave without it. It
// reports whether scannedInner answered on the element's bytes, and
// whether the document was read.
func checkScannedInner(t *testing.T, doc []byte) (scanned, read bool) {
	t.Helper()
	sp := v3.NewScratch().Get()
	_, root, err := sp.Parse(doc)
	if err != nil {
		return false, false
	}
	st := firstSignatureText(root.El)
	if st == nil {
		return false, true
	}
	// The message as the Space holds it (as prescribeToFHIR passes it),
	// the caller's copy (not the Space's: never found so), and the
	// element's own bytes in the Space.
	raws := [][]byte{doc, doc}
	if src, at := sp.ScannedName(root.El); at >= 0 {
		raws[0] = src
	}
	if src, name := sp.ScannedName(st); name >= 0 && src[name-1] == '<' {
		if end := bytes.Index(src[name:], []byte("</signatureText>")); end >= 0 {
			raws = append(raws, src[name-1:name+end+len("</signatureText>")])
		}
	}
	for i, raw := range raws {
		got, ok := scannedInner(raw, st, sp)
		if i == 2 {
			scanned = ok
		}
		if ok && i == 1 {
			t.Fatalf("found in a copy of the message the Space did not read")
		}
		if !ok {
			continue
		}
		want, wantOK := rawInner(raw, "signatureText")
		if !wantOK || !bytes.Equal(got, want) || len(got) > 0 && &got[0] != &want[0] {
			t.Fatalf("raw %q: scannedInner %q, rawInner %q, %v", raw, got, want, wantOK)
		}
		if !sp.ScannedContent(st, got) {
			t.Fatalf("raw %q: %q not vouched for", raw, got)
		}
		_, node := v3.NewReader("PORX_TEST", st)
		b64, rs := signatureData(raw, node, sp)
		wantB64, wantBytes := oldSignatureData(raw, node)
		if b64 != wantB64 || !bytes.Equal(rs.bytes, wantBytes) {
			t.Fatalf("raw %q: signatureData %q, before %q", raw, rs.bytes, wantBytes)
		}
	}
	return scanned, true
}

// oldSignatureData is signatureData as it was before scannedInner: the
// reference it is held to.
func oldSignatureData(raw []byte, st v3.Node) (string, []byte) {
	if !st.Exists() || st.HasAttr("nullFlavor") || (len(st.El.ChildElements()) == 0 && strings.TrimSpace(st.Text()) == "") {
		return "", nil
	}
	if inner, ok := rawInner(raw, "signatureText"); ok {
		return base64String(inner, nil), inner
	}
	var b bytes.Buffer
	ws := etree.WriteSettings{}
	for _, t := range st.El.Child {
		t.WriteTo(&b, &ws)
	}
	return base64String(b.Bytes(), nil), b.Bytes()
}

// TestScannedInner checks when scannedInner finds a signature in its
// element's bytes where the scanner read it (and that it then finds what
// rawInner finds, on those bytes and on the whole message), and that it
// leaves to rawInner whatever could make the two differ.
func TestScannedInner(t *testing.T) {
	const ns = `xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"`
	const sig = `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignatureValue>AbTx=</SignatureValue></Signature>`
	tests := []struct {
		name    string
		doc     string
		scanned bool // scannedInner answers on the element's bytes
	}{
		{"plain, followed by an element", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText>` + "\n  " + `<AgentPerson/></a></r>`, true},
		{"followed by a prefixed element", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><hl7:AgentPerson/></a></r>`, true},
		{"attributes", `<r ` + ns + `><a><signatureText a="1" b='2'>` + sig + `</signatureText><b/></a></r>`, true},
		{"entities", `<r ` + ns + `><a><signatureText><S>&amp;&#13;&lt;&gt;x</S></signatureText><b/></a></r>`, true},
		{"text only", `<r ` + ns + `><a><signatureText>abc</signatureText><b/></a></r>`, true},
		{"last in its parent", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText></a></r>`, true}, // the span holds only the element
		{"white space in its end tag", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText ><b/></a></r>`, false},
		{"'>' in an attribute value", `<r ` + ns + `><a><signatureText a="x>y">` + sig + `</signatureText><b/></a></r>`, false},
		{"comment inside", `<r ` + ns + `><a><signatureText><!-- c -->` + sig + `</signatureText><b/></a></r>`, false},
		{"end tag in a comment inside", `<r ` + ns + `><a><signatureText>` + sig + `<!-- </signatureText> --></signatureText><b/></a></r>`, false},
		{"CDATA inside", `<r ` + ns + `><a><signatureText><S><![CDATA[</signatureText>]]></S></signatureText><b/></a></r>`, false},
		{"processing instruction inside", `<r ` + ns + `><a><signatureText><?p </signatureText>?><S/></signatureText><b/></a></r>`, false},
		{"nested", `<r ` + ns + `><a><signatureText><signatureText>x</signatureText></signatureText><b/></a></r>`, false},
		{"nested, prefixed", `<r ` + ns + `><a><signatureText><hl7:signatureText>x</hl7:signatureText></signatureText><b/></a></r>`, true}, // rawInner takes it too
		{"look-alike inside", `<r ` + ns + `><a><signatureText><signatureTextual/></signatureText><b/></a></r>`, false},
		{"prefixed", `<r ` + ns + `><a><hl7:signatureText>` + sig + `</hl7:signatureText><b/></a></r>`, false},
		{"start tag in a comment before", `<r ` + ns + `><!-- <signatureText> --><a><signatureText>` + sig + `</signatureText><b/></a></r>`, true},                 // the span holds only the element
		{"start tag in a comment after", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a><!-- <signatureText>x</signatureText> --></r>`, true}, // the span holds only the element
		{"start tag in CDATA after", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a><c><![CDATA[<signatureText>]]></c></r>`, true},            // the span holds only the element
		{"start tag in a processing instruction after", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a><?p <signatureText?></r>`, true},       // the span holds only the element
		{"start tag in a comment outside the root", `<!-- <signatureText> --><r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a></r>`, true},       // the span holds only the element
		{"end tag in a comment after", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a><!-- </signatureText> --></r>`, true},
		{"end tag in CDATA before", `<r ` + ns + `><c><![CDATA[</signatureText>]]></c><a><signatureText>` + sig + `</signatureText><b/></a></r>`, true},
		{"a comment between it and the next", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><!-- c --><b/></a></r>`, true}, // the span holds only the element
		{"two", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a><signatureText>y</signatureText></r>`, true},         // the span holds only the element
		{"two, the other prefixed", `<r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a><hl7:signatureText>y</hl7:signatureText></r>`, true},
		{"another element of a like name before", `<r ` + ns + `><signatureTextual/><a><signatureText>` + sig + `</signatureText><b/></a></r>`, true}, // the span holds only the element
		{"empty", `<r ` + ns + `><a><signatureText></signatureText><b/></a></r>`, true},
		{"self-closed", `<r ` + ns + `><a><signatureText/><b/></a></r>`, false},
		{"null", `<r ` + ns + `><a><signatureText nullFlavor="NA"/><b/></a></r>`, false},
		{"null with content", `<r ` + ns + `><a><signatureText nullFlavor="NA">x</signatureText><b/></a></r>`, true},
		{"read by etree's reader (a DOCTYPE)", `<!DOCTYPE r><r ` + ns + `><a><signatureText>` + sig + `</signatureText><b/></a></r>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scanned, read := checkScannedInner(t, []byte(tt.doc))
			if !read {
				t.Fatal("not read")
			}
			if scanned != tt.scanned {
				t.Errorf("scannedInner answered %v, want %v", scanned, tt.scanned)
			}
		})
	}
	// Without a Space, for an element made, and for bytes not the
	// Space's, nothing.
	doc := []byte(`<r xmlns="urn:hl7-org:v3"><a><signatureText>x</signatureText><b/></a></r>`)
	sp := v3.NewScratch().Get()
	_, root, err := sp.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	st := firstSignatureText(root.El)
	src, name := sp.ScannedName(st)
	span := src[name-1 : name-1+len(`<signatureText>x</signatureText>`)]
	if got, ok := scannedInner(span, st, sp); !ok || string(got) != "x" {
		t.Fatalf("%q: %q, %v", span, got, ok)
	}
	if _, ok := scannedInner(src, st, sp); ok {
		t.Fatalf("found in the whole message")
	}
	doc = span
	for _, c := range []struct {
		raw []byte
		st  *etree.Element
		sp  *v3.Space
	}{{doc, st, nil}, {doc, etree.NewElement("signatureText"), sp}, {bytes.Clone(doc), st, sp}, {nil, st, sp}, {doc[:len(doc)-1], st, sp}, {doc[1:], st, sp}} {
		if got, ok := scannedInner(c.raw, c.st, c.sp); ok {
			t.Errorf("raw %q: %q found", c.raw, got)
		}
	}
}

// TestScannedInnerCorpus holds scannedInner to rawInner over the
// prescriptions of the corpus and the project's signed variants, each
// signature's own bytes (as a release response's span gives them) and the
// whole message, and checks that it finds some.
func TestScannedInnerCorpus(t *testing.T) {
	msgs := corpustest.Files(t, func(rel string) bool {
		return strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml") || strings.HasPrefix(rel, "signed-prescriptions/")
	})
	own, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "prescribe", "signed-variants", "*.xml"))
	for _, f := range own {
		m, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	found := 0
	for _, m := range msgs {
		if _, ok := rawInner(m, "signatureText"); !ok {
			checkScannedInner(t, m)
			continue
		}
		if scanned, _ := checkScannedInner(t, m); scanned {
			found++
		}
	}
	if found == 0 && len(msgs) > 0 {
		t.Errorf("no signature of %d messages found where scanned", len(msgs))
	}
	t.Logf("%d of %d messages' signatures found where scanned", found, len(msgs))
}

// FuzzScannedInner holds scannedInner to rawInner (and signatureData to
// what it gave before) on arbitrary documents.
func FuzzScannedInner(f *testing.F) {
	f.Add([]byte(`<r xmlns="urn:hl7-org:v3"><a><signatureText a="T"><S>T</S></signatureText> <b/></a></r>`))
	f.Add([]byte(`<r xmlns="urn:hl7-org:v3"><!-- <signatureText> --><a><signatureText>x</signatureText><b/></a></r>`))
	f.Add([]byte(`<r xmlns="urn:hl7-org:v3" xmlns:h="urn:hl7-org:v3"><a><signatureText><![CDATA[</signatureText>]]></signatureText><h:b/></a></r>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkScannedInner(t, doc)
	})
}

// TestNoChildElement holds noChildElement to etree's ChildElements, and
// checks it allocates nothing.
func TestNoChildElement(t *testing.T) {
	for _, in := range []string{`<s/>`, `<s> </s>`, `<s>x</s>`, `<s><!-- c --></s>`, `<s><a/></s>`, `<s>x<a/>y<b/></s>`, `<s><![CDATA[<a/>]]></s>`} {
		doc := etree.NewDocument()
		if err := doc.ReadFromString(in); err != nil {
			t.Fatal(err)
		}
		el := doc.Root()
		if got, want := noChildElement(el), len(el.ChildElements()) == 0; got != want {
			t.Errorf("%s: %v, want %v", in, got, want)
		}
		if n := testing.AllocsPerRun(10, func() { noChildElement(el) }); n != 0 {
			t.Errorf("%s: %v allocations", in, n)
		}
	}
}
