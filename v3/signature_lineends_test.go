package v3

import (
	"testing"
)

// TestFragmentLineEnds: the bytes the official EPS translator hashes (its
// XML reader and canonicaliser run on these elements beside the project,
// never in CI): it writes the fragments as XML and parses them again, and
// its parser (xmldom) reads CR LF, CR NEL, CR, NEL, LS and PS as a line
// feed, which in an attribute becomes a space. Before, porxgate hashed a
// legacy sender's &#xD; as &#xD;, so its digest of such a prescription
// differed from EPS's.
func TestFragmentLineEnds(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"text CR LF reference", "<v>a&#xD;&#xA;b</v>", "<v>a\nb</v>"},
		{"text lone CR", "<v>a&#13;b&#xD;</v>", "<v>a\nb\n</v>"},
		{"text CR CR LF", "<v>a&#xD;&#xD;&#xA;b</v>", "<v>a\n\nb</v>"},
		{"text NEL LS PS", "<v>a\u0085b\u2028c\u2029d&#xD;\u0085e</v>", "<v>a\nb\nc\nd\ne</v>"},
		{"text raw CR LF", "<v>a\r\nb\rc</v>", "<v>a\nb\nc</v>"},
		// EPS's canonicaliser drops a CDATA section read from v3; porxgate
		// hashes its text, as EPS derives it from FHIR.
		{"CDATA CR", "<v><![CDATA[a\r\nb]]>&#xD;x</v>", "<v>a\nb\nx</v>"},
		{"attribute lone CR", `<v d="a&#13;b"/>`, `<v d="a b"></v>`},
		{"attribute CR LF, tab, NEL, LS", "<v d=\"a&#xD;&#xA;b&#9;c\u0085d\u2028e&#xD;\u0085f\"/>", `<v d="a b c d e f"></v>`},
		{"comment dropped", "<v>a<!-- c --> b</v>", "<v>a b</v>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ReadXML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			cp, cerr := copyNormalised(doc.Root(), "/v", false, nil)
			if cerr != nil {
				t.Fatal(cerr)
			}
			got, err := canonicalize(cp)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
