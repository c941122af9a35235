package core

import (
	"testing"

	"github.com/beevik/etree"
)

// TestSameElementEditedCopies holds SameElementEdited and
// SameElementEditedUnder to SameElement's answer when the copies of the
// copied elements are given (TreeEdits' Copies), on trees made as
// FuzzSameElementEdited makes them: a copy with its original's very name
// and attributes is not compared again, but one whose attributes were
// changed after copying, one whose counterpart in b changed, and the text
// an edit of the children changes still are.
func TestSameElementEditedCopies(t *testing.T) {
	setK := func(v string) func(*etree.Element) {
		return func(cp *etree.Element) { cp.CreateAttr("k", v) }
	}
	for _, tc := range []struct {
		name      string
		x, y      string
		drop, ins uint8
		alter     func(*etree.Element)
		want      bool
	}{
		{"verbatim copy", `<a/><p/>`, `<p/>`, 1, 1, nil, true},
		{"verbatim copy, put back elsewhere", `<a/><p/>`, `<p/>`, 1, 0, nil, false},
		{"prefixed attribute copied", `<q xmlns:h="urn:h" h:k="1" k="1"><a/><p/></q>`, `<p/>`, 0x81, 1, nil, true},
		{"copy's attribute changed after copying", `<a/><p/>`, `<p/>`, 1, 1, setK("2"), false},
		{"copy's attribute changed back in b", `<a/><p/>`, `<p/>`, 1, 0x81, setK("2"), true},
		{"verbatim copy, b's counterpart changed", `<a/><p/>`, `<p/>`, 1, 0x81, nil, false},
		{"leading text the left-out element hid", `<p/>t<x/>`, `<p/>`, 0, 1, nil, false},
		{"leading text hidden alike", `<p/>t<x/>`, `<p/>`, 0, 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, e, ok := fuzzEdited(tc.x, tc.y, tc.drop, tc.ins, tc.alter)
			if !ok {
				t.Fatal("no trees made, or they differ before the edits")
			}
			want := SameElement(a, b, nil)
			if want != tc.want {
				t.Fatalf("SameElement says %v, the case %v", want, tc.want)
			}
			if got := SameElementEdited(a, b, nil, e); got != want {
				t.Errorf("SameElementEdited says %v, SameElement %v", got, want)
			}
			if got := SameElementEditedUnder(a, b, "signatureText", e); got != want {
				t.Errorf("SameElementEditedUnder says %v, SameElement %v", got, want)
			}
		})
	}
}
