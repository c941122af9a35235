package core

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// v3Messages reads every v3 message of the project's testdata and, when
// present, of the corpus, by path.
func v3Messages(t *testing.T) map[string]*etree.Document {
	t.Helper()
	out := map[string]*etree.Document{}
	read := func(path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := v3.ReadXML(data)
		if err != nil || doc.Root() == nil {
			return // not a message SameParty could be asked about
		}
		out[path] = doc
	}
	err := filepath.WalkDir(filepath.Join("..", "..", "testdata"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".xml") {
			read(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if corpustest.Present() {
		for _, path := range corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".xml") }) {
			read(path)
		}
	}
	if len(out) == 0 {
		t.Fatal("no v3 messages")
	}
	return out
}

// isPartyTag tells the parties SameParty is asked about: an AgentPerson
// and an organisation (Organization, representedOrganization and the
// like).
func isPartyTag(tag string) bool {
	return tag == "AgentPerson" || strings.HasSuffix(tag, "Organization") || strings.HasSuffix(tag, "OrganizationSDS")
}

// parties returns the parties of the tree under root, in document order.
func parties(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if isPartyTag(e.Tag) {
			out = append(out, e)
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	return out
}

// checkSameParty fails the test when SameParty and the reference
// (refSameParty) answer a and b, either way round, differently; it
// returns SameParty's answer.
func checkSameParty(t *testing.T, what string, a, b *etree.Element) bool {
	t.Helper()
	var same bool
	for _, skip := range []func(*etree.Element) bool{nil, skipAgentPersonID} {
		for _, p := range [][2]*etree.Element{{a, b}, {b, a}} {
			got, want := SameParty(p[0], p[1], skip), refSameParty(p[0], p[1], skip)
			if got != want {
				t.Fatalf("%s: SameParty %t, the reference %t (skip %t)\n%s\n%s", what, got, want, skip != nil, xmlOf(p[0]), xmlOf(p[1]))
			}
			same = same || got
		}
	}
	return same
}

// xmlOf writes e for a failure message.
func xmlOf(e *etree.Element) string {
	if e == nil {
		return "<nil>"
	}
	doc := etree.NewDocument()
	doc.SetRoot(e.Copy())
	s, _ := doc.WriteToString()
	return s
}

// TestSamePartyAsReference holds SameParty to refSameParty, the rule as it
// was before it told each parent's set-aside rule once, over every pair of
// parties (AgentPerson, the organisations) of every corpus and testdata v3
// message, every pair of their children with the same tag, and the
// prescriptions' author and responsible party.
func TestSamePartyAsReference(t *testing.T) {
	msgs := v3Messages(t)
	pairs, same := 0, 0
	for path, doc := range msgs {
		ps := parties(doc.Root())
		for i := range ps {
			for j := i; j < len(ps); j++ {
				pairs++
				if checkSameParty(t, path, ps[i], ps[j]) {
					same++
				}
			}
		}
		var kids []*etree.Element
		for _, p := range ps {
			kids = append(kids, p.ChildElements()...)
		}
		for i := range kids {
			for j := i + 1; j < len(kids); j++ {
				if kids[i].Tag == kids[j].Tag {
					pairs++
					if checkSameParty(t, path, kids[i], kids[j]) {
						same++
					}
				}
			}
		}
		for _, p := range prescriptionPartyPairs(doc.Root()) {
			pairs++
			if checkSameParty(t, path, p.a, p.b) {
				same++
			}
		}
	}
	if same == 0 || same == pairs {
		t.Fatalf("%d pairs, %d the same: the pairs do not test both answers", pairs, same)
	}
	t.Logf("%d messages, %d pairs, %d the same party", len(msgs), pairs, same)
}

// TestSamePartyMutatedAsReference holds SameParty to refSameParty over the
// messages' parties, each against a copy of itself changed at random
// (mutateParty: an element, attribute or text dropped, added, altered or
// moved, a name's parts in another order, an originalText, translation or
// qualifier added), the copy placed beside it, under a sibling of its
// parent (declaring a default namespace or not) or on its own.
func TestSamePartyMutatedAsReference(t *testing.T) {
	rounds := 40
	if testing.Short() {
		rounds = 8
	}
	rng := rand.New(rand.NewPCG(233, 1))
	msgs := v3Messages(t)
	paths := make([]string, 0, len(msgs))
	for p := range msgs {
		paths = append(paths, p)
	}
	// Map order is random; the mutations should not be.
	sortStrings(paths)
	checked, same := 0, 0
	for _, path := range paths {
		for _, p := range parties(msgs[path].Root()) {
			for r := 0; r < rounds; r++ {
				cp := p.Copy()
				for n := rng.IntN(3); n >= 0; n-- {
					mutateParty(rng, cp)
				}
				placeCopy(rng, p, cp)
				checked++
				if checkSameParty(t, path, p, cp) {
					same++
				}
				detach(cp)
			}
		}
	}
	if same == 0 || same == checked {
		t.Fatalf("%d mutated pairs, %d the same: the mutations do not test both answers", checked, same)
	}
	t.Logf("%d mutated pairs, %d the same party", checked, same)
}

// sortStrings sorts s in place (insertion sort: a few hundred paths).
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// placeCopy puts cp, a changed copy of p, where SameParty's namespace
// walk differs: beside p, under a new sibling of p's parent (which may
// declare a default namespace of its own), or nowhere.
func placeCopy(rng *rand.Rand, p, cp *etree.Element) {
	parent := p.Parent()
	switch rng.IntN(4) {
	case 0:
		if parent != nil {
			parent.AddChild(cp)
		}
	case 1, 2:
		if parent != nil && parent.Parent() != nil {
			w := parent.Parent().CreateElement(parent.Tag)
			if rng.IntN(3) == 0 {
				w.CreateAttr("xmlns", []string{v3.Namespace, "urn:other"}[rng.IntN(2)])
			}
			w.AddChild(cp)
		}
	}
}

// detach takes cp, and the wrapper placeCopy made for it, out of the tree.
func detach(cp *etree.Element) {
	parent := cp.Parent()
	if parent == nil {
		return
	}
	parent.RemoveChild(cp)
	if len(parent.Child) == 0 && parent.Parent() != nil {
		parent.Parent().RemoveChild(parent)
	}
}

// mutateParty changes one thing at random in the tree under root.
func mutateParty(rng *rand.Rand, root *etree.Element) {
	var all []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		all = append(all, e)
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	e := all[rng.IntN(len(all))]
	kids := e.ChildElements()
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	switch rng.IntN(12) {
	case 0: // drop an element
		if len(kids) > 0 {
			e.RemoveChild(kids[rng.IntN(len(kids))])
		}
	case 1: // add an element: a copy of one, or a new one
		if len(kids) > 0 && rng.IntN(2) == 0 {
			e.InsertChildAt(rng.IntN(len(e.Child)+1), kids[rng.IntN(len(kids))].Copy())
		} else {
			c := etree.NewElement(pick([]string{"id", "code", "given", "family", "prefix", "name", "telecom", "extra"}))
			c.SetText(pick([]string{"", "X", " Y "}))
			e.InsertChildAt(rng.IntN(len(e.Child)+1), c)
		}
	case 2: // reorder: swap two child elements
		if len(kids) > 1 {
			x, y := kids[rng.IntN(len(kids))], kids[rng.IntN(len(kids))]
			ix, iy := x.Index(), y.Index()
			e.Child[ix], e.Child[iy] = y, x
		}
	case 3: // a name's parts in another order
		n := e
		if len(kids) > 0 && e.Tag != "name" {
			n = kids[rng.IntN(len(kids))]
		}
		ks := n.ChildElements()
		if len(ks) > 1 {
			i := rng.IntN(len(ks))
			n.RemoveChild(ks[i])
			n.InsertChildAt(rng.IntN(len(n.Child)+1), ks[i])
		}
	case 4: // drop an attribute
		if len(e.Attr) > 0 {
			i := rng.IntN(len(e.Attr))
			e.Attr = append(append([]etree.Attr(nil), e.Attr[:i]...), e.Attr[i+1:]...)
		}
	case 5: // add an attribute: a datatype's, a marker of one, a namespace, another
		key := pick([]string{"codeSystem", "value", "unit", "root", "extension", "codeSystemName", "codeSystemVersion",
			"assigningAuthorityName", "displayable", "determinerCode", "xmlns", "xmlns:x", "x:codeSystem", "xsi:type", "xmlns:xsi", "other"})
		e.CreateAttr(key, pick([]string{"1", "true", "II", "CV", v3SNOMEDdmd, v3.Namespace, "http://www.w3.org/2001/XMLSchema-instance"}))
	case 6: // alter an attribute's value
		if len(e.Attr) > 0 {
			i := rng.IntN(len(e.Attr))
			e.Attr = append([]etree.Attr(nil), e.Attr...)
			e.Attr[i].Value = pick([]string{e.Attr[i].Value + "1", "", "true", v3SNOMEDdmd})
		}
	case 7: // reorder the attributes
		if len(e.Attr) > 1 {
			e.Attr = append([]etree.Attr(nil), e.Attr...)
			i, j := rng.IntN(len(e.Attr)), rng.IntN(len(e.Attr))
			e.Attr[i], e.Attr[j] = e.Attr[j], e.Attr[i]
		}
	case 8: // alter, add or drop text
		switch rng.IntN(3) {
		case 0:
			e.SetText(e.Text() + "Z")
		case 1:
			e.SetText("  " + e.Text() + "\n")
		default:
			e.InsertChildAt(rng.IntN(len(e.Child)+1), etree.NewText(pick([]string{"t", " ", "\n  "})))
		}
	case 9, 10, 11: // a set-aside part: originalText, translation, qualifier
		var c *etree.Element
		switch rng.IntN(3) {
		case 0:
			c = etree.NewElement("originalText")
			c.SetText("as said")
		case 1:
			c = etree.NewElement("translation")
			c.CreateAttr("codeSystem", pick([]string{v3SNOMEDdmd, "2.16.840.1.113883.6.96"}))
			c.CreateAttr("code", pick([]string{"1", "2"}))
			if rng.IntN(2) == 0 {
				c.CreateAttr("value", "1")
			}
		default:
			c = etree.NewElement("qualifier")
			switch rng.IntN(3) {
			case 0:
				c.CreateElement("name").CreateAttr("code", "1")
			case 1:
				c.CreateElement("value").CreateAttr("code", "2")
			default:
				c.CreateAttr("code", "3")
			}
		}
		if rng.IntN(3) == 0 {
			// Make e a coded value or a PQ, so that the rule applies.
			if rng.IntN(2) == 0 {
				e.CreateAttr("codeSystem", "2.16.840.1.113883.2.1.3.2.4.17")
			} else {
				e.CreateAttr("value", "1")
				e.CreateAttr("unit", "1")
			}
		}
		e.InsertChildAt(rng.IntN(len(e.Child)+1), c)
	}
}
