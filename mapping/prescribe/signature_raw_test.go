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
