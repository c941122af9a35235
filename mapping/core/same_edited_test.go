package core

import (
	"testing"

	"github.com/beevik/etree"
)

// TestSameElementEdited holds SameElementEdited to SameElement's answer on
// small trees edited as a released prescription's are: a path copy with
// elements left out, compared with a tree that then gets elements
// inserted and changed. Each case first checks that the trees before the
// edits are alike, as SameElementEdited requires.
func TestSameElementEdited(t *testing.T) {
	parse := func(t *testing.T, s string) *etree.Element {
		t.Helper()
		d := etree.NewDocument()
		if err := d.ReadFromString(s); err != nil {
			t.Fatal(err)
		}
		return d.Root()
	}
	// pathCopy returns a copy of a in which the elements at the given
	// child positions of the root are left out, and the edits so far.
	pathCopy := func(a *etree.Element, drop ...int) (*etree.Element, TreeEdits) {
		e := TreeEdits{Copied: []*etree.Element{a}}
		cp := etree.NewElement(a.Tag)
		cp.Attr = append(cp.Attr, a.Attr...)
		for i, ch := range a.ChildElements() {
			left := false
			for _, d := range drop {
				left = left || d == i
			}
			if left {
				e.Removed = append(e.Removed, ch)
				continue
			}
			cp.Child = append(cp.Child, ch)
		}
		return cp, e
	}
	for _, tc := range []struct {
		name string
		a    string
		drop []int
		b0   string
		// edit inserts into b (given b0 parsed) and changes it, recording
		// what it did.
		edit func(b *etree.Element, e *TreeEdits)
		want bool
	}{
		{"nothing edited", `<r><x/><y v="1"/></r>`, nil, `<r><x/><y v="1"/></r>`, func(*etree.Element, *TreeEdits) {}, true},
		{"the left-out element put back in its place", `<r><x/><p/><y/></r>`, []int{1}, `<r><x/><y/></r>`, func(b *etree.Element, e *TreeEdits) {
			p := etree.NewElement("p")
			b.InsertChildAt(1, p)
			e.Inserted = append(e.Inserted, p)
		}, true},
		{"put back elsewhere", `<r><x/><p/><y/></r>`, []int{1}, `<r><x/><y/></r>`, func(b *etree.Element, e *TreeEdits) {
			e.Inserted = append(e.Inserted, b.CreateElement("p"))
		}, false},
		{"put back unlike", `<r><x/><p a="1"/><y/></r>`, []int{1}, `<r><x/><y/></r>`, func(b *etree.Element, e *TreeEdits) {
			p := etree.NewElement("p")
			p.CreateAttr("a", "2")
			b.InsertChildAt(1, p)
			e.Inserted = append(e.Inserted, p)
		}, false},
		{"an equal element inserted before, the left-out one after", `<r><x/><x/><y/></r>`, []int{0}, `<r><x/><y/></r>`, func(b *etree.Element, e *TreeEdits) {
			e.Inserted = append(e.Inserted, b.CreateElement("y"))
		}, false},
		{"a shared element changed", `<r><x/><t v="1"/></r>`, nil, `<r><x/><t v="1"/></r>`, func(b *etree.Element, e *TreeEdits) {
			tv := b.SelectElement("t")
			tv.CreateAttr("v", "2")
			e.Changed = append(e.Changed, tv)
		}, false},
		{"inserted deep under a shared element", `<r><x><z/></x></r>`, nil, `<r><x><z/></x></r>`, func(b *etree.Element, e *TreeEdits) {
			e.Inserted = append(e.Inserted, b.SelectElement("x").CreateElement("w"))
		}, false},
		{"the root's own attribute differs", `<r k="1"><x/></r>`, nil, `<r k="1"><x/></r>`, func(b *etree.Element, e *TreeEdits) {
			b.CreateAttr("k", "2")
			e.Changed = append(e.Changed, b)
		}, false},
		{"fewer children written", `<r><x/><p/></r>`, []int{1}, `<r><x/></r>`, func(*etree.Element, *TreeEdits) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := parse(t, tc.a), parse(t, tc.b0)
			a0, e := pathCopy(a, tc.drop...)
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
		})
	}
}
