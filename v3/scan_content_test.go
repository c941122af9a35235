package v3

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestScannedContent checks when ScannedContent vouches for bytes as an
// element's content as the fast scanner read it: only the exact bytes,
// only for an element read by the scanner into the Space, and never when
// a comment, CDATA section, processing instruction or an element of the
// same name could hide where the element ends.
func TestScannedContent(t *testing.T) {
	const ns = `xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3" xmlns:p="urn:p"`
	tests := []struct {
		name    string
		doc     string // the <s> to ask about is the first under the root
		content string // "" asks about the element's content as far as the first "</s>"
		want    bool
	}{
		{"plain", `<r ` + ns + `><s><a b="1">t</a></s></r>`, "", true},
		{"text only", `<r ` + ns + `><s>text</s></r>`, "", true},
		{"references", `<r ` + ns + `><s><a>&amp;&#65;&lt;</a></s></r>`, "", true},
		{"prefixed child, prefix declared outside", `<r ` + ns + `><s><p:a/></s></r>`, "", true},
		{"attribute with '>' on the element", `<r ` + ns + `><s a="x>y" b='>'><a/></s></r>`, "<a/>", true},
		{"white space in the end tag", `<r ` + ns + `><s><a/></s  ></r>`, "", true},
		{"line ends and tabs", "<r " + ns + "><s>\n\t<a>\n</a>\n</s></r>", "", true},
		{"look-alike names", `<r ` + ns + `><s><sx/><ss>x</ss></s></r>`, "", false},
		{"nested same name", `<r ` + ns + `><s><s/></s></r>`, "", false},
		{"nested same name, content up to the outer end", `<r ` + ns + `><s><s>x</s>y</s></r>`, "<s>x</s>y", false},
		{"comment", `<r ` + ns + `><s><!-- c --><a/></s></r>`, "", false},
		{"end tag in a comment", `<r ` + ns + `><s><a/><!-- </s> --></s></r>`, "", false},
		{"CDATA", `<r ` + ns + `><s><a><![CDATA[x]]></a></s></r>`, "", false},
		{"end tag in CDATA", `<r ` + ns + `><s><a><![CDATA[</s>]]></a></s></r>`, "", false},
		{"processing instruction", `<r ` + ns + `><s><?pi x?><a/></s></r>`, "", false},
		{"shorter than the content", `<r ` + ns + `><s><a/><b/></s></r>`, "<a/>", false},
		{"longer than the content", `<r ` + ns + `><s><a/></s><t/></r>`, "<a/></s><t/>", false},
		{"other bytes", `<r ` + ns + `><s><a/></s></r>`, "<b/>", false},
		{"empty element", `<r ` + ns + `><s/></r>`, "-", false},
		{"prefixed element", `<r ` + ns + `><hl7:s><a/></hl7:s></r>`, "<a/>", false},
		{"read by etree's reader (a DOCTYPE)", `<!DOCTYPE r><r ` + ns + `><s><a/></s></r>`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := NewScratch().Get()
			_, root, err := sp.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			el := root.El.SelectElement("s")
			content := tc.content
			switch content {
			case "":
				start := strings.Index(tc.doc, "<s")
				start += strings.IndexByte(tc.doc[start:], '>') + 1
				content = tc.doc[start : start+strings.Index(tc.doc[start:], "</s")]
			case "-":
				content = ""
			}
			if got := sp.ScannedContent(el, []byte(content)); got != tc.want {
				t.Errorf("ScannedContent(%q) = %v, want %v", content, got, tc.want)
			}
			if tc.want {
				// What is vouched for reads as a document of its own.
				if _, ok := CheckXML([]byte("<w>" + content + "</w>")); !ok {
					t.Errorf("%q does not read on its own", content)
				}
			}
		})
	}
}

// TestScannedContentOtherElements checks that elements not read from the
// Space's message are never vouched for: a nil Space, an element made,
// one of a document read after the message (a copy of its own), and one
// whose message the Space no longer holds.
func TestScannedContentOtherElements(t *testing.T) {
	doc := []byte(`<r xmlns="urn:hl7-org:v3"><s><a/></s></r>`)
	content := []byte("<a/>")
	scratch := NewScratch()
	sp := scratch.Get()
	_, root, err := sp.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	el := root.El.SelectElement("s")
	if !sp.ScannedContent(el, content) {
		t.Fatal("the message's own element is not vouched for")
	}
	var nilSpace *Space
	if nilSpace.ScannedContent(el, content) {
		t.Error("a nil Space vouches")
	}
	made := etree.NewElement("s")
	made.AddChild(etree.NewElement("a"))
	if sp.ScannedContent(made, content) || sp.ScannedContent(nil, content) {
		t.Error("an element made, or nil, is vouched for")
	}
	later, err := sp.readLater(doc)
	if err != nil {
		t.Fatal(err)
	}
	if sp.ScannedContent(later.SelectElement("s"), content) {
		t.Error("an element of a later document is vouched for")
	}
	_, other, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if sp.ScannedContent(other.El.SelectElement("s"), content) {
		t.Error("an element of a message read elsewhere is vouched for")
	}
	scratch.Put(sp)
	sp = scratch.Get()
	if sp.ScannedContent(el, content) {
		t.Error("an element of a message given back is vouched for")
	}
}

// readLater reads data into sp as a second document of the message (the
// Space's source is the message's).
func (sp *Space) readLater(data []byte) (*etree.Element, error) {
	doc, err := readXML(data, sp)
	if err != nil {
		return nil, err
	}
	return doc.Root(), nil
}

// TestScannedContentAllocations: vouching allocates nothing.
func TestScannedContentAllocations(t *testing.T) {
	sp := NewScratch().Get()
	_, root, err := sp.Parse([]byte(`<r xmlns="urn:hl7-org:v3"><s><a b="1">t</a></s></r>`))
	if err != nil {
		t.Fatal(err)
	}
	el := root.El.SelectElement("s")
	content := []byte(`<a b="1">t</a>`)
	if n := testing.AllocsPerRun(100, func() { sp.ScannedContent(el, content) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
