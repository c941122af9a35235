package v3

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// sameCheck checks that CheckXML accepts exactly what scanXML reads and
// reports the root and depth of scanXML's tree; it returns CheckXML's
// answer.
func sameCheck(t *testing.T, data []byte) (XMLRoot, bool) {
	t.Helper()
	got, ok := CheckXML(data)
	doc, want := scanXML(data)
	if ok != want {
		t.Fatalf("CheckXML(%q) ok = %v, scanXML ok = %v", data, ok, want)
	}
	if !ok {
		if got != (XMLRoot{}) {
			t.Fatalf("CheckXML(%q) refused but reported %+v", data, got)
		}
		return got, false
	}
	root := doc.Root()
	space := root.Space
	for _, a := range root.Attr {
		if (root.Space == "" && a.Space == "" && a.Key == "xmlns") || (root.Space != "" && a.Space == "xmlns" && a.Key == root.Space) {
			space = a.Value
			break
		}
	}
	if want := (XMLRoot{Space: space, Local: root.Tag, Depth: treeDepth(root), Elements: len(doc.FindElements("//*"))}); got != want {
		t.Fatalf("CheckXML(%q) = %+v, the tree says %+v", data, got, want)
	}
	return got, true
}

// treeDepth is how deep elements nest below and including el.
func treeDepth(el *etree.Element) int {
	d := 0
	for _, c := range el.ChildElements() {
		d = max(d, treeDepth(c))
	}
	return d + 1
}

// TestCheckXML: what the non-building check reads and what it leaves to
// another reader (malformed input above all), always agreeing with
// scanXML.
func TestCheckXML(t *testing.T) {
	deep := func(n int) string {
		return strings.Repeat("<a>", n) + strings.Repeat("</a>", n)
	}
	tests := []struct {
		name string
		in   string
		want XMLRoot // zero: refused
	}{
		{"empty element", `<a/>`, XMLRoot{Local: "a", Depth: 1, Elements: 1}},
		{"HL7 root", `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN020101UK31>`, XMLRoot{Space: "urn:hl7-org:v3", Local: "PORX_IN020101UK31", Depth: 2, Elements: 2}},
		{"prefixed root", `<hl7:PORX_IN060102UK30 xmlns="urn:x" xmlns:hl7="urn:hl7-org:v3"><hl7:id/></hl7:PORX_IN060102UK30>`, XMLRoot{Space: "urn:hl7-org:v3", Local: "PORX_IN060102UK30", Depth: 2, Elements: 2}},
		{"undeclared prefix", `<hl7:a/>`, XMLRoot{Space: "hl7", Local: "a", Depth: 1, Elements: 1}},
		{"declaration, comment, PI, references", `<?xml version="1.0" encoding="UTF-8"?>` + "\n<!-- c --><a x='1' y=\"&quot;\"><b>t &amp; &#65;&#x42; é</b><?pi x?></a>\n", XMLRoot{Local: "a", Depth: 2, Elements: 2}},
		{"line ends", "<a>line\r\nend\rx</a>", XMLRoot{Local: "a", Depth: 1, Elements: 1}},
		{"depth 1024", deep(1024), XMLRoot{Local: "a", Depth: 1024, Elements: 1024}},
		{"depth 1025", deep(1025), XMLRoot{}},
		{"nothing", ``, XMLRoot{}},
		{"white space only", " \n", XMLRoot{}},
		{"unclosed", `<a><b></a>`, XMLRoot{}},
		{"mismatched end tag", `<a></b>`, XMLRoot{}},
		{"end tag a prefix of the name", `<ab></a>`, XMLRoot{}},
		{"end tag longer than the name", `<a></ab>`, XMLRoot{}},
		{"stray end tag", `</a>`, XMLRoot{}},
		{"truncated tag", `<a`, XMLRoot{}},
		{"truncated at <", `<a/><`, XMLRoot{}},
		{"repeated attribute", `<a x="1" x="2"/>`, XMLRoot{}},
		{"repeated local name", `<a p:x="1" x="2" xmlns:p="urn:p"/>`, XMLRoot{}},
		{"unquoted value", `<a x=1/>`, XMLRoot{}},
		{"no space between attributes", `<a x="1"y="2"/>`, XMLRoot{}},
		{"unterminated value", `<a x="1/>`, XMLRoot{}},
		{"< in a value", `<a x="<"/>`, XMLRoot{}},
		{"undeclared entity", `<a>&nbsp;</a>`, XMLRoot{}},
		{"character reference to NUL", `<a>&#0;</a>`, XMLRoot{}},
		{"unterminated reference", `<a>&amp</a>`, XMLRoot{}},
		{"CDATA", `<a><![CDATA[x]]></a>`, XMLRoot{Local: "a", Depth: 1, Elements: 1}},
		{"unterminated CDATA", `<a><![CDATA[x]></a>`, XMLRoot{}},
		{"CDATA with a control character", "<a><![CDATA[\x01]]></a>", XMLRoot{}},
		{"CDATA before the root", `<![CDATA[x]]><a/>`, XMLRoot{}},
		{"DOCTYPE", `<!DOCTYPE a><a/>`, XMLRoot{}},
		{"entity declarations", `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`, XMLRoot{}},
		{"two roots", `<a/><b/>`, XMLRoot{}},
		{"text before the root", `text<a/>`, XMLRoot{}},
		{"text after the root", `<a/>text`, XMLRoot{}},
		{"]]> in text", `<a>]]></a>`, XMLRoot{}},
		{"control character", "<a>\x01</a>", XMLRoot{}},
		{"invalid UTF-8", "<a>\xff</a>", XMLRoot{}},
		{"XML 1.1", `<?xml version="1.1"?><a/>`, XMLRoot{}},
		{"another encoding", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, XMLRoot{}},
		{"name starting with a digit", `<1a/>`, XMLRoot{}},
		{"two colons", `<a:b:c/>`, XMLRoot{}},
		{"colon last", `<a:/>`, XMLRoot{}},
		{"-- in a comment", `<a><!-- x -- y --></a>`, XMLRoot{}},
		{"unterminated comment", `<a><!-- x </a>`, XMLRoot{}},
		{"unterminated PI", `<a><?pi x</a>`, XMLRoot{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := sameCheck(t, []byte(tt.in))
			if ok != (tt.want != XMLRoot{}) || got != tt.want {
				t.Errorf("CheckXML(%q) = %+v, %v; want %+v", tt.in, got, ok, tt.want)
			}
		})
	}
}

// TestCheckXMLCorpus: on every XML file of the corpus CheckXML agrees
// with scanXML, and reads the messages itself.
func TestCheckXMLCorpus(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".xml") })
	read := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sameCheck(t, data); ok {
			read++
		}
	}
	if len(files) > 0 && read == 0 {
		t.Errorf("CheckXML read none of %d corpus files", len(files))
	}
}

// TestCheckXMLKeepsNoInput: the names CheckXML returns do not share the
// input's memory, which a server reuses once the request is answered.
func TestCheckXMLKeepsNoInput(t *testing.T) {
	data := []byte(`<hl7:PORX_IN020101UK31 xmlns:hl7="urn:hl7-org:v3"/>`)
	root, ok := CheckXML(data)
	if !ok {
		t.Fatal("refused")
	}
	for i := range data {
		data[i] = 'x'
	}
	if root.Local != "PORX_IN020101UK31" || root.Space != Namespace {
		t.Errorf("root changed with its input: %+v", root)
	}
}

// TestCheckXMLAllocations: checking a message allocates only the copy of
// its root's name (its namespace is the package's constant) when no tag
// has more attributes than the walk's room on the stack (16) and no text
// holds a reference (decoded into memory of its own).
func TestCheckXMLAllocations(t *testing.T) {
	var attrs strings.Builder
	for i := range 14 {
		fmt.Fprintf(&attrs, ` a%d="%d"`, i, i)
	}
	data := []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="A" extension="B"` + attrs.String() + `/><text>x y</text></PORX_IN020101UK31>`)
	if n := testing.AllocsPerRun(100, func() {
		if _, ok := CheckXML(data); !ok {
			t.Fatal("refused")
		}
	}); n != 1 {
		t.Errorf("CheckXML allocated %v times, want 1", n)
	}
}

// FuzzCheckXML checks CheckXML against scanXML: the same answer, the
// same root, the same depth, whatever the input.
func FuzzCheckXML(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:hl7-org:v3" x="1"><b>t &amp; u</b><!--c--></a>`))
	f.Add([]byte(`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b/></hl7:a>`))
	f.Add([]byte(`<a></ab>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameCheck(t, data)
	})
}

// BenchmarkCheckXML checks the homecare prescription with CheckXML.
func BenchmarkCheckXML(b *testing.B) {
	benchRead(b, func(data []byte) error {
		if _, ok := CheckXML(data); !ok {
			return errors.New("refused")
		}
		return nil
	})
}
