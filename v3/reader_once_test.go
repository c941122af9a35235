package v3

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestOnceAsAtMost holds Once, one pass over the children, to what
// AtMost(1, tag) for each tag in turn records: the same problems at the
// same paths in the same order (the order of tags, not of the document),
// for repeats before and after other elements, a tag named twice, tags of
// one length, text and comments between, none at all, and more tags than
// Once counts in one pass.
func TestOnceAsAtMost(t *testing.T) {
	var many []string
	for i := range 40 {
		many = append(many, "t"+strconv.Itoa(i))
	}
	tests := []struct {
		name string
		kids string
		tags []string
	}{
		{"no repeat", `<a/><b/><c/>`, []string{"a", "b", "c"}},
		{"repeats out of tag order", `<c/><b/><c/><a/><b/><b/>`, []string{"a", "b", "c"}},
		{"tag named twice", `<a/><a/>`, []string{"a", "b", "a"}},
		{"tags of one length", `<ab/><ac/><ab/><ad/>`, []string{"ad", "ac", "ab"}},
		{"text and comments between", `x<a/><!--c--><?p?><a/> y `, []string{"a"}},
		{"a tag not named", `<x/><x/><a/>`, []string{"a"}},
		{"no children", ``, []string{"a"}},
		{"no tags", `<a/><a/>`, nil},
		{"more tags than counted", `<t39/><t1/><t39/><t1/>`, many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><p>` + tt.kids + `</p></PORX_IN020101UK31>`)
			r1, root1, err := Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			root1.Child("p").Once(tt.tags...)
			r2, root2, _ := Parse(doc)
			p2 := root2.Child("p")
			for _, tag := range tt.tags {
				p2.AtMost(1, tag)
			}
			if got, want := errorPaths(r1), errorPaths(r2); !slices.Equal(got, want) {
				t.Errorf("Once recorded %q, AtMost each %q", got, want)
			}
		})
	}
	// The zero Node and a Node made by hand record nothing.
	Node{}.Once("a")
}

func errorPaths(r *Reader) []string {
	var out []string
	for _, e := range r.errs {
		out = append(out, e.Path+" "+e.Msg+" "+e.Rule)
	}
	return out
}

// TestAllFirstAndOnly checks All where the tag's first element is not the
// first child and where it occurs once (its path without an index), beside
// Opt finding the same first element.
func TestAllFirstAndOnly(t *testing.T) {
	doc := `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"> <x/> <ab/> <a/> <x/> <b/> <x/> </PORX_IN020101UK31>`
	_, root, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	xs := root.All("x")
	if len(xs) != 3 {
		t.Fatalf("All(x) = %d nodes, want 3", len(xs))
	}
	for i, x := range xs {
		if want := "/PORX_IN020101UK31/x[" + strconv.Itoa(i+1) + "]"; x.Path() != want || x.El.Tag != "x" {
			t.Errorf("x %d at %q, want %q", i, x.Path(), want)
		}
	}
	as := root.All("a")
	if len(as) != 1 || as[0].Path() != "/PORX_IN020101UK31/a" || as[0].El != root.Opt("a").El {
		t.Errorf("All(a) = %+v, want the one a, as Opt finds it", as)
	}
	if got := root.All("c"); got != nil {
		t.Errorf("All(c) = %v, want nil", got)
	}
	if got := root.Opt("abc"); got.Exists() || !strings.HasSuffix(got.Path(), "/abc") {
		t.Errorf("Opt(abc) = %+v, want a missing node at …/abc", got)
	}
}
