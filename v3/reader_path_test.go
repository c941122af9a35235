package v3

import (
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestNodePaths checks the paths of nodes reached in every order: chained,
// siblings, repeated elements, absent ones, and enough of them to fill
// several path buffers.
func TestNodePaths(t *testing.T) {
	doc := `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><a><b><c/></b><b/></a><d/>` +
		strings.Repeat(`<e><f/></e>`, 300) + `</PORX_IN020101UK31>`
	_, root, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	a := root.Child("a")
	bs := a.All("b")
	c := bs[0].Child("c")
	d := root.Opt("d")
	missing := c.Opt("x").Opt("y")
	kids := root.Elements()
	got := []string{root.Path(), a.Path(), bs[0].Path(), bs[1].Path(), c.Path(), d.Path(), missing.Path(), kids[0].Path(), a.Opt("b").Path()}
	want := []string{
		"/PORX_IN020101UK31", "/PORX_IN020101UK31/a", "/PORX_IN020101UK31/a/b[1]", "/PORX_IN020101UK31/a/b[2]",
		"/PORX_IN020101UK31/a/b[1]/c", "/PORX_IN020101UK31/d", "/PORX_IN020101UK31/a/b[1]/c/x/y",
		"/PORX_IN020101UK31/a", "/PORX_IN020101UK31/a/b",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("path %d = %q, want %q", i, got[i], want[i])
		}
	}
	es := root.All("e")
	var fs []Node
	for _, e := range es {
		fs = append(fs, e.Child("f"))
	}
	for i, f := range fs {
		if want := "/PORX_IN020101UK31/e[" + itoa(i+1) + "]/f"; f.Path() != want {
			t.Fatalf("path %q, want %q", f.Path(), want)
		}
	}
	if a.Path() != "/PORX_IN020101UK31/a" || c.Path() != "/PORX_IN020101UK31/a/b[1]/c" {
		t.Errorf("earlier paths changed: %q %q", a.Path(), c.Path())
	}
	var zero Node
	if p := zero.Opt("x").Path(); p != "/x" {
		t.Errorf("path from the zero node = %q", p)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestMayHoldEmptyAttr: a Reader says its document may hold an empty
// attribute value unless its scanner read the whole document and met none,
// whatever the quotes or the white space around '='; a document etree's
// reader read (a DOCTYPE here) and a Reader of an element parsed elsewhere may
// always hold one. core.RefuseEmptyAttrs skips its walk on false.
func TestMayHoldEmptyAttr(t *testing.T) {
	const open = `<PORX_IN020101SM31 xmlns="urn:hl7-org:v3">`
	tests := []struct {
		name, doc string
		want      bool
	}{
		{"none", open + `<id root="1.2" extension='X'/></PORX_IN020101SM31>`, false},
		{"double quotes", open + `<id root="1.2" extension=""/></PORX_IN020101SM31>`, true},
		{"single quotes", open + `<id root='' /></PORX_IN020101SM31>`, true},
		{"spaced", open + `<id root = "" /></PORX_IN020101SM31>`, true},
		{"on the root", `<PORX_IN020101SM31 xmlns="urn:hl7-org:v3" a=""/>`, true},
		{"quotes in text only", open + `<text>""</text></PORX_IN020101SM31>`, false},
		{"CDATA, read by the scanner", open + `<text><![CDATA[x=""]]></text></PORX_IN020101SM31>`, false},
		{"read by etree (DOCTYPE)", `<!DOCTYPE PORX_IN020101SM31>` + open + `<text>x</text></PORX_IN020101SM31>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.MayHoldEmptyAttr(); got != tt.want {
				t.Errorf("MayHoldEmptyAttr = %v, want %v", got, tt.want)
			}
		})
	}
	if r, _ := NewReader("x", etree.NewElement("x")); !r.MayHoldEmptyAttr() {
		t.Error("a Reader of an element parsed elsewhere says it holds no empty attribute")
	}
	if !(*Reader)(nil).MayHoldEmptyAttr() {
		t.Error("a nil Reader says it holds no empty attribute")
	}
}

// TestNodeListsApart checks that the lists All and Elements take from the
// Reader's slab stay apart, within a slab and across slabs, in fresh memory
// and in a Space: appending to one leaves the next as it was.
func TestNodeListsApart(t *testing.T) {
	doc := []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><x/><x/><y/>` + strings.Repeat(`<a/><b/>`, 20) + `</PORX_IN020101UK31>`)
	scratch := NewScratch()
	for _, sp := range []*Space{nil, scratch.Get(), scratch.Get()} {
		_, root, err := sp.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		// x and y share the first slab, Elements (43) takes one of its own.
		tags := []string{"x", "y", "a", "", "b"}
		lists := make([][]Node, len(tags))
		for i, tag := range tags {
			if tag == "" {
				lists[i] = root.Elements()
			} else {
				lists[i] = root.All(tag)
			}
		}
		for i := range lists[:len(lists)-1] {
			_ = append(lists[i], Node{})
			next := lists[i+1][0]
			if want := []string{"y", "a", "x", "b"}[i]; next.El == nil || next.El.Tag != want {
				t.Fatalf("appending to list %d changed the first node of the next: %+v", i, next)
			}
		}
		scratch.Put(sp)
	}
}

// TestReaderSub checks a Reader made by Sub: paths from its element's own
// tag, interleaved with the first Reader's without either changing the
// other's, problems of its own, and its paths and node lists made in the
// first Reader's memory (the Reader itself its only allocation).
func TestReaderSub(t *testing.T) {
	doc := `<PORX_IN070101UK31 xmlns="urn:hl7-org:v3"><component><ParentPrescription><id root="A"/><x/><x/></ParentPrescription></component><component/></PORX_IN070101UK31>`
	r, root, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	comps := root.All("component")
	pp := comps[0].Child("ParentPrescription")
	sub, node := r.Sub("PORX_IN070101UK31", pp.El)
	id := node.Child("id")
	missing := node.Child("author")
	second := comps[1].Child("ParentPrescription") // the first Reader's, between the Sub's
	xs := node.All("x")
	got := []string{node.Path(), id.Path(), missing.Path(), second.Path(), xs[0].Path(), xs[1].Path(), pp.Path()}
	want := []string{
		"/ParentPrescription", "/ParentPrescription/id", "/ParentPrescription/author",
		"/PORX_IN070101UK31/component[2]/ParentPrescription", "/ParentPrescription/x[1]", "/ParentPrescription/x[2]",
		"/PORX_IN070101UK31/component[1]/ParentPrescription",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("path %d = %q, want %q", i, got[i], want[i])
		}
	}
	if errs := Errors(sub.Err()); len(errs) != 1 || errs[0].Path != "/ParentPrescription/author" {
		t.Errorf("Sub's problems: %v", sub.Err())
	}
	if errs := Errors(r.Err()); len(errs) != 1 || errs[0].Path != "/PORX_IN070101UK31/component[2]/ParentPrescription" {
		t.Errorf("the first Reader's problems: %v", r.Err())
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, n := r.Sub("PORX_IN070101UK31", pp.El)
		n.Child("id").Attr("root")
		n.All("x")
	})
	if allocs > 1 {
		t.Errorf("a Sub and its paths allocated %v times, want only the Reader", allocs)
	}
}

// TestPathsAsJoined holds the paths Node.Path makes from the steps it keeps
// to the paths joined step by step as each Node was reached (its parent's
// path, "/", the tag, "[index]" from All among more than one): random
// walks of Opt, Child, All and Elements over random trees (tags of 1 to 20
// bytes, alike but for a byte, repeated, missing), from a parsed root, from
// a Reader's Sub, from a root given whole and from a node made by hand,
// each path asked for at once and again at the end, when the arena has
// grown past its first buffers.
func TestPathsAsJoined(t *testing.T) {
	tags := []string{"a", "id", "low", "code", "value", "author", "AgentPerson", "effectiveTime", "pertinentInformation2",
		"pertinentInformation1", "representedOrganization", "x", "xy"}
	rng := rand.New(rand.NewSource(7))
	var build func(depth int) string
	build = func(depth int) string {
		var b strings.Builder
		for n := rng.Intn(5); n > 0 && depth < 6; n-- {
			tag := tags[rng.Intn(len(tags))]
			b.WriteString("<" + tag + ">" + build(depth+1) + "</" + tag + ">")
			if rng.Intn(4) == 0 {
				b.WriteString("<" + tag + "/>") // a repeat
			}
		}
		return b.String()
	}
	type seen struct {
		n    Node
		want string
	}
	for round := 0; round < 40; round++ {
		doc := `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">` + build(0) + `</PORX_IN020101UK31>`
		r, root, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		starts := []seen{{root, "/PORX_IN020101UK31"}}
		if first := root.El.ChildElements(); len(first) > 0 {
			_, sub := r.Sub("x", first[0])
			starts = append(starts, seen{sub, "/" + first[0].Tag})
			starts = append(starts, seen{r.rootAt(first[0], "/given/whole[2]"), "/given/whole[2]"})
			starts = append(starts, seen{Node{El: first[0]}, ""})
		}
		var all []seen
		for _, s := range starts {
			cur := s
			for step := 0; step < 30; step++ {
				all = append(all, cur)
				if got := cur.n.Path(); got != cur.want {
					t.Fatalf("round %d: path %q, want %q", round, got, cur.want)
				}
				tag := tags[rng.Intn(len(tags))]
				switch rng.Intn(4) {
				case 0:
					cur = seen{cur.n.Opt(tag), cur.want + "/" + tag}
				case 1:
					cur = seen{cur.n.Child(tag), cur.want + "/" + tag}
				case 2:
					list := cur.n.All(tag)
					if len(list) == 0 {
						continue
					}
					i := rng.Intn(len(list))
					want := cur.want + "/" + tag
					if len(list) > 1 {
						want += "[" + strconv.Itoa(i+1) + "]"
					}
					cur = seen{list[i], want}
				case 3:
					list := cur.n.Elements()
					if len(list) == 0 {
						continue
					}
					i := rng.Intn(len(list))
					cur = seen{list[i], cur.want + "/" + list[i].El.Tag}
				}
			}
		}
		for _, s := range all {
			if got := s.n.Path(); got != s.want {
				t.Fatalf("round %d: path asked again %q, want %q", round, got, s.want)
			}
		}
	}
}

// TestFailAttr: a problem at an attribute of a node is recorded at the
// node's path and /@name, as Fail at that path records it; a node without
// a Reader records nothing.
func TestFailAttr(t *testing.T) {
	r, root, err := Parse([]byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id/><id/></PORX_IN020101UK31>`))
	if err != nil {
		t.Fatal(err)
	}
	root.All("id")[1].FailAttr("extension", "bad %d", 7)
	want := &Error{Interaction: "PORX_IN020101UK31", Path: "/PORX_IN020101UK31/id[2]/@extension", Msg: "bad 7"}
	if got := r.Err(); got == nil || got.Error() != want.Error() {
		t.Errorf("Err = %v, want %v", got, want)
	}
	(Node{}).FailAttr("x", "nothing") // no Reader: nothing recorded, no panic
	hand := Node{El: root.El}.Opt("id")
	hand.FailAttr("x", "nothing")
	if hand.Reader() != nil || hand.Path() != "/id" {
		t.Errorf("a hand node's child: Reader %v, path %q", hand.Reader(), hand.Path())
	}
}
