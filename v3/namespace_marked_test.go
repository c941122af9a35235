package v3

import (
	"testing"

	"github.com/beevik/etree"
)

// TestUnprefixMarked holds unprefix told the scanner's marked elements
// (what Parse does) to the whole walk and to the map-based reference, byte
// for byte, for prefixes in odd places: after plain elements, a default
// namespace declared again or taken back, a prefix bound to another
// namespace, prefixed attributes, declarations without a prefixed element
// under them, and plain elements in no namespace under a rewritten one.
func TestUnprefixMarked(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"wrapper prefixed, body plain",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b/><c xmlns="urn:hl7-org:v3"><d><e/></d><f/></c></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><b/><c xmlns="urn:hl7-org:v3"><d><e/></d><f/></c></a>`},
		{"plain elements in no namespace under a rewritten parent",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><b><c/></b><hl7:d><e/></hl7:d><f/></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><b xmlns=""><c/></b><d><e xmlns=""/></d><f xmlns=""/></a>`},
		{"prefix after plain elements",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c/><d/></b><e xmlns="urn:hl7-org:v3"><x/><hl7:f xmlns:hl7="urn:hl7-org:v3"><g/></hl7:f></e><h/></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c/><d/></b><e xmlns="urn:hl7-org:v3"><x/><f><g/></f></e><h xmlns=""/></a>`},
		// A root without a prefix: the scanner marks nothing, and every
		// element is looked at.
		{"root without a prefix",
			`<a xmlns="urn:hl7-org:v3"><b><c/><d/></b><e><hl7:f xmlns:hl7="urn:hl7-org:v3"><g/></hl7:f></e><h/></a>`,
			`<a xmlns="urn:hl7-org:v3"><b><c/><d/></b><e><f><g/></f></e><h/></a>`},
		{"default namespace declared again and taken back",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c xmlns=""><d/></c></b><e xmlns=""><f/></e><hl7:g/></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c xmlns=""><d/></c></b><e xmlns=""><f/></e><g/></a>`},
		{"prefix bound to another namespace",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><x:b xmlns:x="urn:x"><c/><hl7:d xmlns:hl7="urn:x"><e/></hl7:d></x:b><hl7:f/></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><x:b xmlns:x="urn:x"><c xmlns=""/><hl7:d xmlns:hl7="urn:x"><e xmlns=""/></hl7:d></x:b><f/></a>`},
		{"prefixed attributes",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><hl7:b xsi:type="CV" hl7:code="1"><c xsi:nil="true"/></hl7:b></hl7:a>`,
			`<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="urn:hl7-org:v3"><b xsi:type="CV" hl7:code="1"><c xsi:nil="true" xmlns=""/></b></a>`},
		{"v3 prefix declared where no element uses it",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c xmlns:v="urn:hl7-org:v3"><d/></c></b></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><b xmlns="urn:hl7-org:v3"><c><d/></c></b></a>`},
		{"other namespace's default, then plain",
			`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:s><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><x/></SignedInfo></Signature></hl7:s><t><u/></t></hl7:a>`,
			`<a xmlns="urn:hl7-org:v3"><s><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><x/></SignedInfo></Signature></s><t xmlns=""><u/></t></a>`},
		{"no v3 prefix",
			`<x:a xmlns:x="urn:x" xmlns="urn:hl7-org:v3"><ds:b xmlns:ds="urn:d"><c/></ds:b><d/></x:a>`,
			`<x:a xmlns:x="urn:x" xmlns="urn:hl7-org:v3"><ds:b xmlns:ds="urn:d"><c/></ds:b><d/></x:a>`},
		{"no v3 prefix, root without one",
			`<a xmlns="urn:hl7-org:v3"><ds:b xmlns:ds="urn:d"><c/></ds:b><d/></a>`,
			`<a xmlns="urn:hl7-org:v3"><ds:b xmlns:ds="urn:d"><c/></ds:b><d/></a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, notes, ok := scanXMLIn([]byte(tt.doc), nil)
			if !ok || !notes.prefixed || (doc.Root().Space != "") != (len(notes.marked) > 0) {
				t.Fatalf("scanned %v, notes %+v", ok, notes)
			}
			unprefixMarked(doc.Root(), notes.marked)
			whole, _ := scanXML([]byte(tt.doc))
			unprefix(whole.Root())
			ref, _ := scanXML([]byte(tt.doc))
			unprefixByMap(ref.Root())
			for _, d := range []struct {
				name string
				doc  string
			}{{"marked", writeString(t, doc.Root())}, {"whole walk", writeString(t, whole.Root())}, {"reference", writeString(t, ref.Root())}} {
				if d.doc != tt.want {
					t.Errorf("%s:\n%s\nwant\n%s", d.name, d.doc, tt.want)
				}
			}
		})
	}
}

// TestScanMarked checks the scanner's marked elements: each element with a
// prefix or a namespace declaration, and each it is in, in document order,
// whichever way its start tag is read; none (nil) for a document whose
// root has no prefix.
func TestScanMarked(t *testing.T) {
	tests := []struct {
		doc  string
		want []string // tags, nil when no element has a prefix
	}{
		{`<a xmlns="urn:hl7-org:v3"><b><c xmlns="urn:x"/></b></a>`, nil},
		{`<p:a xmlns:p="urn:hl7-org:v3"><b><c/></b><d><e><p:f/></e></d><g x="1"/></p:a>`, []string{"a", "d", "e", "f"}},
		{`<a xmlns="urn:hl7-org:v3"><b><c/><d x:y="1" xmlns:x="urn:x"/></b><p:e xmlns:p="urn:p"/></a>`, nil},
		{`<q:a xmlns:q="urn:hl7-org:v3"><b><c/><d x:y="1" xmlns:x="urn:x"/></b><p:e xmlns:p="urn:p"/><f xmlns=""><g/></f></q:a>`, []string{"a", "b", "d", "e", "f"}},
		// Read by the step-by-step reader: an attribute with a reference,
		// one with a name other than xmlns starting with x.
		{`<q:a xmlns:q="urn:hl7-org:v3" v="&amp;"><b xmlns="urn:hl7-org:v3" w="&lt;"><c xa="1"/><p:d xmlns:p="urn:p" v="&#65;"/></b><e/></q:a>`, []string{"a", "b", "d"}},
	}
	for _, tt := range tests {
		_, notes, ok := scanXMLIn([]byte(tt.doc), nil)
		if !ok {
			t.Fatalf("%s: not scanned", tt.doc)
		}
		var got []string
		for _, e := range notes.marked {
			got = append(got, e.Tag)
		}
		if len(got) != len(tt.want) || (tt.want == nil) != (notes.marked == nil) {
			t.Errorf("%s: marked %q, want %q", tt.doc, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: marked %q, want %q", tt.doc, got, tt.want)
				break
			}
		}
	}
}

// writeString returns e written as etree writes it.
func writeString(t *testing.T, e *etree.Element) string {
	t.Helper()
	d := etree.NewDocument()
	d.SetRoot(e.Copy())
	s, err := d.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
