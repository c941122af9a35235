package prescribe

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Carrying what FHIR cannot say. A legacy prescriber's ParentPrescription
// may hold things the EPS FHIR profiles have no place for (an addressKey, an
// empty suffix, a code's originalText...). The patient, the author, every
// line item and, through them, the prescriber's signature fragments must
// nevertheless come back byte-for-byte the same, or the signature breaks.
// So v3 → FHIR writes the v3 back from its own FHIR and compares: each part
// (recordTarget Patient, author and responsible party AgentPerson,
// pertinentLineItem) that would not come back the same is carried verbatim
// in ExtensionV3Original, and FHIR → v3 writes a carried part as it was.
// Parts made from EPS-shaped v3 always come back, so such FHIR carries none.

// Parts of a ParentPrescription that can be carried.
const (
	partRecordTarget     = "recordTarget"
	partAuthor           = "author"
	partResponsibleParty = "responsibleParty"
	partLineItem         = "lineItem"
	// PartParentPrescription carries the whole ParentPrescription, the last
	// resort when something outside the parts (a code's originalText, an
	// older typeId...) would not come back otherwise.
	PartParentPrescription = "ParentPrescription"
)

// carryUnrepresented compares pp with the v3 written back from b and adds
// ExtensionV3Original to b's MedicationRequests for each part that differs.
// With keep, it returns what was written back when it was pp's like
// (nothing had to be carried), else nil; without, it returns nil, and pp's
// like is told first without a tree written back (writesBackAlike), the
// tree being built and compared only when it is not. What is written back
// is built in sp (nil: fresh memory).
func carryUnrepresented(pp v3.Node, b *fhir.Bundle, env core.Env, sp *v3.Space, keep bool) *etree.Element {
	if !pp.Exists() || !hasMedicationRequest(b) {
		return nil
	}
	// A signed prescription's parts must also hash as they were signed:
	// the element comparison trims text and passes over processing
	// instructions, which the signature fragments keep.
	signed := IsSigned(pp.El)
	if !keep {
		switch writesBackAlike(pp.El, signed, b, env, sp) {
		case writtenAlike, notWritten:
			return nil
		}
	}
	regen := regenerateParentPrescription(b, env, sp)
	if regen == nil {
		return nil
	}
	if writtenBackAlike(pp.El, regen, signed) {
		return regen
	}
	same := func(orig, got *etree.Element) bool {
		return core.SameElement(orig, got, nil) && (!signed || v3.SameFragment(orig, got))
	}
	sameSigned := func(got *etree.Element) bool { return signedPartsAlike(pp.El, got, signed) }
	// Listed only now: what was written back was pp's like, so nothing is
	// carried and no list is made.
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
	carry := func(mr *fhir.MedicationRequest, part string, orig, got *etree.Element) {
		if orig == nil || same(orig, got) {
			return
		}
		mr.Extension = append(mr.Extension, core.V3OriginalExtension(part, orig))
	}
	rx := []string{"pertinentInformation1", "pertinentPrescription"}
	carry(mrs[0], partRecordTarget, v3.FindPath(pp.El, "recordTarget", "Patient"), v3.FindPath(regen, "recordTarget", "Patient"))
	carry(mrs[0], partAuthor, v3.FindPath(pp.El, append(rx, "author", "AgentPerson")...), v3.FindPath(regen, append(rx, "author", "AgentPerson")...))
	carry(mrs[0], partResponsibleParty, v3.FindPath(pp.El, append(rx, "responsibleParty", "AgentPerson")...), v3.FindPath(regen, append(rx, "responsibleParty", "AgentPerson")...))
	origRx, regenRx := v3.FindPath(pp.El, rx...), v3.FindPath(regen, rx...)
	if origRx == nil || regenRx == nil {
		return nil
	}
	origItems, regenItems := origRx.SelectElements("pertinentInformation2"), regenRx.SelectElements("pertinentInformation2")
	for i, mr := range mrs {
		if i >= len(origItems) {
			break
		}
		var got *etree.Element
		if i < len(regenItems) {
			got = regenItems[i].SelectElement("pertinentLineItem")
		}
		carry(mr, partLineItem, origItems[i].SelectElement("pertinentLineItem"), got)
	}
	if again := regenerateParentPrescription(b, env, sp); again == nil || !core.SameElement(pp.El, again, InSignature) ||
		!sameSigned(again) {
		mrs[0].Extension = append(mrs[0].Extension, core.V3OriginalExtension(PartParentPrescription, WithoutSignature(pp.El)))
	}
	return nil
}

// writtenBackAlike reports whether regen, written back from what was read
// of pp, is pp's like, so that nothing is carried: by core.SameElement's
// rule with InSignature and, when pp is signed (signed is IsSigned(pp)),
// the signed parts alike as the signature's fragments see them.
func writtenBackAlike(pp, regen *etree.Element, signed bool) bool {
	return signed && core.SameSignedElementUnder(pp, regen, signatureTextTag) ||
		core.SameElement(pp, regen, InSignature) && signedPartsAlike(pp, regen, signed)
}

// signedPartsAlike reports whether got's signed parts are pp's as the
// signature's fragments see them; true when pp is not signed (signed is
// IsSigned(pp)).
func signedPartsAlike(pp, got *etree.Element, signed bool) bool {
	return !signed || v3.SameSignedParts(pp, got) || v3.CompareSignatureFragments(pp, got) == nil
}

// hasMedicationRequest reports whether b holds a MedicationRequest, without
// listing them (fhir.EntriesOf).
func hasMedicationRequest(b *fhir.Bundle) bool {
	for _, e := range b.Entry {
		if _, ok := e.Resource.(*fhir.MedicationRequest); ok {
			return true
		}
	}
	return false
}

// signatureText returns a ParentPrescription's author's signatureText, or
// nil.
func signatureText(pp *etree.Element) *etree.Element {
	return v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription", "author", "signatureText")
}

// IsSigned reports whether a ParentPrescription's author carries a
// signature (signatureText holding an element, not a nullFlavor).
func IsSigned(pp *etree.Element) bool {
	if pp == nil {
		return false
	}
	st := signatureText(pp)
	if st == nil {
		return false
	}
	for _, t := range st.Child {
		if _, ok := t.(*etree.Element); ok {
			return true
		}
	}
	return false
}

// InSignature tells the elements of signatureText, which the Provenance
// carries and which regeneration leaves out.
func InSignature(e *etree.Element) bool {
	p := e.Parent()
	return p != nil && p.Tag == signatureTextTag
}

// signatureTextTag names the element whose child elements InSignature
// tells: core.SameSignedElementUnder applies its rule with it.
const signatureTextTag = "signatureText"

// SignatureTextTag is signatureTextTag for the comparisons of other
// packages that apply InSignature's rule by name
// (core.SameElementEditedUnder in release's).
const SignatureTextTag = signatureTextTag

// WithoutSignature returns a copy of a ParentPrescription whose author's
// signatureText is emptied: the signature travels in the Provenance, byte
// for byte, and is spliced back from there. The copy declares the namespace
// prefixes it uses that only an ancestor of pp declares (an xsi:type under
// an xmlns:xsi on the message's root), as a carried part must.
func WithoutSignature(pp *etree.Element) *etree.Element {
	cp := core.WithDeclarations(pp)
	if cp == pp {
		cp = pp.Copy()
	}
	if st := signatureText(cp); st != nil && st.SelectAttr("nullFlavor") == nil {
		for len(st.Child) > 0 {
			st.RemoveChildAt(0)
		}
	}
	return cp
}

// What writesBackAlike tells of a ParentPrescription and its Bundle.
const (
	// writtenAlike: the Bundle writes pp's like, by the lossless check's
	// rules (nothing is carried).
	writtenAlike = iota
	// writtenOtherwise: perhaps not; the written tree must be compared.
	writtenOtherwise
	// notWritten: the Bundle cannot be written (nothing is carried).
	notWritten
)

// writesBackAlike writes the ParentPrescription of b as
// regenerateParentPrescription does, checking it against pp as it is
// written (v3.Verifier) instead of building it: writtenAlike means that
// the tree regenerateParentPrescription builds is pp's like as
// carryUnrepresented compares them (the Verifier's rules are stricter than
// core.SameElement's with InSignature and, for a signed pp, than the
// signed parts' comparison, whose parts it also finds in pp), notWritten
// that it returns nil. signed is IsSigned(pp). The Verifier's stand-ins
// are made in sp (nil: fresh memory). WriteParentPrescription and what it
// calls change what they wrote only as the Verifier sees it (v3.Verifier:
// CreateAttr, SetText, CreateText, AddChild); a writer that renamed,
// removed, moved or read back what it wrote would need the tree instead.
func writesBackAlike(pp *etree.Element, signed bool, b *fhir.Bundle, env core.Env, sp *v3.Space) int {
	c := writeBackContext(b)
	v, holder := sp.Verify(pp, signatureTextTag)
	WriteParentPrescription(c, holder, env)
	alike := v.Finish()
	switch {
	case c.Failed():
		return notWritten
	case !alike:
		return writtenOtherwise
	case signed:
		// core.SameSignedElementUnder finds the signed parts in both
		// trees, alike here: in pp, they must be there.
		var room [4 + 12]*etree.Element
		if _, ok := v3.AppendSignedParts(room[:0], pp); !ok {
			return writtenOtherwise
		}
	}
	return writtenAlike
}

// regenerateParentPrescription writes the ParentPrescription of an
// in-memory prescription-order Bundle in sp (nil: fresh memory), or
// returns nil when it cannot be written.
func regenerateParentPrescription(b *fhir.Bundle, env core.Env, sp *v3.Space) *etree.Element {
	c := writeBackContext(b)
	parent := sp.NewHolder("subject")
	WriteParentPrescription(c, parent, env)
	if c.Failed() {
		return nil
	}
	return parent.SelectElement("ParentPrescription")
}

// writeBackContext is the context the lossless check writes b back in:
// b is a Bundle porxgate made itself (core.BundleContext.Trusted), so the
// values it wrote are not checked again.
func writeBackContext(b *fhir.Bundle) *core.BundleContext {
	c := core.NewBundleContext(b, "")
	c.Trusted = true
	return c
}
