package core

import (
	"slices"
	"testing"

	"github.com/beevik/etree"
)

// TestElementSetAsContains holds elementSet.has to slices.Contains for
// lists of 0 to 40 of 600 elements made one after another (so that many
// share a bit), every element asked, in or out.
func TestElementSetAsContains(t *testing.T) {
	root := etree.NewElement("r")
	var all []*etree.Element
	for range 600 {
		all = append(all, root.CreateElement("e"))
	}
	for _, n := range []int{0, 1, 2, 7, 24, 40} {
		for _, step := range []int{1, 3, 13} {
			var list []*etree.Element
			for i := 0; len(list) < n; i += step {
				list = append(list, all[i%len(all)])
			}
			s := newElementSet(list)
			shared := 0
			for _, el := range all {
				in := slices.Contains(list, el)
				if got := s.has(el); got != in {
					t.Fatalf("n %d step %d: has = %t, Contains %t", n, step, got, in)
				}
				k := elementBit(el)
				if !in && s.bits[k>>6]&(1<<(k&63)) != 0 {
					shared++
				}
			}
			if n > 0 && step == 1 && shared == 0 {
				t.Errorf("n %d: no element outside the list shares a bit: the list is not looked through", n)
			}
		}
	}
}
