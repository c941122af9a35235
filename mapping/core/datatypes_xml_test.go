package core

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestWriteIndentedMatchesEtree checks WriteIndented writes what etree's
// Indent(2) and WriteToBytes write.
func TestWriteIndentedMatchesEtree(t *testing.T) {
	doc, root := v3.NewDocument("PORX_IN020101UK31")
	v3.AddII(root, "id", "X", "")
	a := v3.Add(root, "a", "q", `say "hi" & 'bye' <now>`+"\t\n\r")
	v3.AddText(a, "value", "text & <more> 'quoted' \"too\"\r \x01 \xff é")
	v3.Add(v3.Add(a, "b"), "c", "k", "v")
	a.CreateComment("note")
	v3.Add(root, "empty")
	v3.Add(root, "commented").CreateComment("alone")
	want := bytes.Replace(v3.Bytes(doc.Copy()), []byte("<commented>\n    <!--alone-->\n  </commented>"), []byte("<commented><!--alone--></commented>"), 1)
	if got := WriteIndented(doc); !bytes.Equal(got, want) {
		t.Errorf("WriteIndented:\n%s\nwant (etree):\n%s", got, want)
	}
}

// TestAppendEscaped checks appendEscaped's escapes, after a plain run of
// any length included, appended to what the buffer holds.
func TestAppendEscaped(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain text, 2.16.840.1.113883.2.1.3.2.4.17.284", "plain text, 2.16.840.1.113883.2.1.3.2.4.17.284"},
		{"&", "&amp;"},
		{"a&b", "a&amp;b"},
		{"<x>", "&lt;x&gt;"},
		{`'"`, "&apos;&quot;"},
		{"abcdefghijklmnop&", "abcdefghijklmnop&amp;"},
		{"ok\x01", "ok\uFFFD"},
		{"\t\n\r", "\t\n\r"},
		{"é ü", "é ü"},
		{"\xff", "\uFFFD"},
		{"a\xef\xbf\xbeb", "a\uFFFDb"}, // U+FFFE, not an XML character
		// Runs of plain bytes longer than a word between escapes, DEL plain.
		{"abcdefghijklmnop<qrstuvwxyz012345>6789abcdef'ghij\"", "abcdefghijklmnop&lt;qrstuvwxyz012345&gt;6789abcdef&apos;ghij&quot;"},
		{"12345678\x7f9abcdefgh\x02ijklmnopq\u00e9rstuvwxyz", "12345678\x7f9abcdefgh\uFFFDijklmnopq\u00e9rstuvwxyz"},
	} {
		got := appendEscaped([]byte("pre|"), tc.in)
		if string(got) != "pre|"+tc.want {
			t.Errorf("appendEscaped(%q) = %q, want %q", tc.in, got[4:], tc.want)
		}
	}
}

// TestUpperUUID checks UpperUUID upper-cases UUIDs (as strings.ToUpper)
// and leaves anything else as it is.
func TestUpperUUID(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a54219b8-f741-4c47-b662-e4f8dfa49ab6", "A54219B8-F741-4C47-B662-E4F8DFA49AB6"},
		{"A54219B8-F741-4C47-B662-E4F8DFA49AB6", "A54219B8-F741-4C47-B662-E4F8DFA49AB6"},
		{"A54219B8-F741-4C47-B662-E4F8DFA49Ab6", "A54219B8-F741-4C47-B662-E4F8DFA49AB6"},
		{"a54219b8-f741-4c47-b662-e4f8dfa49ab", "a54219b8-f741-4c47-b662-e4f8dfa49ab"},
		{"a54219b8f7414c47b662e4f8dfa49ab6abcd", "a54219b8f7414c47b662e4f8dfa49ab6abcd"},
		{"g54219b8-f741-4c47-b662-e4f8dfa49ab6", "g54219b8-f741-4c47-b662-e4f8dfa49ab6"},
		{"83C40E-A23856-00123C", "83C40E-A23856-00123C"},
		{"", ""},
	} {
		if got := UpperUUID(tc.in); got != tc.want {
			t.Errorf("UpperUUID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Against its definition, a byte of a UUID changed at each place to
	// each value: strings.ToUpper of s when IsUUID(s), else s.
	base := "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	for i := range len(base) {
		for c := 0; c < 256; c++ {
			in := base[:i] + string([]byte{byte(c)}) + base[i+1:]
			want := in
			if IsUUID(in) {
				want = strings.ToUpper(in)
			}
			if got := UpperUUID(in); got != want {
				t.Fatalf("UpperUUID(%q) = %q, want %q", in, got, want)
			}
		}
	}
}

// TestWriteIndentedFixed checks that elements v3.AddFixed wrote are written
// as the same elements Add wrote, changed after they were written or not.
func TestWriteIndentedFixed(t *testing.T) {
	rel := v3.NewFixed("pertinentInformation", "contextConductionInd", "true", "typeCode", "PERT")
	act := v3.NewFixed("pertinentCancellationReason", "classCode", "OBS", "moodCode", "EVN")
	sep := v3.NewFixed("seperatableInd", "value", "false")
	build := func(fixed bool, change func(r, a, s *etree.Element)) []byte {
		doc, root := v3.NewDocument("PORX_IN030101UK32")
		var r, a, s *etree.Element
		if fixed {
			r = v3.AddFixed(root, rel)
			s = v3.AddFixed(r, sep)
			a = v3.AddFixed(r, act)
		} else {
			r = v3.Add(root, "pertinentInformation", "contextConductionInd", "true", "typeCode", "PERT")
			s = v3.Add(r, "seperatableInd", "value", "false")
			a = v3.Add(r, "pertinentCancellationReason", "classCode", "OBS", "moodCode", "EVN")
		}
		v3.AddText(a, "text", "a & b")
		change(r, a, s)
		return WriteIndented(doc)
	}
	for name, change := range map[string]func(r, a, s *etree.Element){
		"unchanged":        func(r, a, s *etree.Element) {},
		"a value replaced": func(r, a, s *etree.Element) { a.CreateAttr("moodCode", "R&Q") },
		"renamed":          func(r, a, s *etree.Element) { s.Tag = "separatableInd" },
		"an attribute added": func(r, a, s *etree.Element) {
			r.CreateAttr("inversionInd", "<false>")
		},
		"emptied":               func(r, a, s *etree.Element) { a.RemoveChildAt(0) },
		"a middle value reset":  func(r, a, s *etree.Element) { r.CreateAttr("contextConductionInd", "false") },
		"the first value reset": func(r, a, s *etree.Element) { a.CreateAttr("classCode", "OBS") },
	} {
		got, want := build(true, change), build(false, change)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// TestAppendNewline checks the line breaks appendNewline writes at every
// depth, with and without room after the buffer's end for its 32-byte
// store, and that it leaves the buffer's bytes before its end as they were.
func TestAppendNewline(t *testing.T) {
	for depth := 0; depth <= 40; depth++ {
		want := "ab\n" + strings.Repeat("  ", depth)
		for _, room := range []int{0, 1, 31, 32, 33, 100} {
			buf := append(make([]byte, 0, 2+room), "ab"...)
			got := appendNewline(buf, depth)
			if string(got) != want {
				t.Errorf("depth %d, room %d: %q, want %q", depth, room, got, want)
			}
		}
	}
}
