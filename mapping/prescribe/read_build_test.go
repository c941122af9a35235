package prescribe

import (
	"regexp"
	"testing"
)

// TestCutLeadingElement checks cutLeadingElement against the regular
// expression it stands for.
func TestCutLeadingElement(t *testing.T) {
	re := regexp.MustCompile(`^\s*<medication>(.*?)</medication>`)
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
		"<medication>a</medication</medication>",
		"",
	} {
		content, rest, ok := cutLeadingElement(text, "<medication>", "</medication>")
		m := re.FindStringSubmatch(text)
		if ok != (m != nil) {
			t.Errorf("%q: matched %v, the expression %v", text, ok, m != nil)
			continue
		}
		if ok && (content != m[1] || rest != text[len(m[0]):]) {
			t.Errorf("%q: got %q, %q; the expression %q, %q", text, content, rest, m[1], text[len(m[0]):])
		}
	}
}
