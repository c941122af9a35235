package core

import (
	"testing"

	"github.com/beevik/etree"
)

// TestSameElementEditedCopies holds SameElementEdited to SameElement's
// answer when the copies of the copied elements are given (TreeEdits'
// Copies): a copy with its original's very name and attributes is not
// compared again, but one whose attributes were changed after copying,
// one whose counterpart in b changed, and the text an edit of the
// children changes still are.
func TestSameElementEditedCopies(t *testing.T) {
	parse := func(t *testing.T, s string) *etree.Element {
		t.Helper()
		d := etree.NewDocument()
		if err := d.ReadFromString(s); err != nil {
			t.Fatal(err)
		}
		return d.Root()
	}
	// pathCopy copies a's root as v3.Space.ShallowCopy does, leaving out
	// the child elements at the given positions.
	pathCopy := func(a *etree.Element, drop ...int) (*etree.Element, TreeEdits) {
		cp := etree.NewElement(a.Tag)
		cp.Space = a.Space
		for _, at := range a.Attr {
			cp.CreateAttr(at.FullKey(), at.Value)
		}
		e := TreeEdits{Copied: []*etree.Element{a}, Copies: []*etree.Element{cp}}
		n := 0
		for _, tok := range a.Child {
			if ch, ok := tok.(*etree.Element); ok {
				left := false
				for _, d := range drop {
					left = left || d == n
				}
				n++
				if left {
					e.Removed = append(e.Removed, ch)
					continue
				}
			}
			cp.Child = append(cp.Child, tok)
		}
		return cp, e
	}
	for _, tc := range []struct {
		name string
		a    string
		drop []int
		// alter changes the copy after it is made (as the typeId's is).
		alter func(cp *etree.Element)
		b0    string
		edit  func(b *etree.Element, e *TreeEdits)
		want  bool
	}{
		{"verbatim copy", `<r k="1" m="2"><x/><p/></r>`, []int{1}, nil, `<r k="1" m="2"><x/></r>`, func(b *etree.Element, e *TreeEdits) {
			e.Inserted = append(e.Inserted, b.CreateElement("p"))
		}, true},
		{"prefixed attribute copied", `<r xmlns:h="urn:h" h:k="1"><x/><p/></r>`, []int{1}, nil, `<r xmlns:h="urn:h" h:k="1"><x/></r>`, func(b *etree.Element, e *TreeEdits) {
			e.Inserted = append(e.Inserted, b.CreateElement("p"))
		}, true},
		{"copy's attribute changed after copying", `<r k="1"><x/></r>`, nil, func(cp *etree.Element) { cp.CreateAttr("k", "2") }, `<r k="2"><x/></r>`, func(*etree.Element, *TreeEdits) {}, false},
		{"copy's attribute changed back in b", `<r k="1"><x/></r>`, nil, func(cp *etree.Element) { cp.CreateAttr("k", "2") }, `<r k="2"><x/></r>`, func(b *etree.Element, e *TreeEdits) {
			b.CreateAttr("k", "1")
			e.Changed = append(e.Changed, b)
		}, true},
		{"verbatim copy, b's counterpart changed", `<r k="1"><x/></r>`, nil, nil, `<r k="1"><x/></r>`, func(b *etree.Element, e *TreeEdits) {
			b.CreateAttr("k", "2")
			e.Changed = append(e.Changed, b)
		}, false},
		{"leading text the left-out element hid", `<r><p/>t<x/></r>`, []int{0}, nil, `<r>t<x/></r>`, func(b *etree.Element, e *TreeEdits) {
			p := etree.NewElement("p")
			b.InsertChildAt(1, p)
			e.Inserted = append(e.Inserted, p)
		}, false},
		{"leading text hidden alike", `<r><p/>t<x/></r>`, []int{0}, nil, `<r>t<x/></r>`, func(b *etree.Element, e *TreeEdits) {
			p := etree.NewElement("p")
			b.InsertChildAt(0, p)
			e.Inserted = append(e.Inserted, p)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := parse(t, tc.a), parse(t, tc.b0)
			a0, e := pathCopy(a, tc.drop...)
			if tc.alter != nil {
				tc.alter(a0)
			}
			if !SameElement(a0, b, nil) {
				t.Fatal("the trees before the edits differ")
			}
			tc.edit(b, &e)
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
