package release

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSameReleasedMutated holds the second lossless comparison of a
// released prescription (sameReleased's shortcut: SameElementEditedUnder
// with the copies known) to the whole comparison (SameElement with
// InSignature, the answer the shortcut must give) and to the shortcut as
// it was asked before (SameElementEdited with InSignature itself, the
// copies not given), for every released prescription of the corpus's and
// the project's release responses and for random changes of each: an
// element dropped, doubled, added or moved after its next sibling, an
// attribute changed, added or dropped, a text changed or added, inside
// Spine's additions (the statuses and exemptions) and outside them. Both
// answers occur. The changes are the same from run to run.
func TestSameReleasedMutated(t *testing.T) {
	const perComponent = 24
	rng := rand.New(rand.NewPCG(231, 16))
	seen := map[bool]int{}
	inAdditions := 0
	msgs := releasedTestMessages(t)
	for _, name := range slices.Sorted(maps.Keys(msgs)) {
		msg := msgs[name]
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(msg); err != nil {
			t.Fatal(err)
		}
		n := len(doc.FindElements("//PrescriptionReleaseResponse/component"))
		for k := range n {
			for m := range perComponent {
				d := doc.Copy()
				comp := d.FindElements("//PrescriptionReleaseResponse/component")[k]
				pp := comp.SelectElement("ParentPrescription")
				if pp == nil {
					continue
				}
				what, inside := mutateReleased(rng, pp, m%2 == 0)
				if inside {
					inAdditions++
				}
				out, err := d.WriteToBytes()
				if err != nil {
					t.Fatal(err)
				}
				compareReleasedWays(t, fmt.Sprintf("%s component %d, %s", name, k, what), out, k, seen)
			}
		}
	}
	if seen[true] == 0 || seen[false] == 0 || inAdditions == 0 {
		t.Errorf("alike %d, unlike %d, changes in the additions %d: want each", seen[true], seen[false], inAdditions)
	}
	t.Logf("alike %d, unlike %d; %d changes in the additions", seen[true], seen[false], inAdditions)
}

// compareReleasedWays asks, for component k of the release response msg
// when the prescribing mapper wrote it back, the three ways whether it is
// what its Bundle writes, and counts the answers in seen.
func compareReleasedWays(t *testing.T, name string, msg []byte, k int, seen map[bool]int) {
	t.Helper()
	_, root, err := v3.Parse(msg)
	if err != nil {
		return // a change the reader refuses is not the comparison's
	}
	prr := root.El.FindElement(".//PrescriptionReleaseResponse")
	if prr == nil {
		return
	}
	_, node := v3.NewReader(root.El.Tag, prr)
	comps := node.All("component")
	if k >= len(comps) {
		return
	}
	pp, regen, edits := writtenBackReleased(comps[k], root.El.Tag, nil)
	if regen == nil {
		return
	}
	whole := core.SameElement(pp.El, regen, prescribe.InSignature)
	before := core.SameElementEdited(pp.El, regen, prescribe.InSignature, core.TreeEdits{Copied: edits.Copied, Removed: edits.Removed, Inserted: edits.Inserted, Changed: edits.Changed})
	now := sameReleased(pp.El, regen, true, edits)
	seen[whole]++
	if now != whole || before != whole {
		t.Errorf("%s: the shortcut says alike %v, as asked before %v, the whole comparison %v:\n%s\nwritten back:\n%s", name, now, before, whole, xmlOf(pp.El), xmlOf(regen))
	}
}

// releaseAdditionTags are the relationships Spine adds on release.
var releaseAdditionTags = map[string]bool{"pertinentInformation10": true, "pertinentInformation9": true, "pertinentInformation11": true, "pertinentInformation4": true}

// mutateReleased changes pp once at random, within one of Spine's
// additions when additions is true and it holds one (else anywhere), and
// says what it did and whether that was within an addition.
func mutateReleased(rng *rand.Rand, pp *etree.Element, additions bool) (string, bool) {
	var all, added []*etree.Element
	var walk func(e *etree.Element, in bool)
	walk = func(e *etree.Element, in bool) {
		in = in || releaseAdditionTags[e.Tag]
		all = append(all, e)
		if in {
			added = append(added, e)
		}
		for _, c := range e.ChildElements() {
			walk(c, in)
		}
	}
	walk(pp, false)
	pool, inside := all, false
	if additions && len(added) > 0 {
		pool, inside = added, true
	}
	el := pool[rng.IntN(len(pool))]
	parent := el.Parent()
	switch op := rng.IntN(9); {
	case op == 0 && parent != nil:
		parent.RemoveChild(el)
		return "dropped " + el.Tag, inside
	case op == 1 && parent != nil:
		parent.InsertChildAt(el.Index()+1, el.Copy())
		return "doubled " + el.Tag, inside
	case op == 2:
		el.CreateElement("added")
		return "element added in " + el.Tag, inside
	case op == 3 && parent != nil:
		next := el.Index() + 1
		for next < len(parent.Child) {
			if _, ok := parent.Child[next].(*etree.Element); ok {
				break
			}
			next++
		}
		if next >= len(parent.Child) {
			return "nothing moved", inside
		}
		parent.RemoveChildAt(el.Index())
		parent.InsertChildAt(next, el)
		return "moved " + el.Tag + " after its next sibling", inside
	case op == 4 && len(el.Attr) > 0:
		a := &el.Attr[rng.IntN(len(el.Attr))]
		a.Value += "x"
		return "attribute " + a.Key + " of " + el.Tag + " changed", inside
	case op == 5:
		el.CreateAttr("extra", "1")
		return "attribute added to " + el.Tag, inside
	case op == 6 && len(el.Attr) > 0:
		key := el.Attr[rng.IntN(len(el.Attr))].FullKey()
		el.RemoveAttr(key)
		return "attribute " + key + " of " + el.Tag + " dropped", inside
	case op == 7 && len(el.Attr) > 1:
		el.Attr[0], el.Attr[len(el.Attr)-1] = el.Attr[len(el.Attr)-1], el.Attr[0]
		return "attributes of " + el.Tag + " reordered", inside
	case op == 8:
		el.InsertChildAt(0, etree.NewText("text"))
		return "text added to " + el.Tag, inside
	}
	return "nothing changed", inside
}
