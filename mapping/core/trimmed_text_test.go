package core

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestTrimmedText checks trimmedText against what it shortens,
// strings.TrimSpace(v3.ElementText(e)), for elements read and written every
// way: indentation, text, comments, instructions, CDATA and a directive
// before the first child.
func TestTrimmedText(t *testing.T) {
	docs := []string{
		"<e>\n  <c/>\n</e>",
		"<e>  text  <c/></e>",
		"<e>\n  <!-- note --> \n<c/></e>",
		"<e> <?pi x?> a <c/> b</e>",
		"<e><![CDATA[ ]]><c/></e>",
		"<e><![CDATA[ x ]]></e>",
		"<e>\r\n\t</e>",
		"<e/>",
		"<e>\u00a0<c/></e>",
		"<!DOCTYPE e><e> <c/> tail</e>",
	}
	for _, d := range docs {
		doc, err := v3.ReadXML([]byte(d))
		if err != nil {
			t.Fatalf("%q: %v", d, err)
		}
		e := doc.Root()
		if got, want := trimmedText(e), strings.TrimSpace(v3.ElementText(e)); got != want {
			t.Errorf("%q: trimmedText %q, want %q", d, got, want)
		}
		if noLeadingText(e) && trimmedText(e) != "" {
			t.Errorf("%q: noLeadingText, but the text is %q", d, trimmedText(e))
		}
	}
	built := v3.NewHolder("p")
	for _, s := range []string{"", "  ", " x ", "\n\t"} {
		e := v3.AddText(built, "e", s)
		v3.Add(e, "c")
		e.AddChild(etree.NewCharData(" after "))
		if got, want := trimmedText(e), strings.TrimSpace(v3.ElementText(e)); got != want {
			t.Errorf("written %q: trimmedText %q, want %q", s, got, want)
		}
		if noLeadingText(e) && trimmedText(e) != "" {
			t.Errorf("written %q: noLeadingText, but the text is %q", s, trimmedText(e))
		}
	}
}

// TestNoLeadingText holds noLeadingText to what it stands for, an empty
// trimmedText, and to saying so for the shapes it is there for: elements
// as read, as written and as built by hand (text not flagged as white
// space, a comment or instruction first, CDATA).
func TestNoLeadingText(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{"<e/>", true},
		{"<e><c/></e>", true},
		{"<e>\n  <c/>\n</e>", true},
		{"<e>  </e>", true},
		{"<e>\r\n\t</e>", true},
		{"<e>x</e>", false},
		{"<e> x <c/></e>", false},
		{"<e><!-- c --><c/></e>", false},
		{"<e> <!-- c --> x <c/></e>", false},
		{"<e> <?pi x?><c/></e>", false},
		{"<e><![CDATA[ ]]><c/></e>", true}, // flagged white space, as trimmedText takes it
		{"<e>\u00a0<c/></e>", false},
	} {
		doc, err := v3.ReadXML([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%q: %v", tc.doc, err)
		}
		e := doc.Root()
		if got := noLeadingText(e); got != tc.want {
			t.Errorf("%q: noLeadingText %t, want %t", tc.doc, got, tc.want)
		}
		if noLeadingText(e) && trimmedText(e) != "" {
			t.Errorf("%q: noLeadingText, but the text is %q", tc.doc, trimmedText(e))
		}
	}
	// Built by hand: text etree does not flag as white space is asked of
	// trimmedText, however blank.
	for _, s := range []string{" ", "x", " x "} {
		e := etree.NewElement("e")
		e.AddChild(etree.NewCharData(s))
		e.AddChild(etree.NewElement("c"))
		if noLeadingText(e) && trimmedText(e) != "" {
			t.Errorf("built %q: noLeadingText, but the text is %q", s, trimmedText(e))
		}
	}
}

// TestSameTrimmedText checks sameTrimmedText against the comparison it
// shortens, trimmedText(a) == trimmedText(b), on pairs of leaves read and
// written every way: the one-text shortcut must say nothing else.
func TestSameTrimmedText(t *testing.T) {
	read := func(t *testing.T, s string) *etree.Element {
		t.Helper()
		doc, err := v3.ReadXML([]byte(s))
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return doc.Root()
	}
	leaves := []func(t *testing.T) *etree.Element{
		func(t *testing.T) *etree.Element { return read(t, "<e>a</e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e> a </e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e>b</e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e>  </e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e/>") },
		func(t *testing.T) *etree.Element { return read(t, "<e><![CDATA[a]]></e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e><![CDATA[ ]]></e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e>a<!-- c -->b</e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e>ab</e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e>a<c/></e>") },
		func(t *testing.T) *etree.Element { return read(t, "<e>\u00a0</e>") },
		func(t *testing.T) *etree.Element { return v3.AddText(v3.NewHolder("p"), "e", "a") },
		func(t *testing.T) *etree.Element { return v3.AddText(v3.NewHolder("p"), "e", "  ") },
		func(t *testing.T) *etree.Element { return v3.AddText(v3.NewHolder("p"), "e", "") },
		func(t *testing.T) *etree.Element {
			e := etree.NewElement("e")
			e.AddChild(etree.NewCharData(" a"))
			return e
		},
	}
	for i, x := range leaves {
		for j, y := range leaves {
			a, b := x(t), y(t)
			if got, want := sameTrimmedText(a, b), trimmedText(a) == trimmedText(b); got != want {
				t.Errorf("leaves %d and %d: sameTrimmedText %t, want %t", i, j, got, want)
			}
		}
	}
}
