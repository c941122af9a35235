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
	for _, tag := range []string{"signatureText", "id", "pertinentLineItem", "X", "aB", "x", "aTx", "xx"} {
		for _, in := range append(inputs, "<"+tag, "z<"+tag+"<"+tag, tag+"<"+tag[:len(tag)-1]) {
			if got, want := indexStartTag([]byte(in), tag), indexStartTagByHand([]byte(in), tag); got != want {
				t.Errorf("indexStartTag(%q, %q) = %d, want %d", in, tag, got, want)
			}
		}
	}
}

// rawInnerAtStartInputs are spans as a release response gives them, and
// near misses: for TestRawInnerAtStart and the seeds of its fuzz target.
var rawInnerAtStartInputs = []string{
	`<signatureText><S>x</S></signatureText>`,
	`<signatureText></signatureText>`,
	`<signatureText>t</signatureText>`,
	`<signatureText><a/></signatureText><b/></signatureText>`,
	`<signatureText><a/></signatureText ><b/></signatureText>`,
	`<signatureText><signatureText/></signatureText>`,
	`<signatureText><a/></signatureText><signatureText>`,
	`<signatureText><signatureTextX/></signatureText>`,
	`<signatureText><!-- </signatureText> --></signatureText>`,
	`<signatureText></signatureTextX></signatureText>`,
	`<signatureText>unclosed`,
	`<signatureText></signatureText`,
	`<signatureText><`,
	`<signatureText></`,
	`<signatureText>`,
}

// TestRawInnerAtStart holds rawInnerAtStart, rawInner's one pass for raw
// that starts with the start tag, to rawInnerScan, its search of any raw.
func TestRawInnerAtStart(t *testing.T) {
	for _, in := range rawInnerAtStartInputs {
		checkRawInnerAtStart(t, []byte(in))
	}
}

// checkRawInnerAtStart checks that rawInner answers for raw as
// rawInnerScan does.
func checkRawInnerAtStart(t *testing.T, raw []byte) {
	t.Helper()
	got, ok := rawInner(raw, "signatureText")
	want, wantOK := rawInnerScan(raw, "signatureText")
	if ok != wantOK || string(got) != string(want) {
		t.Errorf("rawInner(%q) = %q, %v; want %q, %v", raw, got, ok, want, wantOK)
	}
}

// FuzzRawInnerAtStart holds rawInner to rawInnerScan for any content after
// a signatureText start tag (seeds in testdata/fuzz/FuzzRawInnerAtStart
// and rawInnerAtStartInputs).
func FuzzRawInnerAtStart(f *testing.F) {
	for _, in := range rawInnerAtStartInputs {
		f.Add([]byte(in[len("<signatureText>"):]))
	}
	f.Fuzz(func(t *testing.T, rest []byte) {
		checkRawInnerAtStart(t, append([]byte("<signatureText>"), rest...))
		checkRawInnerAtStart(t, rest)
	})
}
