package v3

import (
	"testing"
	"unicode"

	"github.com/beevik/etree"
)

// TestJSBlankToken checks that the white space flag shortcut agrees with
// jsBlank for text tokens made every way etree and the writers make them.
func TestJSBlankToken(t *testing.T) {
	for _, s := range []string{"", " ", "\n    ", "\t\r\n", "\u00a0", " \ufeff ", "\u2028", "\u0085", "x", "  x  ", " \u00a0x"} {
		want := jsBlank(s)
		el := etree.NewElement("e")
		tokens := map[string]*etree.CharData{
			"NewCharData": etree.NewCharData(s),
			"CreateText":  el.CreateText(s),
			"SetData":     func() *etree.CharData { c := etree.NewCharData("x"); c.SetData(s); return c }(),
		}
		if s != "" {
			tokens["AddText"] = AddText(etree.NewElement("p"), "e", s).Child[0].(*etree.CharData)
		}
		if doc, ok := scanXML([]byte("<r>" + s + "<e/></r>")); ok && s != "" {
			tokens["scanXML"] = doc.Root().Child[0].(*etree.CharData)
		}
		for how, tok := range tokens {
			if got := jsBlankToken(tok); got != want {
				t.Errorf("%s(%q): jsBlankToken %v, jsBlank %v", how, s, got, want)
			}
		}
	}
}

// TestIsJSSpace checks IsJSSpace against JavaScript's white space as
// ECMAScript defines it: the named control characters, U+FEFF, the line
// terminators U+2028 and U+2029, and Unicode's space separators (Zs).
func TestIsJSSpace(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == '\ufeff' ||
			r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Zs, r)
		if got := IsJSSpace(r); got != want {
			t.Errorf("IsJSSpace(%U) = %v, want %v", r, got, want)
		}
	}
}
