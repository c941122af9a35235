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
	}
	built := v3.NewHolder("p")
	for _, s := range []string{"", "  ", " x ", "\n\t"} {
		e := v3.AddText(built, "e", s)
		v3.Add(e, "c")
		e.AddChild(etree.NewCharData(" after "))
		if got, want := trimmedText(e), strings.TrimSpace(v3.ElementText(e)); got != want {
			t.Errorf("written %q: trimmedText %q, want %q", s, got, want)
		}
	}
}
