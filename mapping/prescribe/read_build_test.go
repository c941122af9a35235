package prescribe

import (
	"regexp"
	"testing"
)

// jsSpace is JavaScript's \s as a Go character class.
const jsSpace = `[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`

// TestCutLeadingElement checks cutLeadingElement against the regular
// expressions it stands for: a prescriber's (content on one line) and the
// EPS API's release translation's (/^\s*<medication>([\s\S]*?)<\/medication>/).
func TestCutLeadingElement(t *testing.T) {
	for _, mode := range []struct {
		released bool
		re       *regexp.Regexp
	}{
		{false, regexp.MustCompile(`^\s*<medication>(.*?)</medication>`)},
		{true, regexp.MustCompile(`^` + jsSpace + `*<medication>((?s:.*?))</medication>`)},
	} {
		for _, text := range []string{
			"<medication>Aspirin</medication>rest",
			" \n\t<medication>A &amp; B</medication><medication>C</medication>",
			"<medication></medication>",
			"<medication>two\nlines</medication>",
			"<medication>one</medication>\n<medication>x</medication>",
			"<medication>unclosed",
			"x<medication>late</medication>",
			"\v<medication>vertical tab</medication>",
			"\f\r<medication>form feed</medication>",
			"\u00a0\u2028\ufeff<medication>no-break space</medication>",
			"<medication>a</medication</medication>",
			"",
		} {
			content, rest, ok := cutLeadingElement(text, "<medication>", "</medication>", mode.released)
			m := mode.re.FindStringSubmatch(text)
			if ok != (m != nil) {
				t.Errorf("released %v, %q: matched %v, the expression %v", mode.released, text, ok, m != nil)
				continue
			}
			if ok && (content != m[1] || rest != text[len(m[0]):]) {
				t.Errorf("released %v, %q: got %q, %q; the expression %q, %q", mode.released, text, content, rest, m[1], text[len(m[0]):])
			}
		}
	}
}

// TestCutReleasedCDWords checks cutReleasedCDWords against the release
// translation's /^\s*CD: (.*?)(?:$|\n)/ ("." stops at \n, \r, U+2028 and
// U+2029).
func TestCutReleasedCDWords(t *testing.T) {
	re := regexp.MustCompile(`^` + jsSpace + `*CD: ([^\n\r\x{2028}\x{2029}]*?)(?:$|\n)`)
	for _, text := range []string{
		"CD: ten",
		"CD: ten\nnote",
		"CD: ten\nnote\nmore",
		"\n\nCD: twenty eight",
		" \u00a0CD: five\n",
		"CD: ten\r\nnote",
		"CD: ten\u2028x\nnote",
		"CD: \nnote",
		"CD:ten",
		"x CD: ten",
		"",
	} {
		words, rest, ok := cutReleasedCDWords(text)
		m := re.FindStringSubmatch(text)
		if ok != (m != nil) {
			t.Errorf("%q: matched %v, the expression %v", text, ok, m != nil)
			continue
		}
		if ok && (words != m[1] || rest != text[len(m[0]):]) {
			t.Errorf("%q: got %q, %q; the expression %q, %q", text, words, rest, m[1], text[len(m[0]):])
		}
	}
}

// TestMarkupTextReleased checks a released mark-up's content against what
// the EPS API's release translation (xml-js over sax) gave for it, run
// beside the project (never in CI).
func TestMarkupTextReleased(t *testing.T) {
	for in, want := range map[string]string{
		"Aspirin":                  "Aspirin",
		"Fish &amp; chips":         "Fish & chips",
		"Tom &amp;amp; Jerry":      "Tom &amp; Jerry",
		"&lt;&gt;":                 "<>",
		"&#38;amp;":                "&amp;",
		"A &quot;&apos; B":         "A \"' B",
		"&#x41;&#X42;&#67;":        "ABC",
		"&#9;tab":                  "\ttab",
		"A &nbsp; B":               "A \u00a0 B",
		"A &Amp; B":                "A & B",
		"&Eacute;&eacute;&EACUTE;": "\u00c9\u00e9\u00e9",
		"A &amp; B & C":            "A &amp; B & C",
		"a < b":                    "a < b",
		"A &amp B":                 "A &amp B",
		"&ampx;":                   "&ampx;",
		"A &#0; B":                 "A &#0; B",
		"&#1114112;":               "&#1114112;",
		"&#xD800;":                 "&#xD800;",
		"   ":                      "",
		"&#32;":                    "",
		"line one\n\nline two\n\n": "line one\n\nline two\n\n",
	} {
		if got := markupText(in, true); got != want {
			t.Errorf("markupText(%q, released) = %q, want %q", in, got, want)
		}
	}
}
