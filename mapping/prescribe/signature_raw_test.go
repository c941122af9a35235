package prescribe

import (
	"bytes"
	"testing"
)

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

// rawInnerScanTwoPasses is rawInnerScan as it was before its one pass
// (indexStartOrEndTag): a search for a second start tag over the rest of
// raw, then one for the end tag over the content. The reference it is
// held to.
func rawInnerScanTwoPasses(raw []byte, tag string) ([]byte, bool) {
	i := indexStartTag(raw, tag)
	if i < 0 || indexStartTag(raw[i+1+len(tag):], tag) >= 0 {
		return nil, false
	}
	rest := raw[i+1+len(tag):]
	if len(rest) == 0 || (rest[0] != '>' && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\r' && rest[0] != '\n') {
		return nil, false
	}
	gt := bytes.IndexByte(rest, '>')
	if gt < 0 || (gt > 0 && rest[gt-1] == '/') {
		return nil, false
	}
	body := rest[gt+1:]
	end := bytes.Index(body, []byte("</"+tag+">"))
	if end < 0 {
		return nil, false
	}
	return body[:end], true
}

// rawInnerScanInputs are messages and near misses for TestRawInnerScan and
// the seeds of FuzzRawInnerScan: end tags before, inside and after the
// element, start tags after the end, look-alike names, an end tag without
// its '>', anchors at the edges.
var rawInnerScanInputs = []string{
	`<a><signatureText><S>x</S></signatureText></a>`,
	`<a></signatureText><signatureText>y</signatureText></a>`,
	`<a><signatureText>y</signatureText></signatureText></a>`,
	`<a><signatureText>y</signatureText><signatureText>z</signatureText></a>`,
	`<a><signatureText>y</signatureText ></signatureText></a>`,
	`<a><signatureText>y</signatureTextX></signatureText></a>`,
	`<a><signatureText>y</signatureText`,
	`<a><signatureText>y<signatureTextX/></signatureText></a>`,
	`<a><signatureText a="</signatureText>">y</signatureText></a>`,
	`<a><signatureText>y<!-- </signatureText> --></signatureText></a>`,
	`<signatureText></signatureText>`,
	`<signatureText>`,
	`<signatureText >x</signatureText><!-- <signatureText -->`,
	"<signatureText\n>x<//signatureText></signatureText>",
	`x</signatureText>`,
	`<x></x>`,
}

// TestRawInnerScan holds rawInnerScan to its two passes of before.
func TestRawInnerScan(t *testing.T) {
	for _, in := range rawInnerScanInputs {
		checkRawInnerScan(t, []byte(in))
	}
}

// checkRawInnerScan compares rawInnerScan with rawInnerScanTwoPasses on
// raw, for signatureText and for a tag without an x.
func checkRawInnerScan(t *testing.T, raw []byte) {
	t.Helper()
	for _, tag := range []string{"signatureText", "a", "x", "S"} {
		got, ok := rawInnerScan(raw, tag)
		want, wantOK := rawInnerScanTwoPasses(raw, tag)
		if ok != wantOK || !bytes.Equal(got, want) {
			t.Errorf("rawInnerScan(%q, %q) = %q, %v; want %q, %v", raw, tag, got, ok, want, wantOK)
		}
	}
}

// FuzzRawInnerScan holds rawInnerScan to rawInnerScanTwoPasses on any
// bytes (seeds in rawInnerScanInputs).
func FuzzRawInnerScan(f *testing.F) {
	for _, in := range rawInnerScanInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkRawInnerScan(t, raw)
	})
}
