package v3

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/beevik/etree"
)

// ErrFragmentsDiffer is wrapped by CompareSignatureFragments when two
// prescriptions' signature fragments differ, i.e. a signature made over one
// would not verify against the other.
var ErrFragmentsDiffer = errors.New("signature fragments differ")

// FragmentsEqual reports whether two FragmentsToBeHashed elements (from
// SignatureFragments) have the same canonical bytes, and so the same digest
// under every algorithm.
func FragmentsEqual(a, b *etree.Element) (bool, error) {
	ca, err := CanonicalFragments(a)
	if err != nil {
		return false, err
	}
	cb, err := CanonicalFragments(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ca, cb), nil
}

// CompareSignatureFragments is the signature fidelity check: it derives the
// fragments of the original v3 prescription and of the v3 re-derived from
// porxgate's FHIR (each with its own author time) and returns nil when their
// canonical bytes are equal, which is when
// digest(fragments of original) == digest(fragments of re-derived) for any
// algorithm. Otherwise it returns an error wrapping ErrFragmentsDiffer that
// names the first differing fragment and shows both canonical forms around
// the first differing byte. A prescribing test calls it as
//
//	if err := v3.CompareSignatureFragments(originalRoot, rederivedRoot); err != nil {
//		t.Fatal(err)
//	}
//
// with Nodes or elements (an interaction root or the ParentPrescription).
// Errors deriving either side are returned as they are (*Error).
func CompareSignatureFragments[A, B ParentPrescriptionInput](original A, rederived B) error {
	fa, err := SignatureFragments(original)
	if err != nil {
		return fmt.Errorf("fragments of the original: %w", err)
	}
	fb, err := SignatureFragments(rederived)
	if err != nil {
		return fmt.Errorf("fragments of the re-derived prescription: %w", err)
	}
	// Equal fragments (the usual case) are told by their canonical bytes
	// in one pass each; only a difference is looked for fragment by fragment.
	if ca, err := CanonicalFragments(fa); err == nil {
		if cb, err := CanonicalFragments(fb); err == nil && bytes.Equal(ca, cb) {
			return nil
		}
	}
	return diffFragments(fa, fb)
}

// diffFragments compares fragment by fragment.
func diffFragments(a, b *etree.Element) error {
	ka, kb := a.SelectElements(fragmentTag), b.SelectElements(fragmentTag)
	for i := 0; i < len(ka) && i < len(kb); i++ {
		ca, err := canonicalize(ka[i])
		if err != nil {
			return err
		}
		cb, err := canonicalize(kb[i])
		if err != nil {
			return err
		}
		if !bytes.Equal(ca, cb) {
			at := firstDifference(ca, cb)
			return &FragmentsDiff{Fragment: fmt.Sprintf("fragment %d (%s)", i+1, fragmentName(ka[i])),
				Element: firstDifferingElement(ka[i], kb[i], ""),
				detail:  fmt.Sprintf(" at byte %d:\n original: …%s…\nre-derived: …%s…", at, around(ca, at), around(cb, at))}
		}
	}
	if len(ka) != len(kb) {
		return &FragmentsDiff{Fragment: fmt.Sprintf("original has %d fragments, re-derived %d (line items %d and %d)",
			len(ka), len(kb), max(0, len(ka)-3), max(0, len(kb)-3)), Element: "/" + fragmentsRootTag}
	}
	return nil
}

// FragmentsDiff is the first difference CompareSignatureFragments finds. It
// wraps ErrFragmentsDiffer.
type FragmentsDiff struct {
	// Fragment names the differing fragment ("fragment 3 (recordTarget)"),
	// or says how the fragment counts differ.
	Fragment string
	// Element is the path, inside the fragments, of the first element whose
	// name, attributes or text differ, or whose children differ in number
	// (e.g. /Fragment/recordTarget/patient/patientPerson/name/given).
	Element string
	detail  string
}

// Error implements error.
func (d *FragmentsDiff) Error() string {
	return fmt.Sprintf("%v: %s, first differing element %s%s", ErrFragmentsDiffer, d.Fragment, d.Element, d.detail)
}

// Unwrap makes errors.Is(err, ErrFragmentsDiffer) hold.
func (d *FragmentsDiff) Unwrap() error { return ErrFragmentsDiffer }

// firstDifferingElement walks two normalised fragments in document order and
// returns the path of the first element that differs in name, attributes or
// trimmed text, or whose child elements differ in number; "" when none does.
func firstDifferingElement(a, b *etree.Element, parent string) string {
	path := parent + "/" + a.Tag
	if a.Tag != b.Tag || !sameAttrs(a, b) || strings.TrimSpace(a.Text()) != strings.TrimSpace(b.Text()) || !sameInstructions(a, b) {
		return path
	}
	ka, kb := a.ChildElements(), b.ChildElements()
	for i := 0; i < len(ka) && i < len(kb); i++ {
		if p := firstDifferingElement(ka[i], kb[i], path); p != "" {
			return p
		}
	}
	if len(ka) != len(kb) {
		return path
	}
	return ""
}

// sameAttrs compares attributes by prefix, name and value in any order.
func sameAttrs(a, b *etree.Element) bool {
	if len(a.Attr) != len(b.Attr) {
		return false
	}
	for _, x := range a.Attr {
		if y := b.SelectAttr(x.FullKey()); y == nil || y.Value != x.Value {
			return false
		}
	}
	return true
}

// fragmentName names a Fragment by its first element, with a line item's id.
func fragmentName(f *etree.Element) string {
	kids := f.ChildElements()
	if len(kids) == 0 {
		return "empty"
	}
	name := kids[0].Tag
	if name == "time" {
		return "time+id"
	}
	if id := kids[0].SelectElement("id"); id != nil && name == "pertinentLineItem" {
		name += " " + id.SelectAttrValue("root", "")
	}
	return name
}

func firstDifference(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// around returns up to 60 bytes either side of at.
func around(b []byte, at int) string {
	lo, hi := max(0, at-60), min(len(b), at+60)
	return string(b[lo:hi])
}

// SameFragment reports whether two elements (a signed part of a
// ParentPrescription and what was written back for it) give the same bytes
// when copied and canonicalised as SignatureFragments copies a fragment:
// stricter than comparing elements and text, it sees a processing
// instruction, a text run after a child or a carriage return in the part.
func SameFragment(a, b *etree.Element) bool {
	if a == nil || b == nil {
		return a == b
	}
	ca, err := copyNormalised(a, "/"+a.Tag, true, nil)
	if err != nil {
		return false
	}
	cb, err := copyNormalised(b, "/"+b.Tag, true, nil)
	if err != nil {
		return false
	}
	x, xerr := CanonicalFragments(ca)
	y, yerr := CanonicalFragments(cb)
	return xerr == nil && yerr == nil && bytes.Equal(x, y)
}

// sameInstructions reports whether two elements hold the same processing
// instructions, in order, among their children.
func sameInstructions(a, b *etree.Element) bool {
	var pa, pb []string
	for _, t := range a.Child {
		if pi, ok := t.(*etree.ProcInst); ok {
			pa = append(pa, pi.Target+" "+pi.Inst)
		}
	}
	for _, t := range b.Child {
		if pi, ok := t.(*etree.ProcInst); ok {
			pb = append(pb, pi.Target+" "+pi.Inst)
		}
	}
	return slices.Equal(pa, pb)
}

// SameSignedParts is a quick, conservative form of comparing two
// ParentPrescriptions' signature fragments: it walks the signed parts
// (author time, first prescription id, author AgentPerson, recordTarget,
// each pertinentLineItem whole) of both without copying them and reports
// true only when they hold the same tokens as SignatureFragments reads them
// (local names, attributes in any order with namespace declarations set
// aside, text and CDATA byte for byte, processing instructions; comments
// and white-space-only text passed over). True means the fragments are
// equal; false means only that CompareSignatureFragments must decide.
func SameSignedParts(a, b *etree.Element) bool {
	pa, pb := SignedParts(a), SignedParts(b)
	if pa == nil || pb == nil || len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		if !SameSignedTokens(pa[i], pb[i], nil) {
			return false
		}
	}
	return true
}

// SignedParts lists the elements of a ParentPrescription that its
// signature's fragments are made of, in SameSignedParts' order (author
// time, first prescription id, author AgentPerson, recordTarget, each
// pertinentLineItem); nil when one is missing.
func SignedParts(pp *etree.Element) []*etree.Element {
	parts, ok := AppendSignedParts(nil, pp)
	if !ok {
		return nil
	}
	return parts
}

// AppendSignedParts is SignedParts appending the parts to dst, for a
// caller with room of its own (a comparison that keeps the lists no longer
// than it runs): dst grows once at most, to hold them all. ok is false,
// and dst is given back as it was, when a part is missing.
func AppendSignedParts(dst []*etree.Element, pp *etree.Element) (parts []*etree.Element, ok bool) {
	if pp == nil {
		return dst, false
	}
	presc := FindPath(pp, "pertinentInformation1", "pertinentPrescription")
	if presc == nil {
		return dst, false
	}
	items := 0
	for _, t := range presc.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "pertinentInformation2" {
			items++
		}
	}
	// One allocation at most: the four parts and each line item's.
	parts = append(slices.Grow(dst, 4+items), FindPath(presc, "author", "time"), presc.SelectElement("id"),
		FindPath(presc, "author", "AgentPerson"), pp.SelectElement("recordTarget"))
	for _, t := range presc.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == "pertinentInformation2" {
			parts = append(parts, c.SelectElement("pertinentLineItem"))
		}
	}
	for _, p := range parts[len(dst):] {
		if p == nil {
			return dst, false
		}
	}
	return parts, true
}

// SameSignedTokens compares two elements (two signed parts, or elements
// within them) as SameSignedParts describes. With also set, it is asked of
// each pair of elements the comparison pairs, a and b first, instead of
// SameSignedAttrs, which it must include, and a false answer ends the
// comparison false: how a caller checks a rule of its own in the same walk.
// A pair is compared by name (Tag) before also is asked of it.
func SameSignedTokens(a, b *etree.Element, also func(x, y *etree.Element) bool) bool {
	if a.Tag != b.Tag {
		return false
	}
	if also == nil && !SameSignedAttrs(a, b) || also != nil && !also(a, b) {
		return false
	}
	i, j := 0, 0
	for {
		ta, tb := nextSignedToken(a, &i), nextSignedToken(b, &j)
		if ta == nil || tb == nil {
			return ta == nil && tb == nil
		}
		if x, ok := ta.(*etree.Element); ok {
			y, ok := tb.(*etree.Element)
			if !ok || !SameSignedTokens(x, y, also) {
				return false
			}
		} else if !SameSignedLeaves(ta, tb) {
			return false
		}
	}
}

// SameSignedLeaves compares two child tokens the signature's fragments keep
// (SignedToken), the first not an element, as SameSignedTokens does: text
// and CDATA of the same kind byte for byte, processing instructions by
// target and content; anything else (an element against either) is not
// the same. A caller that pairs the tokens of two parts by a rule of its
// own compares the tokens that are not elements with it.
func SameSignedLeaves(a, b etree.Token) bool {
	switch x := a.(type) {
	case *etree.CharData:
		y, ok := b.(*etree.CharData)
		return ok && x.IsCData() == y.IsCData() && x.Data == y.Data
	case *etree.ProcInst:
		y, ok := b.(*etree.ProcInst)
		return ok && x.Target == y.Target && x.Inst == y.Inst
	}
	return false
}

// nextSignedToken returns the next child token of e from token index *i on
// that the signature's fragments keep (SignedToken), advancing *i past it;
// nil at the end.
func nextSignedToken(e *etree.Element, i *int) etree.Token {
	for *i < len(e.Child) {
		t := e.Child[*i]
		*i++
		if SignedToken(t) {
			return t
		}
	}
	return nil
}

// SignedToken reports whether the signature's fragments keep a child token
// as SameSignedTokens compares them: not a comment, not text that is white
// space to JavaScript (CDATA always kept). It is how SameSignedTokens pairs
// tokens, for a caller that walks two parts by a rule of its own besides.
func SignedToken(t etree.Token) bool {
	switch x := t.(type) {
	case *etree.Comment:
		return false
	case *etree.CharData:
		return x.IsCData() || !jsBlankToken(x)
	}
	return true
}

// SameSignedAttrs compares two elements' attributes as the signature's
// fragments see them: by name and exact value in any order, namespace
// declarations set aside; a prefixed attribute (which the fragments refuse)
// never compares the same.
func SameSignedAttrs(a, b *etree.Element) bool {
	if sameOwnAttrsInOrder(a.Attr, b.Attr) {
		return true
	}
	n := 0
	for _, x := range a.Attr {
		switch {
		case x.Space == "" && x.Key == "xmlns", x.Space == "xmlns":
			continue
		case x.Space != "":
			return false
		}
		n++
		found := false
		for _, y := range b.Attr {
			if y.Space == "" && y.Key == x.Key {
				found = y.Value == x.Value
				break
			}
		}
		if !found {
			return false
		}
	}
	m := 0
	for _, y := range b.Attr {
		switch {
		case y.Space == "" && y.Key == "xmlns", y.Space == "xmlns":
		case y.Space != "":
			return false
		default:
			m++
		}
	}
	return n == m
}

// sameOwnAttrsInOrder is SameSignedAttrs told at once for two lists of the
// same unprefixed attributes (or namespace declarations) in the same
// order, as a tree written back from what was read usually has them.
func sameOwnAttrsInOrder(a, b []etree.Attr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Space != y.Space || x.Key != y.Key || x.Value != y.Value || !signableAttr(x) {
			return false
		}
	}
	return true
}

// SignableAttrs reports whether a list of attributes has none the
// signature's fragments refuse (one with a prefix other than xmlns): two
// such lists equal in order are the same to SameSignedAttrs.
func SignableAttrs(attrs []etree.Attr) bool {
	for i := range attrs {
		if !signableAttr(&attrs[i]) {
			return false
		}
	}
	return true
}

// signableAttr is SignableAttrs for one attribute.
func signableAttr(a *etree.Attr) bool { return a.Space == "" || a.Space == "xmlns" }
