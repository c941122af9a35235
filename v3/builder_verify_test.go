package v3

import (
	"testing"

	"github.com/beevik/etree"
)

// TestVerifier holds the Verifier's rules: what a writer writes through the
// builder under the holder is checked against the original as it is
// written, and the original is left as it was.
func TestVerifier(t *testing.T) {
	fixedA := NewFixed("a", "classCode", "X", "moodCode", "Y")
	fixedID := NewFixed("id", "root", "1.2.3")
	// write is the usual writer: <r x="1"><a classCode moodCode><id
	// root extension/><name>Ann</name><value value="5"/><code code
	// codeSystem displayName/></a><sig/></r>.
	write := func(h *etree.Element) {
		r := Add(h, "r", "x", "1")
		a := AddFixed(r, fixedA)
		AddFixedII(a, fixedID, "E")
		AddText(a, "name", "Ann")
		AddValue(a, "value", "5")
		AddCV(a, "code", "c", "s", "d")
		Add(r, "sig")
	}
	const usual = `<r x="1">
  <a classCode="X" moodCode="Y">
    <id root="1.2.3" extension="E"/>
    <name>Ann</name>
    <value value="5"/>
    <code code="c" codeSystem="s" displayName="d"/>
  </a>
  <sig/>
</r>`
	tests := []struct {
		name, orig string
		write      func(h *etree.Element)
		alike      bool
	}{
		{"alike", usual, write, true},
		{"alike without indentation", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, true},
		{"two attributes swapped", `<r x="1"><a classCode="X" moodCode="Y"><id extension="E" root="1.2.3"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, true},
		{"three attributes in another order", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code codeSystem="s" code="c" displayName="d"/></a><sig/></r>`, write, false},
		{"an attribute more", `<r x="1" y="2"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"an attribute less", `<r><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"a value differs", `<r x="2"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"a prefixed attribute", `<r xmlns:p="urn:p" p:x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"a namespace declared", `<r x="1" xmlns="urn:hl7-org:v3"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"a prefixed element", `<r xmlns:p="urn:p" x="1"><p:a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></p:a><sig/></r>`, write, false},
		{"a name differs", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><nam>Ann</nam><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"text differs", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Anne</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"text padded", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name> Ann </name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"text in CDATA (read as text)", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name><![CDATA[Ann]]></name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, true},
		{"text with a comment", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann<!-- c --></name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"text where none is written", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5">5</value><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"text beside elements", `<r x="1">t<a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"a comment between elements", `<r x="1"><a classCode="X" moodCode="Y"><!-- c --><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"a processing instruction", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/><?p i?></a><sig/></r>`, write, false},
		{"an element more", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/><z/></a><sig/></r>`, write, false},
		{"an element more at the end", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig/><z/></r>`, write, false},
		{"an element less", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/></a><sig/></r>`, write, false},
		{"elements swapped", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><value value="5"/><name>Ann</name><code code="c" codeSystem="s" displayName="d"/></a><sig/></r>`, write, false},
		{"child elements under the passed-over element", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig>
  <Signature><v>1</v></Signature>
</sig></r>`, write, true},
		{"text in the passed-over element", `<r x="1"><a classCode="X" moodCode="Y"><id root="1.2.3" extension="E"/><name>Ann</name><value value="5"/><code code="c" codeSystem="s" displayName="d"/></a><sig>t</sig></r>`, write, false},
		{"a child written under the passed-over element", `<r x="1"><sig><z/></sig></r>`, func(h *etree.Element) {
			Add(Add(Add(h, "r", "x", "1"), "sig"), "z")
		}, false},
		{"an attribute created after", `<r x="1" nullFlavor="NA"/>`, func(h *etree.Element) {
			Add(h, "r", "x", "1").CreateAttr("nullFlavor", "NA")
		}, true},
		{"an attribute created after, not the original's", `<r x="1" nullFlavor="UNK"/>`, func(h *etree.Element) {
			Add(h, "r", "x", "1").CreateAttr("nullFlavor", "NA")
		}, false},
		{"an attribute created after one given", `<r x="1" x="2"/>`, func(h *etree.Element) {
			Add(h, "r", "x", "1").CreateAttr("x", "2")
		}, false},
		{"an attribute created after two given swapped", `<r y="2" x="1" z="3"/>`, func(h *etree.Element) {
			Add(h, "r", "x", "1", "y", "2").CreateAttr("z", "3")
		}, false},
		{"text set after", `<r x="1"><n>Ann</n></r>`, func(h *etree.Element) {
			Add(Add(h, "r", "x", "1"), "n").SetText("Ann")
		}, true},
		{"text set after, not the original's", `<r x="1"><n>Bob</n></r>`, func(h *etree.Element) {
			Add(Add(h, "r", "x", "1"), "n").SetText("Ann")
		}, false},
		{"text set after a child", `<r x="1"><n>Ann<m/></n></r>`, func(h *etree.Element) {
			n := Add(Add(h, "r", "x", "1"), "n")
			Add(n, "m")
			n.SetText("Ann")
		}, false},
		{"a child added by etree", `<r x="1"><n/></r>`, func(h *etree.Element) {
			Add(h, "r", "x", "1").AddChild(etree.NewElement("n"))
		}, false},
		{"a child written under an element closed before", `<r><a><c/></a><b/></r>`, func(h *etree.Element) {
			r := Add(h, "r")
			a := Add(r, "a")
			Add(r, "b")
			Add(a, "c")
		}, false},
		{"a child written under its element's parent after it", `<r><a><c/></a><b/></r>`, func(h *etree.Element) {
			r := Add(h, "r")
			a := Add(r, "a")
			Add(a, "c")
			Add(r, "b")
		}, true},
		{"a prefixed name written", `<r xmlns:p="urn:p"><p:a/></r>`, func(h *etree.Element) {
			Add(Add(h, "r", "xmlns:p", "urn:p"), "p:a")
		}, false},
		{"an attribute given twice", `<r x="2"/>`, func(h *etree.Element) {
			Add(h, "r", "x", "1", "x", "2")
		}, false},
		{"nothing written", `<r/>`, func(*etree.Element) {}, false},
		{"two elements written at the top", `<r/>`, func(h *etree.Element) {
			Add(h, "r")
			Add(h, "r")
		}, false},
		{"an attribute created on the holder", `<r/>`, func(h *etree.Element) {
			Add(h, "r")
			h.CreateAttr("x", "1")
		}, false},
		{"an element given whole to the holder", `<r/>`, func(h *etree.Element) {
			h.AddChild(etree.NewElement("r"))
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, sp := range []*Space{nil, NewScratch().Get()} {
				doc, err := readXML([]byte(tc.orig), sp)
				if err != nil {
					t.Fatal(err)
				}
				root := doc.Root()
				before, err := elementString(root)
				if err != nil {
					t.Fatal(err)
				}
				v, holder := sp.Verify(root, "sig")
				tc.write(holder)
				if got := v.Finish(); got != tc.alike {
					t.Errorf("in Space %t: alike %t, want %t", sp != nil, got, tc.alike)
				}
				if after, _ := elementString(root); after != before {
					t.Errorf("the original changed:\n%s\nto\n%s", before, after)
				}
			}
		})
	}
}

// TestVerifierAgain holds a Space's Verifier to the same answers when used
// again, one message after another, and after a check that failed.
func TestVerifierAgain(t *testing.T) {
	sp := NewScratch().Get()
	for i, orig := range []string{`<r><a x="1"/></r>`, `<r><a x="2"/></r>`, `<r><a x="1"/></r>`} {
		doc, err := readXML([]byte(orig), sp)
		if err != nil {
			t.Fatal(err)
		}
		v, holder := sp.Verify(doc.Root(), "")
		Add(Add(holder, "r"), "a", "x", "1")
		if got, want := v.Finish(), i != 1; got != want {
			t.Errorf("%d: alike %t, want %t", i, got, want)
		}
	}
}

// elementString serialises el.
func elementString(el *etree.Element) (string, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	return doc.WriteToString()
}
