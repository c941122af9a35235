package prescribe

import "testing"

func TestRawInner(t *testing.T) {
	tests := []struct {
		name, raw string
		want      string
		ok        bool
	}{
		{"plain", `<a><signatureText><S>x</S></signatureText></a>`, `<S>x</S>`, true},
		{"attributes", "<a><signatureText\n nullFlavor=\"NA\">t</signatureText></a>", `t`, true},
		{"tag text before", `<a><b>signatureText</b><signatureText>y</signatureText></a>`, `y`, true},
		{"longer name", `<a><signatureTextX>y</signatureTextX></a>`, ``, false},
		{"twice", `<signatureText>1</signatureText><signatureText>2</signatureText>`, ``, false},
		{"empty element", `<a><signatureText/></a>`, ``, false},
		{"unclosed", `<a><signatureText>y</a>`, ``, false},
		{"absent", `<a/>`, ``, false},
		{"prefixed", `<hl7:signatureText>y</hl7:signatureText>`, ``, false},
	}
	for _, tt := range tests {
		got, ok := rawInner([]byte(tt.raw), "signatureText")
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("%s: rawInner = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// indexStartTagByHand is indexStartTag the slow way: every position.
func indexStartTagByHand(b []byte, tag string) int {
	for i := 0; i+1+len(tag) <= len(b); i++ {
		if b[i] == '<' && string(b[i+1:i+1+len(tag)]) == tag {
			return i
		}
	}
	return -1
}

// TestIndexStartTag checks the anchored search against every position, for
// tags with and without a capital, near misses and anchors at the edges.
func TestIndexStartTag(t *testing.T) {
	inputs := []string{
		"", "<", "T", "<signatureText", "signatureText", "<signatureTex", "x<signatureText>",
		"TTTT<signatureTexT<signatureText", "<<signatureText", "<s<signatureText/>", "Text<signature<signatureText",
		"<a><b>signatureText</b><signatureText>y</signatureText></a>", "<hl7:signatureText>", "ab<signatureTextX",
	}
	for _, tag := range []string{"signatureText", "id", "pertinentLineItem", "X", "aB"} {
		for _, in := range append(inputs, "<"+tag, "z<"+tag+"<"+tag, tag+"<"+tag[:len(tag)-1]) {
			if got, want := indexStartTag([]byte(in), tag), indexStartTagByHand([]byte(in), tag); got != want {
				t.Errorf("indexStartTag(%q, %q) = %d, want %d", in, tag, got, want)
			}
		}
	}
}
