package v3

import (
	"testing"

	"github.com/beevik/etree"
)

// TestFindPathAsEtree checks FindPath against etree's FindElement on the
// same paths, matches in the second branch and misses included.
func TestFindPathAsEtree(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<pp><a><b><c n="1"/></b></a><a><b><c n="2"/><d/></b></a><x/></pp>`); err != nil {
		t.Fatal(err)
	}
	pp := doc.Root()
	for _, tags := range [][]string{{"a"}, {"a", "b"}, {"a", "b", "c"}, {"a", "b", "d"}, {"a", "z"}, {"x"}, {"x", "y"}, {"q"}} {
		path := tags[0]
		for _, t := range tags[1:] {
			path += "/" + t
		}
		if got, want := FindPath(pp, tags...), pp.FindElement(path); got != want {
			t.Errorf("FindPath %s = %v, FindElement gives %v", path, got, want)
		}
	}
	if FindPath(pp) != pp {
		t.Error("no tags: want the element itself")
	}
}
