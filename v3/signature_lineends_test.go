package v3

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/racetest"
)

// TestFragmentLineEnds: the bytes the official EPS translator hashes (its
// XML reader and canonicaliser run on these elements beside the project,
// never in CI): it writes the fragments as XML and parses them again, and
// its parser (xmldom) reads CR LF, CR NEL, CR, NEL, LS and PS as a line
// feed, which in an attribute becomes a space. Before, porxgate hashed a
// legacy sender's &#xD; as &#xD;, so its digest of such a prescription
// differed from EPS's. A processing instruction stays, as Exclusive C14N
// keeps it (porxgate dropped it before, so a fragment EPS could never
// derive from FHIR compared equal to one it could).
func TestFragmentLineEnds(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"text CR LF reference", "<v>a&#xD;&#xA;b</v>", "<v>a\nb</v>"},
		{"text lone CR", "<v>a&#13;b&#xD;</v>", "<v>a\nb\n</v>"},
		{"text CR CR LF", "<v>a&#xD;&#xD;&#xA;b</v>", "<v>a\n\nb</v>"},
		{"text NEL LS PS", "<v>a\u0085b\u2028c\u2029d&#xD;\u0085e</v>", "<v>a\nb\nc\nd\ne</v>"},
		{"text raw CR LF", "<v>a\r\nb\rc</v>", "<v>a\nb\nc</v>"},
		// EPS's canonicaliser drops a CDATA section read from v3; porxgate
		// hashes its text, as EPS derives it from FHIR.
		{"CDATA CR", "<v><![CDATA[a\r\nb]]>&#xD;x</v>", "<v>a\nb\nx</v>"},
		{"attribute lone CR", `<v d="a&#13;b"/>`, `<v d="a b"></v>`},
		{"attribute CR LF, tab, NEL, LS", "<v d=\"a&#xD;&#xA;b&#9;c\u0085d\u2028e&#xD;\u0085f\"/>", `<v d="a b c d e f"></v>`},
		// EPS writes these as <?undefined x=1?> and <?undefined?>, an
		// instruction either way, which FHIR cannot carry.
		{"instruction in text", "<v>a<?w x=1?> b</v>", "<v>a b<?w x=1?></v>"},
		{"instruction between elements", "<v><?w?><c/></v>", "<v><?w?><c></c></v>"},
		{"comment dropped", "<v>a<!-- c --> b</v>", "<v>a b</v>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ReadXML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			cp, cerr := copyNormalised(doc.Root(), "/v", false, nil)
			if cerr != nil {
				t.Fatal(cerr)
			}
			got, err := canonicalize(cp)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestElementText: a processing instruction or a comment inside a text is
// not part of it, and the runs either side are one text (etree's Text stops
// at the instruction, which cut a legacy sender's dosage text short).
func TestElementText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<v>plain</v>", "plain"},
		{"<v/>", ""},
		{"<v>a<?pi x?> b<!-- c --> c</v>", "a b c"},
		{"<v><?pi?>a</v>", "a"},
		{"<v>a<c/>b</v>", "a"},
		{"<v><![CDATA[a&]]>b</v>", "a&b"},
	}
	for _, tt := range tests {
		doc, err := ReadXML([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := ElementText(doc.Root()); got != tt.want {
			t.Errorf("ElementText(%s) = %q, want %q", tt.in, got, tt.want)
		}
		if got := (Node{El: doc.Root()}).Text(); got != tt.want {
			t.Errorf("Node.Text(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if ElementText(nil) != "" {
		t.Error("ElementText(nil) not empty")
	}
}

// TestSameSignedParts: the quick walk agrees with the fragment comparison
// wherever it says "same", and says "not same" for every change the
// fragments see (and, conservatively, for a text split differently).
func TestSameSignedParts(t *testing.T) {
	orig := readFileBytes(t, fixturePath)
	edit := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(orig, []byte(old)) {
			t.Fatalf("fixture lacks %q", old)
		}
		return bytes.Replace(orig, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name      string
		other     []byte
		wantQuick bool // SameSignedParts
		wantEqual bool // CompareSignatureFragments
	}{
		{"itself", orig, true, true},
		{"comment added", edit("<family>", "<!-- x --><family>"), true, true},
		{"white space between elements", edit("<family>", "\n  <family>"), true, true},
		{"namespace declaration added", edit("<family>", `<family xmlns="urn:hl7-org:v3">`), true, true},
		{"processing instruction added", edit("<family>", "<?w?><family>"), false, false},
		{"text changed", edit("<family>", "<family>X"), false, false},
		{"attribute changed", edit(`extension="9990000018"`, `extension="9990000019"`), false, false},
		{"attribute added", edit("<family>", `<family use="x">`), false, false},
		{"text as CDATA", edit("1 tablet &lt;4 times&gt;", "<![CDATA[1 tablet <4 times>]]>"), false, true},
		{"line end written another way", edit("&#13;", "&#xD;"), true, true},
	}
	_, a, err := Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	pa := a.El.FindElement("ControlActEvent/subject/ParentPrescription")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, b, err := Parse(tt.other)
			if err != nil {
				t.Fatal(err)
			}
			pb := b.El.FindElement("ControlActEvent/subject/ParentPrescription")
			if got := SameSignedParts(pa, pb); got != tt.wantQuick {
				t.Errorf("SameSignedParts = %v, want %v", got, tt.wantQuick)
			}
			if got := CompareSignatureFragments(pa, pb) == nil; got != tt.wantEqual {
				t.Errorf("fragments equal = %v, want %v", got, tt.wantEqual)
			}
		})
	}
	if SameSignedParts(nil, pa) || SameSignedParts(pa, etree.NewElement("ParentPrescription")) {
		t.Error("a missing part compares the same")
	}
}

// TestHasLineEnd: hasLineEnd says what strings.ContainsAny with the four
// line-end characters says, on the neighbours of their UTF-8 forms (’ and
// … share LS's first two bytes, Â and é NEL's first), cut ones at the end,
// and random strings.
func TestHasLineEnd(t *testing.T) {
	const ends = "\r\u0085\u2028\u2029"
	cases := []string{"", "plain", "one\rtwo", "one\ntwo", "a\u0085b", "a\u2028b", "a\u2029b",
		"it’s", "wait…", "Â", "café", "\xc2", "\xe2\x80", "x\xc2", "x\xe2\x80", "\xc2\xc2\x85", "\xe2\xe2\x80\xa9",
		"😀", "tab\there", "’’’\u2029"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", " ", "\r", "\n", "\u0085", "\u2028", "\u2029", "’", "…", "é", "\xc2", "\xe2", "\x80", "\xa8"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := hasLineEnd(s), strings.ContainsAny(s, ends); got != want {
			t.Errorf("hasLineEnd(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestSameSignedAttrs: attributes compare the same in any order with
// namespace declarations set aside, and a prefixed attribute never does,
// even where both lists are identical (the quick in-order check must not
// let it by, nor SignableAttrs, which callers ask of lists equal in order).
func TestSameSignedAttrs(t *testing.T) {
	el := func(attrs ...string) *etree.Element {
		e := etree.NewElement("x")
		for i := 0; i+1 < len(attrs); i += 2 {
			e.CreateAttr(attrs[i], attrs[i+1])
		}
		return e
	}
	tests := []struct {
		name string
		a, b *etree.Element
		want bool
	}{
		{"same order", el("a", "1", "b", "2"), el("a", "1", "b", "2"), true},
		{"other order", el("a", "1", "b", "2"), el("b", "2", "a", "1"), true},
		{"value differs", el("a", "1", "b", "2"), el("a", "1", "b", "3"), false},
		{"one more", el("a", "1"), el("a", "1", "b", "2"), false},
		{"declarations set aside", el("xmlns", "urn:hl7-org:v3", "a", "1"), el("a", "1", "xmlns:x", "urn:x"), true},
		{"same declarations", el("xmlns:x", "urn:x", "a", "1"), el("xmlns:x", "urn:x", "a", "1"), true},
		{"prefixed attribute in both", el("x:a", "1"), el("x:a", "1"), false},
		{"prefixed attribute in one", el("a", "1"), el("a", "1", "x:b", "2"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameSignedAttrs(tt.a, tt.b); got != tt.want {
				t.Errorf("SameSignedAttrs = %v, want %v", got, tt.want)
			}
			if got := SameSignedAttrs(tt.b, tt.a); got != tt.want {
				t.Errorf("SameSignedAttrs reversed = %v, want %v", got, tt.want)
			}
			if sameOwnAttrsInOrder(tt.a.Attr, tt.b.Attr) || tt.name == "prefixed attribute in both" {
				if got := SignableAttrs(tt.a.Attr); got != tt.want {
					t.Errorf("SignableAttrs = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestAppendSignedParts: AppendSignedParts lists what SignedParts lists
// after what dst holds, into dst's room when it has enough, and gives dst
// back unchanged when a part is missing.
func TestAppendSignedParts(t *testing.T) {
	_, a, err := Parse(readFileBytes(t, fixturePath))
	if err != nil {
		t.Fatal(err)
	}
	pp := a.El.FindElement("ControlActEvent/subject/ParentPrescription")
	want := SignedParts(pp)
	if len(want) < 5 {
		t.Fatalf("%d parts", len(want))
	}
	mark := etree.NewElement("mark")
	var room [32]*etree.Element
	dst := append(room[:0], mark)
	got, ok := AppendSignedParts(dst, pp)
	if !ok || got[0] != mark || !slices.Equal(got[1:], want) || &got[0] != &room[0] {
		t.Errorf("into room: %v %d parts, want the mark and %d in the room", ok, len(got), len(want))
	}
	small := make([]*etree.Element, 1, 2)
	small[0] = mark
	if got, ok := AppendSignedParts(small, pp); !ok || got[0] != mark || !slices.Equal(got[1:], want) {
		t.Errorf("grown: %v, %d parts", ok, len(got))
	}
	if racetest.Enabled {
		return // allocation counts are the race detector's own
	}
	if n := testing.AllocsPerRun(10, func() { AppendSignedParts(small, pp) }); n != 1 {
		t.Errorf("grown in %v allocations, want 1", n)
	}
	if n := testing.AllocsPerRun(10, func() { AppendSignedParts(room[:0], pp) }); n != 0 {
		t.Errorf("%v allocations with room, want 0", n)
	}
	if got, ok := AppendSignedParts([]*etree.Element{mark}, etree.NewElement("ParentPrescription")); ok || len(got) != 1 || got[0] != mark {
		t.Errorf("a part missing: %v, %d", ok, len(got))
	}
	if got, ok := AppendSignedParts(nil, nil); ok || got != nil {
		t.Errorf("no prescription: %v, %v", ok, got)
	}
}
