package v3

import (
	"unsafe"

	"github.com/beevik/etree"
)

// Verifying instead of building. A translation that reads a v3 tree and
// proves it lost nothing writes the tree back from what it read and
// compares the two. A Verifier lets the same writer, through the same
// builder calls (Add, AddText, AddII, AddCV, AddValue, AddFixed,
// AddFixedII), compare as it writes: each call, instead of making an
// element, checks that the original's next child element is the one the
// call would make (name, attributes in order, text) and hands back a
// stand-in for it (a proxy: an element of no tree, which names the
// Verifier) for the writer to write the children under. Nothing of the
// original is changed and no second tree is made.
//
// The check is stricter than the comparisons it stands for (the
// lossless check's SameElement with the signature's children skipped, and
// the signature fragments' rule for the signed parts): an original that
// passes is alike by both, so that a caller can take the check's true for
// theirs; one that does not may still be alike by them (attributes in
// another order, a comment, text in pieces...), and the caller then builds
// and compares as before. The original must hold, where the writer wrote:
//
//   - the elements in the same order, with the same names, none of them
//     prefixed; the child elements of an element named under (the
//     signature's) are passed over, and the writer must write none there;
//   - the attributes the writer gave, in the order it gave them and none
//     of them prefixed, and no others (two given swapped are alike too, as
//     both comparisons have it);
//   - the writer's text as the element's only token (the same data, neither
//     CDATA, flagged as white space alike); elsewhere, besides the
//     elements, only text flagged as white space (the indentation).
//
// A writer that changes a proxy by etree's own methods is checked as far
// as the builder's calls are: attributes created after those Add gave,
// text set on an element without children. A child added by etree
// (AddChild, a carried part) or written under an element after a sibling
// of that element was written fails the check. What the Verifier cannot
// see it cannot check: a proxy holds none of what Add gave, so a writer
// that renames what it wrote, takes an attribute or a child away, moves a
// child, or reads back what it wrote must not be verified (the
// prescription's writers do none of these).
type Verifier struct {
	// mark is what each proxy names as its slabs (see slabElement), its
	// verify field the Verifier: how Add tells a proxy from an element.
	mark docSlabs
	// from are the slabs the proxies are taken from: the Space's build
	// slabs, or mark's own.
	from *docSlabs
	// top is the original element the writer's first element stands for.
	top *etree.Element
	// under names the element whose child elements are passed over.
	under string
	// frames are the elements open for children: the holder (frames[0],
	// whose only child is top) and each element down to the last written.
	frames []verifyFrame
	room   [verifyDepth]verifyFrame
	// topDone: the writer has written top's element.
	topDone bool
	failed  bool
	// dead is the proxy handed out once the check has failed.
	dead *etree.Element
}

// verifyDepth is the depth of the frames' room: deeper than a
// prescription's elements go (a line item's translation is 9 below the
// ParentPrescription).
const verifyDepth = 24

// verifyFrame is an element the writer may still write children under:
// its proxy and the original it stands for.
type verifyFrame struct {
	proxy, orig *etree.Element
	// next is the index of orig's next token to look at.
	next int
	// attrs is how many of orig's attributes the writer's Add gave in
	// order; -1 when it gave two swapped (none may be created after).
	attrs int
	// text: the element's text was given (AddText); kids: a child element
	// was written; under: orig's child elements are passed over.
	text, kids, under bool
}

// Verify returns a Verifier of orig and the holder to write orig's like
// under (as under a NewHolder) in its place: the writer's first element
// stands for orig, and must be the only one it writes there. under names
// the elements whose child elements are passed over ("": none). The
// proxies are made in sp (nil: fresh memory), so they are good only until
// the Space is given back. Call Finish when the writer is done.
func (sp *Space) Verify(orig *etree.Element, under string) (*Verifier, *etree.Element) {
	var v *Verifier
	if sp != nil {
		// The Space's own, which Finish leaves as it found it.
		v = &sp.verify
		v.from = &sp.build
	} else {
		v = new(Verifier)
		v.from = &v.mark
	}
	v.top, v.under, v.topDone, v.failed, v.dead = orig, under, false, false, nil
	v.mark.verify = v
	v.frames = v.room[:1]
	holder := v.proxy()
	v.frames[0] = verifyFrame{proxy: holder}
	return v, holder
}

// Finish ends the check: it reports whether what the writer wrote under
// the holder is orig's like, as the Verifier's rules have it. The
// Verifier and its proxies are not to be used after.
func (v *Verifier) Finish() bool {
	for len(v.frames) > 1 && !v.failed {
		v.close(&v.frames[len(v.frames)-1])
		v.frames = v.frames[:len(v.frames)-1]
	}
	if !v.failed {
		h := v.frames[0].proxy
		if !v.topDone || len(h.Attr) != 0 || len(h.Child) != 0 {
			v.failed = true
		}
	}
	clear(v.room[:])
	v.frames, v.top, v.dead = nil, nil, nil
	return !v.failed
}

// proxy returns a new stand-in element: an element of the slabs v takes
// from, naming v's mark as its slabs, whose Space (no prefix) is the empty
// string whose data is one byte into its slabs field. So ownSlabs, which
// looks for the field's own address, takes it for an element made
// elsewhere, and Add and AddText ask verifierOf only on their way
// elsewhere: the elements the slabs make cost no test for proxies.
func (v *Verifier) proxy() *etree.Element {
	s := v.from
	if len(s.elems) == cap(s.elems) {
		s.elems = make([]slabElement, 0, slabElems)
	}
	s.elems = s.elems[:len(s.elems)+1]
	e := &s.elems[len(s.elems)-1]
	e.slabs = &v.mark
	e.el.Space = unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(&e.slabs), 1)), 0)
	return &e.el
}

// verifierOf returns the Verifier el is a proxy of, or nil for an element.
func verifierOf(el *etree.Element) *Verifier {
	p := unsafe.StringData(el.Space)
	if len(el.Space) != 0 || uintptr(unsafe.Pointer(p)) != uintptr(unsafe.Pointer(el))+unsafe.Offsetof(slabElement{}.slabs)+1 {
		return nil
	}
	return (*slabElement)(unsafe.Pointer(el)).slabs.verify
}

// fail marks the check failed and returns a proxy for the writer to go on
// with (whatever it writes under it is not looked at): one for all that
// is written after.
func (v *Verifier) fail() *etree.Element {
	v.failed = true
	if v.dead == nil {
		v.dead = v.proxy()
	}
	return v.dead
}

// add is Add's check: tag with attrs (name, value pairs; plain: their
// names are known to be without a prefix and distinct) as parent's next
// child.
func (v *Verifier) add(parent *etree.Element, tag string, attrs []string, plain bool) *etree.Element {
	if v.failed {
		return v.fail()
	}
	if !plain && !distinctPlainNames(attrs) || len(attrs)%2 != 0 {
		return v.fail()
	}
	// The parent is most often the element written last (its first
	// child), else one it is written under (a sibling's).
	f := &v.frames[len(v.frames)-1]
	if f.proxy != parent {
		if f = v.open(parent); f == nil {
			return v.fail()
		}
	}
	o := v.nextChild(f)
	if o == nil || o.Tag != tag || len(o.Space) != 0 {
		return v.fail()
	}
	n := givenAttrs(o.Attr, attrs)
	if n == notGiven {
		return v.fail()
	}
	f.kids = true
	k := len(v.frames)
	if k == cap(v.frames) {
		return v.fail()
	}
	p := v.proxy()
	v.frames = v.frames[:k+1]
	nf := &v.frames[k]
	nf.proxy, nf.orig, nf.next, nf.attrs = p, o, 0, n
	nf.text, nf.kids, nf.under = false, false, v.under != "" && tag == v.under
	return p
}

// addText is AddText's check: <tag>text</tag>, text not white space only,
// as parent's next child.
func (v *Verifier) addText(parent *etree.Element, tag, text string) *etree.Element {
	p := v.add(parent, tag, nil, true)
	if v.failed {
		return p
	}
	f := &v.frames[len(v.frames)-1]
	o := f.orig
	if f.under || len(o.Child) != 1 {
		return v.fail()
	}
	cd, ok := o.Child[0].(*etree.CharData)
	if !ok || cd.IsCData() || cd.IsWhitespace() || cd.Data != text {
		return v.fail()
	}
	f.text, f.next = true, 1
	return p
}

// notGiven is givenAttrs's answer for attributes that are not orig's.
const notGiven = -2

// givenAttrs compares the attributes the writer gave (name, value pairs,
// names plain and distinct) with the original's, and returns how many of
// the original's they are in order (more may be created after), -1 for
// two given swapped (the original has those two only), or notGiven.
func givenAttrs(orig []etree.Attr, attrs []string) int {
	n := len(attrs) / 2
	if len(orig) < n {
		return notGiven
	}
	inOrder := true
	for k := 0; k < n; k++ {
		if a := &orig[k]; len(a.Space) != 0 || a.Key != attrs[2*k] || a.Value != attrs[2*k+1] {
			inOrder = false
			break
		}
	}
	switch {
	case inOrder:
		return n
	case n == 2 && len(orig) == 2 && len(orig[0].Space) == 0 && len(orig[1].Space) == 0 &&
		orig[0].Key == attrs[2] && orig[0].Value == attrs[3] && orig[1].Key == attrs[0] && orig[1].Value == attrs[1]:
		return -1
	}
	return notGiven
}

// open returns the frame of parent, closing the frames written after it,
// or nil when parent is no open element's proxy (or a close fails).
func (v *Verifier) open(parent *etree.Element) *verifyFrame {
	k := len(v.frames) - 2 // add has looked at the last
	for k >= 0 && v.frames[k].proxy != parent {
		k--
	}
	if k < 0 {
		return nil
	}
	for j := len(v.frames) - 1; j > k; j-- {
		if !v.close(&v.frames[j]) {
			return nil
		}
	}
	v.frames = v.frames[:k+1]
	return &v.frames[k]
}

// nextChild returns f's original's next child element, passing over the
// indentation; nil when there is none or another token comes first, or
// f's element takes no child elements (text given, or under).
func (v *Verifier) nextChild(f *verifyFrame) *etree.Element {
	if f.orig == nil { // the holder: top alone
		if v.topDone {
			return nil
		}
		v.topDone = true
		return v.top
	}
	if f.text || f.under {
		return nil
	}
	kids := f.orig.Child
	for i := f.next; i < len(kids); i++ {
		if c, ok := kids[i].(*etree.Element); ok {
			f.next = i + 1
			return c
		}
		if c, ok := kids[i].(*etree.CharData); !ok || !c.IsWhitespace() || c.IsCData() {
			return nil
		}
	}
	return nil
}

// close checks what is left of f's element when the writer writes no more
// under it: the attributes and text created on the proxy since, and the
// original's tokens after the last child element written. It marks the
// check failed and returns false when they are not alike.
func (v *Verifier) close(f *verifyFrame) bool {
	p, o := f.proxy, f.orig
	if o == nil {
		return true // the holder's own are told by Finish
	}
	if len(p.Attr) != 0 || len(p.Child) != 0 || f.attrs >= 0 && f.attrs != len(o.Attr) {
		return v.closeChanged(f)
	}
	return v.closeRest(f)
}

// closeChanged is close of an element whose proxy was changed by etree
// (attributes created, text set), or whose original has attributes the
// writer did not give.
func (v *Verifier) closeChanged(f *verifyFrame) bool {
	p, o := f.proxy, f.orig
	if !createdAttrs(o.Attr, f.attrs, p.Attr) {
		v.failed = true
		return false
	}
	if len(p.Child) != 0 {
		// Text set on the proxy (SetText, CreateText): as AddText's, but
		// flagged as etree flags it.
		cd, ok := p.Child[0].(*etree.CharData)
		if f.kids || f.text || f.under || len(p.Child) != 1 || !ok || len(o.Child) != 1 {
			v.failed = true
			return false
		}
		oc, ok := o.Child[0].(*etree.CharData)
		if !ok || oc.Data != cd.Data || oc.IsCData() || cd.IsCData() || oc.IsWhitespace() != cd.IsWhitespace() {
			v.failed = true
			return false
		}
		return true
	}
	return v.closeRest(f)
}

// closeRest is close's check of the original's tokens after the last
// child element written: white space, and under, elements.
func (v *Verifier) closeRest(f *verifyFrame) bool {
	for _, t := range f.orig.Child[f.next:] {
		switch c := t.(type) {
		case *etree.Element:
			if f.under {
				continue
			}
		case *etree.CharData:
			if c.IsWhitespace() && !c.IsCData() {
				continue
			}
		}
		v.failed = true
		return false
	}
	return true
}

// createdAttrs reports whether the original's attributes are the given
// ones (given of them in order, or -1: two swapped) followed by those
// created on the proxy since, in order, none of them prefixed or given
// twice.
func createdAttrs(orig []etree.Attr, given int, created []etree.Attr) bool {
	if given < 0 {
		return len(created) == 0
	}
	if len(orig) != given+len(created) {
		return false
	}
	for k := range created {
		a, c := &orig[given+k], &created[k]
		if len(a.Space) != 0 || len(c.Space) != 0 || a.Key != c.Key || a.Value != c.Value {
			return false
		}
		for j := 0; j < given; j++ {
			if orig[j].Key == c.Key {
				return false
			}
		}
	}
	return true
}
