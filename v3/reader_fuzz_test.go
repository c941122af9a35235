package v3

import (
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// FuzzFirstChildAndPaths holds the word-wise look-up and path writing of
// Opt to plain string compares and concatenation: children named by the
// comma-separated names (text between them), the tag looked up, and the
// paths made for it under a parent path (kept as given), a step and two
// steps down, and again after the arena has grown.
func FuzzFirstChildAndPaths(f *testing.F) {
	f.Add("id,code,effectiveTime,id", "id", "/PORX_IN020101UK31/x")
	f.Add("abcdefgh,abcdefgX,abcdefgh", "abcdefgh", "/a")
	f.Add("representedOrganization,representedOrganizatioX", "representedOrganization", "")
	f.Add("abcd,abce,abc,abcde", "abce", "/p")
	f.Add("a,b,,c", "", "/r")
	f.Add("ParentPrescription,pertinentInformation1", "ParentPrescriptioN", "/q/r/s")
	f.Fuzz(func(t *testing.T, names, tag, parent string) {
		el := etree.NewElement("p")
		for i, name := range strings.Split(names, ",") {
			el.CreateText(strconv.Itoa(i))
			c := etree.NewElement("x")
			c.Tag = name // any bytes: the look-up compares them, nothing else reads them
			el.AddChild(c)
		}
		var want *etree.Element
		for _, t := range el.Child {
			if c, ok := t.(*etree.Element); ok && c.Tag == tag {
				want = c
				break
			}
		}
		if got := firstChild(el.Child, tag); got != want {
			t.Fatalf("firstChild(%q) = %v, want %v", tag, got, want)
		}
		root := etree.NewElement("r")
		root.AddChild(el)
		if got := FindPath(root, "p", tag); got != want {
			t.Fatalf("FindPath(p, %q) = %v, want %v", tag, got, want)
		}
		var a pathArena
		var base uint32
		if parent != "" {
			base = a.literal(parent)
		}
		p := a.path(a.step(base, tag, 0))
		if want := parent + "/" + tag; p != want {
			t.Fatalf("path %q, want %q", p, want)
		}
		q := a.path(a.step(a.step(base, tag, 0), tag, 3))
		if want := parent + "/" + tag + "/" + tag + "[3]"; q != want {
			t.Fatalf("extended path %q, want %q", q, want)
		}
		for i := 0; i < 200; i++ { // past the first buffer: the paths made stay as they were
			a.step(base, tag, i)
		}
		if r := a.path(a.step(base, tag, 0)); r != p || p != parent+"/"+tag || q != parent+"/"+tag+"/"+tag+"[3]" {
			t.Fatalf("path made again %q, first %q", r, p)
		}
	})
}
