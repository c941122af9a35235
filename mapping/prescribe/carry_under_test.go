package prescribe

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestSameSignedElementUnderAsBefore holds the check carryUnrepresented
// asks, core.SameSignedElementUnder with signatureTextTag, to the one it
// asked before, core.SameSignedElement with InSignature, on each corpus
// Send message, signed variant and porxgate's v3 of the project's
// prescriptions (scratchMessages): each ParentPrescription against what its
// FHIR writes back, as written and after each of some 40 changes made at
// random (a fixed seed) to either of the two, in every part of the
// prescription: an element dropped, added, repeated, moved or renamed; an
// attribute changed, added, dropped, prefixed or moved; text changed or
// padded; a comment, an instruction or CDATA put in; or the same element
// added to both where they stand alike, a signatureText holding an element
// among them (inside a part, where the skip rule sends the question back).
// The two must
// give the same answer each way round and for a path copy of the
// prescription (as a release response's reader compares one).
func TestSameSignedElementUnderAsBefore(t *testing.T) {
	var same, differ int
	for m, msg := range scratchMessages(t) {
		read, b := readForWriteBack(t, msg)
		regen := regenerateParentPrescription(b, benchEnv(), nil)
		if regen == nil {
			continue // the refused message (its pertinentPrescription renamed) is read but not written back
		}
		check := func(what string, pp, got *etree.Element) {
			t.Helper()
			for _, c := range [...]struct {
				name   string
				pp, rg *etree.Element
			}{{"", pp, got}, {"reversed", got, pp}, {"path copy", pathCopy(pp), got}} {
				was := core.SameSignedElement(c.pp, c.rg, InSignature)
				if now := core.SameSignedElementUnder(c.pp, c.rg, signatureTextTag); now != was {
					t.Errorf("message %d, %s %s: SameSignedElementUnder %t, SameSignedElement %t", m, what, c.name, now, was)
				}
				if was {
					same++
				} else {
					differ++
				}
			}
		}
		check("as written back", read.El, regen)
		rnd := rand.New(rand.NewPCG(224, uint64(m)))
		for k := range 40 {
			pp, got := read.El.Copy(), regen.Copy()
			var what string
			switch k % 3 {
			case 0:
				what = mutate(rnd, pp)
			case 1:
				what = mutate(rnd, got)
			default:
				what = addAlike(rnd, pp, got)
			}
			check(what, pp, got)
		}
	}
	if same == 0 || differ == 0 {
		t.Fatalf("%d pairs alike, %d not: both answers must be exercised", same, differ)
	}
}

// mutate makes one change at random to an element of root (root itself
// aside) and says what it did.
func mutate(rnd *rand.Rand, root *etree.Element) string {
	all := elementsBelow(root)
	el := all[rnd.IntN(len(all))]
	parent := el.Parent()
	where := el.GetPath()
	switch rnd.IntN(14) {
	case 0:
		parent.RemoveChild(el)
		return "dropped " + where
	case 1:
		parent.InsertChildAt(el.Index(), el.Copy())
		return "repeated " + where
	case 2:
		el.AddChild(etree.NewElement("extra"))
		return "added a child to " + where
	case 3:
		kids := parent.ChildElements()
		other := kids[rnd.IntN(len(kids))]
		i, j := el.Index(), other.Index()
		parent.Child[i], parent.Child[j] = parent.Child[j], parent.Child[i]
		return "swapped two children of " + parent.GetPath()
	case 4:
		el.Tag += "X"
		return "renamed " + where
	case 5:
		if len(el.Attr) > 0 {
			el.Attr[rnd.IntN(len(el.Attr))].Value += "x"
			return "changed an attribute of " + where
		}
		el.CreateAttr("nullFlavor", "NA")
		return "added an attribute to " + where
	case 6:
		el.CreateAttr("zz", "1")
		return "added an attribute to " + where
	case 7:
		if len(el.Attr) > 0 {
			el.RemoveAttr(el.Attr[rnd.IntN(len(el.Attr))].FullKey())
			return "dropped an attribute of " + where
		}
		el.CreateAttr("xsi:type", "ST")
		return "added a prefixed attribute to " + where
	case 8:
		if len(el.Attr) > 1 {
			el.Attr[0], el.Attr[len(el.Attr)-1] = el.Attr[len(el.Attr)-1], el.Attr[0]
			return "moved an attribute of " + where
		}
		if len(el.Attr) == 1 {
			el.Attr[0].Space = "xsi"
			return "prefixed the attribute of " + where
		}
		el.Space = "hl7"
		return "prefixed " + where
	case 9:
		el.SetText(el.Text() + "z")
		return "changed the text of " + where
	case 10:
		el.InsertChildAt(0, etree.NewText("  \n "))
		el.AddChild(etree.NewText(" "))
		return "padded the text of " + where
	case 11:
		el.InsertChildAt(rnd.IntN(len(el.Child)+1), etree.NewComment("c"))
		return "put a comment in " + where
	case 12:
		el.InsertChildAt(rnd.IntN(len(el.Child)+1), etree.NewProcInst("pi", "x"))
		return "put an instruction in " + where
	default:
		el.InsertChildAt(rnd.IntN(len(el.Child)+1), etree.NewCData(" "))
		return "put CDATA in " + where
	}
}

// addAlike adds the same new element to the elements of a and b that stand
// at the same place (the same child indexes from the root), chosen at
// random in a: a signatureText holding an element, or an empty one, or a
// plain element. It says what it did, or that there was no such place.
func addAlike(rnd *rand.Rand, a, b *etree.Element) string {
	all := elementsBelow(a)
	el := all[rnd.IntN(len(all))]
	var steps []int
	for e := el; e != a; e = e.Parent() {
		steps = append(steps, slices.Index(e.Parent().ChildElements(), e))
	}
	at := b
	for i := len(steps) - 1; i >= 0; i-- {
		kids := at.ChildElements()
		if steps[i] >= len(kids) {
			return "nothing added alike"
		}
		at = kids[steps[i]]
	}
	add := func() *etree.Element {
		switch rnd.IntN(3) {
		case 0:
			st := etree.NewElement(signatureTextTag)
			st.CreateElement("Signature").SetText("s")
			return st
		case 1:
			return etree.NewElement(signatureTextTag)
		}
		x := etree.NewElement("extra")
		x.CreateAttr("code", "1")
		return x
	}
	n := add()
	k := rnd.IntN(len(el.Child) + 1)
	el.InsertChildAt(k, n)
	at.InsertChildAt(min(k, len(at.Child)), n.Copy())
	return "added " + n.Tag + " alike to " + el.GetPath()
}

// elementsBelow lists the elements inside root, in document order.
func elementsBelow(root *etree.Element) []*etree.Element {
	var all []*etree.Element
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, c := range e.ChildElements() {
			all = append(all, c)
			walk(c)
		}
	}
	walk(root)
	return all
}

// TestSameSignedElementUnderAllocatesNothing holds the check
// carryUnrepresented asks of each signed corpus Send prescription to no
// allocation, as TestSameSignedElementAllocatesNothing holds
// core.SameSignedElement.
func TestSameSignedElementUnderAllocatesNothing(t *testing.T) {
	if !corpustest.Present() {
		t.Skip("no corpus: the project's own prescriptions are unsigned")
	}
	pairs := signedPairs(t)
	for _, p := range pairs {
		if n := testing.AllocsPerRun(5, func() { core.SameSignedElementUnder(p.pp, p.regen, signatureTextTag) }); n != 0 {
			t.Errorf("%d allocations a check", int(n))
		}
	}
	if len(pairs) == 0 {
		t.Fatal("no signed prescription written back alike")
	}
}
