package release

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// Released prescriptions, v3 → FHIR: Spine's additions are taken out of a
// copy of the ParentPrescription, which the prescribing mapper then reads
// (so it sees the prescription as the prescriber sent it) as a released
// prescription (core.Env.Released: the additional instructions as the EPS
// API's release translation takes them apart); the statuses
// become FHIR extensions. The prescription is then written back from the
// FHIR; if that does not give the released ParentPrescription exactly (an
// unusual place or value of an addition, another typeId...), the whole of
// it is carried verbatim (signature aside, which the Provenance carries) and
// marked with ExtensionReleaseVerbatim.

// releaseAdditions are the release additions taken out of a prescription.
type releaseAdditions struct {
	status     statusName   // code "": none
	itemStatus []itemStatus // in document order
}

// readReleasedPrescription reads a component's ParentPrescription into a
// prescription-order Bundle; interaction names the message in errors. sigRaw holds the prescription's signatureText
// element as it was in the message (nil: serialise it); requestRef is the
// release request id the response answers (MessageHeader.response). What
// is written back to compare is built in sp (nil: fresh memory), the copy
// of the prescription read without Spine's additions and the edits
// recorded to compare it in rs (nil: likewise).
func readReleasedPrescription(sp *v3.Space, rs *releasedScratch, comp v3.Node, interaction string, sigRaw []byte, requestRef string, env core.Env) *fhir.Bundle {
	if rs == nil {
		rs = new(releasedScratch)
	}
	edits := rs.nextEdits()
	rs.copies.sp, rs.parts.sp = sp, sp
	b, written, pp := readReleasedBundle(sp, &rs.copies, comp, interaction, sigRaw, requestRef, env, edits)
	if b == nil {
		return nil
	}
	if regen := releasedFrom(sp, b, written, env, edits, &rs.parts); regen == nil || !sameReleased(pp.El, regen, written != nil, *edits) {
		carryReleasedVerbatim(b, pp.El)
	}
	return b
}

// releasedScratch is the memory a release response's prescriptions are
// read with, one after the other: their path copies, the edits of the
// one being read, and the release parts put into the prescriptions written
// back to compare.
type releasedScratch struct {
	copies pathCopies
	edits  core.TreeEdits
	parts  releasedParts
}

// nextEdits returns the scratch's TreeEdits emptied for the next
// prescription, their room kept: at first room for a prescription of up to
// 10 line items, in one allocation (the copied elements, and their copies,
// are the prescription, its typeId, pertinentInformation1, the
// pertinentPrescription and each item's relationship and line item; the
// additions its status, two exemptions, each item's status and the
// typeId).
func (rs *releasedScratch) nextEdits() *core.TreeEdits {
	e := &rs.edits
	if e.Copied == nil {
		room := make([]*etree.Element, 0, 88)
		*e = core.TreeEdits{Copied: room[0:0:24], Removed: room[24:24:38], Inserted: room[38:38:62], Changed: room[62:62:64], Copies: room[64:64:88]}
	}
	e.Copied, e.Removed, e.Inserted, e.Changed, e.Copies = e.Copied[:0], e.Removed[:0], e.Inserted[:0], e.Changed[:0], e.Copies[:0]
	return e
}

// sameReleased reports whether the released prescription pp is what its
// Bundle writes, regen. When regen is what the prescribing mapper wrote
// back (shortcut) with the release parts added, it was already found alike
// the path copy it read (ReadParentPrescriptionWritten gives it back only
// then, by SameElement's rule with InSignature skipped): only the
// additions and the paths to them are compared again, as edits records
// them (TestSameReleasedEdited holds the two ways to the same answers), with
// InSignature's rule told once for each element whose children are
// compared (core.SameElementEditedUnder) rather than asked of each child.
func sameReleased(pp, regen *etree.Element, shortcut bool, edits core.TreeEdits) bool {
	if shortcut {
		return core.SameElementEditedUnder(pp, regen, prescribe.SignatureTextTag, edits)
	}
	return core.SameElement(pp, regen, prescribe.InSignature)
}

// readReleasedBundle is readReleasedPrescription before the released
// prescription is compared with what the Bundle writes: the Bundle (nil on
// failure), what the prescribing mapper wrote back from it (see
// releasedFrom) and the component's ParentPrescription.
//
// edits (nil: not wanted) gets the elements of the ParentPrescription
// copied or left out to read it and the copies (TreeEdits' Copied, Removed and Copies); the
// copies are made in pc (nil: in memory of their own).
func readReleasedBundle(sp *v3.Space, pc *pathCopies, comp v3.Node, interaction string, sigRaw []byte, requestRef string, env core.Env, edits *core.TreeEdits) (*fhir.Bundle, *etree.Element, v3.Node) {
	tpl := comp.Child("templateId")
	if root := tpl.Attr("root"); root != "" && root != oidReleaseTemplate {
		tpl.Fail("unknown template root %q (want %s)", root, oidReleaseTemplate)
	}
	pp := comp.Child("ParentPrescription")
	if !pp.Exists() {
		return nil, nil, pp
	}
	cp, add := withoutReleaseAdditions(pp, edits, pc)
	// The copy is read with element paths from its own root
	// (/ParentPrescription), not from the message's: the reader makes a
	// path for each element it visits, most of them a copy of their
	// parent's, and the message's part of them more than doubled what was
	// copied (1.11 -> 0.97 MB a 20-prescription response). A problem is
	// reported at its path under pp's. The paths and node lists are made
	// in the message's Reader's memory (Sub), which a Space keeps from
	// message to message, not in 8 KB of path buffers a prescription.
	r, node := readerFor(pp, interaction, cp)
	renv := env
	renv.Released = true
	b, written := prescribe.ReadParentPrescriptionWritten(node, sigRaw, renv, sp)
	if err := r.Err(); err != nil {
		if ves := v3.Errors(err); len(ves) > 0 && pp.Reader() != nil {
			for _, ve := range ves {
				pp.Reader().FailRule(pathUnder(pp.Path(), node.Path(), ve.Path), ve.Rule, "%s", ve.Msg)
			}
		} else {
			pp.Fail("%v", err)
		}
		return nil, nil, pp
	}
	addReleaseExtensions(b, add, requestRef)
	if tplExt, typeID := tpl.OptAttr("extension"), pp.Opt("typeId").OptAttr("extension"); tplExt != typeID {
		if mrs := fhir.EntriesOf[*fhir.MedicationRequest](b); len(mrs) > 0 {
			ext := tplExt // only this one on the heap: tplExt there was an allocation every prescription
			mrs[0].Extension = append(mrs[0].Extension, fhir.Extension{URL: ExtensionReleaseTemplate, ValueString: &ext})
		}
	}
	return b, written, pp
}

// readerFor returns a Reader for el, a copy of pp's element, that makes
// its paths in the memory of pp's Reader (a new one when pp has none).
func readerFor(pp v3.Node, interaction string, el *etree.Element) (*v3.Reader, v3.Node) {
	if r := pp.Reader(); r != nil {
		return r.Sub(interaction, el)
	}
	return v3.NewReader(interaction, el)
}

// pathUnder returns path, an element path under root, as the same path
// under base instead (path itself when it is not under root).
func pathUnder(base, root, path string) string {
	rest, ok := strings.CutPrefix(path, root)
	if !ok || rest != "" && rest[0] != '/' {
		return path
	}
	return base + rest
}

// itemStatus is the status of the line item of an upper-case id.
type itemStatus struct {
	id string
	statusName
}

// itemStatusOf returns the status of the line item of an id, in any case
// (the last one given for it), and whether there is one.
func (a *releaseAdditions) itemStatusOf(id string) (statusName, bool) {
	for i := len(a.itemStatus) - 1; i >= 0; i-- {
		if sameUpper(a.itemStatus[i].id, id) {
			return a.itemStatus[i].statusName, true
		}
	}
	return statusName{}, false
}

// withoutReleaseAdditions returns pp as the prescriber wrote it, with what
// Spine adds on release taken out, and the statuses those additions held. A
// typeId PORX_MT122003UK32 becomes the prescriber's PORX_MT132004UK31. The
// result is a path copy: the elements on the paths to what is taken out are
// new, every other element is pp's own, shared and only read (their parent
// is still pp's element of the same tag). edits (nil: not wanted) gets
// the elements of pp copied and left out, and the copies. The copies are made in pc (nil:
// in memory of their own).
func withoutReleaseAdditions(pp v3.Node, edits *core.TreeEdits, pc *pathCopies) (*etree.Element, releaseAdditions) {
	if pc == nil {
		pc = new(pathCopies)
	}
	add := releaseAdditions{itemStatus: pc.statuses[:0]}
	defer func() { pc.statuses = add.itemStatus[:0] }()
	cp := pc.shallow(pp.El)
	noteCopy(edits, pp.El, cp)
	if tid := cp.SelectElement("typeId"); tid != nil && tid.SelectAttrValue("extension", "") == releasePayloadType {
		ntid := pc.shallow(tid)
		ntid.CreateAttr("extension", core.ParentPrescriptionTypeID)
		replaceChild(cp, tid, ntid)
		noteCopy(edits, tid, ntid)
	}
	pi1 := cp.SelectElement("pertinentInformation1")
	if pi1 == nil {
		return cp, add
	}
	origRx := pi1.SelectElement("pertinentPrescription")
	if origRx == nil {
		return cp, add
	}
	npi1 := pc.shallow(pi1)
	replaceChild(cp, pi1, npi1)
	rx := pc.shallow(origRx)
	replaceChild(npi1, origRx, rx)
	noteCopy(edits, pi1, npi1)
	noteCopy(edits, origRx, rx)
	// The statuses are read from the elements themselves; only one that
	// is not as Spine writes it is read again through pp's Reader, which
	// records the problem at its path (making a path for every element
	// on the way was most of this function's cost).
	var rxNode v3.Node // pp's pertinentPrescription, when needed
	rxNodeOf := func() v3.Node {
		if rxNode.El == nil {
			rxNode = pp.Opt("pertinentInformation1").Opt("pertinentPrescription")
		}
		return rxNode
	}
	// The additions and the line items, in one look at the children.
	ch := prescriptionChildrenOf(origRx, pc.items[:0])
	pc.items = ch.items[:0]
	status, low, high, rels := ch.status, ch.low, ch.high, ch.items
	if rel := status; rel != nil {
		st, ok := releasedStatus(rel, "pertinentPrescriptionStatus", v3.OIDPrescriptionStatus)
		if !ok {
			val := rxNodeOf().Opt("pertinentInformation10").Child("pertinentPrescriptionStatus").Child("value")
			st = statusName{core.V3Code(val, v3.OIDPrescriptionStatus), val.OptAttr("displayName")}
		}
		if st.code != "" {
			add.status = st
		}
		dropChild(rx, rel)
		noteEdit(edits, editRemoved, rel)
	}
	for _, rel := range [...]*etree.Element{low, high} {
		if rel != nil {
			dropChild(rx, rel)
			noteEdit(edits, editRemoved, rel)
		}
	}
	var items []v3.Node // pp's pertinentInformation2 relationships, when needed
	for i, rel := range rels {
		li := rel.SelectElement("pertinentLineItem")
		if li == nil {
			continue
		}
		is := li.SelectElement("pertinentInformation4")
		if is == nil {
			continue
		}
		st, ok := releasedStatus(is, "pertinentItemStatus", v3.OIDItemStatus)
		if !ok {
			if items == nil {
				items = rxNodeOf().All("pertinentInformation2")
			}
			if i >= len(items) {
				continue
			}
			val := items[i].Child("pertinentLineItem").Child("pertinentInformation4").Child("pertinentItemStatus").Child("value")
			st = statusName{core.V3Code(val, v3.OIDItemStatus), val.OptAttr("displayName")}
		}
		id := ""
		if idEl := li.SelectElement("id"); idEl != nil {
			id = strings.ToUpper(idEl.SelectAttrValue("root", ""))
		}
		if st.code != "" {
			add.itemStatus = append(add.itemStatus, itemStatus{id, st})
		}
		nrel, nli := pc.shallow(rel), pc.shallow(li)
		dropChild(nli, is)
		replaceChild(nrel, li, nli)
		replaceChild(rx, rel, nrel)
		noteCopy(edits, rel, nrel)
		noteCopy(edits, li, nli)
		noteEdit(edits, editRemoved, is)
	}
	return cp, add
}

// releasedStatus reads a status Spine adds, rel (a relationship of pp's
// pertinentPrescription or line item) holding act holding the value:
// its code and displayName, and true, when the act and the value are there,
// the value has its code and no codeSystem other than system. Read through
// a Reader (pp's nodes' Child and core.V3Code) such a status gives the same
// and records no problem; any other is left to be read so (false), which
// records it.
func releasedStatus(rel *etree.Element, act, system string) (statusName, bool) {
	obs := childElement(rel, act)
	if obs == nil {
		return statusName{}, false
	}
	val := childElement(obs, "value")
	if val == nil {
		return statusName{}, false
	}
	code, ok := attrValue(val, "code")
	if !ok {
		return statusName{}, false
	}
	if cs, _ := attrValue(val, "codeSystem"); cs != "" && cs != system {
		return statusName{}, false
	}
	display, _ := attrValue(val, "displayName")
	return statusName{code, display}, true
}

// childElement is the first child element of el named tag (any prefix), as
// v3.Node.Opt finds it, or nil.
func childElement(el *etree.Element, tag string) *etree.Element {
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == tag {
			return c
		}
	}
	return nil
}

// attrValue is the value of el's first attribute named key (any prefix),
// as v3.Node.Attr and OptAttr find it, and whether there is one.
func attrValue(el *etree.Element, key string) (string, bool) {
	for i := range el.Attr {
		if el.Attr[i].Key == key {
			return el.Attr[i].Value, true
		}
	}
	return "", false
}

// pathCopies makes the path copies of a release response's prescriptions
// (see withoutReleaseAdditions) in the Space the response is read in
// (v3.Space.ShallowCopy), or, without one, from a few slabs (a new one when
// one is full) instead of three allocations a copy.
type pathCopies struct {
	sp    *v3.Space      // where the copies are made; nil: the slabs below
	proto *etree.Element // an element as etree.NewElement makes one
	elems []etree.Element
	attrs []etree.Attr
	kids  []etree.Token
	// items and statuses are the room of the line item relationships and
	// item statuses withoutReleaseAdditions finds in the prescription
	// copied last, which are read only until the next one is copied
	// (addReleaseExtensions puts the statuses on its Bundle first): an
	// allocation each a prescription otherwise (a room on the stack
	// escaped with what the look at the children found).
	items    []*etree.Element
	statuses []itemStatus
}

// shallow returns a new element with el's name and attributes whose
// children are el's own tokens, shared, not copied: what bareElement
// returns with el's children, made in pc.
func (pc *pathCopies) shallow(el *etree.Element) *etree.Element {
	if pc.sp != nil {
		return pc.sp.ShallowCopy(el)
	}
	if pc.proto == nil {
		pc.proto = etree.NewElement("")
	}
	e := v3.SlabSlice(&pc.elems, 1, 32)[:1]
	cp := &e[0]
	*cp = *pc.proto
	cp.Space, cp.Tag = el.Space, el.Tag
	cp.Attr = v3.SlabSlice(&pc.attrs, len(el.Attr), 128)
	for _, a := range el.Attr {
		cp.CreateAttr(a.FullKey(), a.Value)
	}
	cp.Child = append(v3.SlabSlice(&pc.kids, len(el.Child), 512), el.Child...)
	return cp
}

// bareElement returns a new element with el's name and attributes and no
// children.
func bareElement(el *etree.Element) *etree.Element {
	cp := etree.NewElement(el.Tag)
	cp.Space = el.Space
	cp.Attr = make([]etree.Attr, 0, len(el.Attr))
	for _, a := range el.Attr {
		cp.CreateAttr(a.FullKey(), a.Value)
	}
	return cp
}

// replaceChild puts repl where old stands among parent's children.
func replaceChild(parent, old, repl *etree.Element) {
	for i, t := range parent.Child {
		if t == etree.Token(old) {
			parent.Child[i] = repl
			return
		}
	}
}

// dropChild takes el out of parent's children (a shallowElement's, so
// without touching el's own parent).
func dropChild(parent, el *etree.Element) {
	for i, t := range parent.Child {
		if t == etree.Token(el) {
			parent.Child = append(parent.Child[:i], parent.Child[i+1:]...)
			return
		}
	}
}

// addReleaseExtensions puts the statuses on the MedicationRequests and the
// release request id on the MessageHeader.
func addReleaseExtensions(b *fhir.Bundle, add releaseAdditions, requestRef string) {
	requestRef = core.LowerID(requestRef)
	for _, e := range b.Entry {
		switch r := e.Resource.(type) {
		case *fhir.MessageHeader:
			if requestRef != "" {
				r.Response = &fhir.MessageHeaderResponse{Identifier: requestRef, Code: "ok"}
			}
		case *fhir.MedicationRequest:
			addItemExtensions(r, add)
		}
	}
}

// addItemExtensions puts the prescription's status and its item's on a
// MedicationRequest.
func addItemExtensions(mr *fhir.MedicationRequest, add releaseAdditions) {
	st, item := add.itemStatusOf(fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID))
	n := 0
	if add.status.code != "" {
		n++
	}
	if item {
		n++
	}
	if n == 0 {
		return
	}
	mr.Extension = slices.Grow(mr.Extension, n)
	// The codings and the dispensing information's one extension in one
	// allocation, not three.
	parts := new(itemExtensionParts)
	if add.status.code != "" {
		parts.status = fhir.Coding{System: fhir.CodeSystemTaskBusinessStatus, Code: add.status.code, Display: add.status.display}
		mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionTaskBusinessStatus, ValueCoding: &parts.status})
	}
	if item {
		parts.dispense = fhir.Coding{System: fhir.CodeSystemMedicationDispenseType, Code: st.code, Display: st.display}
		parts.dispensing[0] = fhir.Extension{URL: "dispenseStatus", ValueCoding: &parts.dispense}
		mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionDispensingInformation, Extension: parts.dispensing[:]})
		mr.Status = requestStatusOfItem(st.code)
	}
}

// itemExtensionParts is the memory of addItemExtensions's extensions: the
// status's coding, the dispense status's, and the one extension of the
// dispensing information (a list of one: appending to it copies it).
type itemExtensionParts struct {
	status, dispense fhir.Coding
	dispensing       [1]fhir.Extension
}

// releasedFrom returns the released ParentPrescription b writes, or nil
// when it cannot be written. written is what the prescribing mapper wrote
// back from b (nil when it had to carry something): the release additions
// since (addReleaseExtensions, the template) are only read by
// addReleaseParts, so written with the release parts added is what
// writeReleasedPrescription would write, without writing b again
// (TestReleasedFromWritten holds the two alike). What it writes is built
// in sp. edits (nil: not wanted) gets the elements the release parts
// inserted into written or changed in it (TreeEdits' Inserted and Changed).
// The parts put into written come from parts (nil: made there), so that
// what is returned is only good until parts go into another prescription.
func releasedFrom(sp *v3.Space, b *fhir.Bundle, written *etree.Element, env core.Env, edits *core.TreeEdits, parts *releasedParts) *etree.Element {
	if written == nil {
		return regenerateReleased(sp, b, env)
	}
	c := core.NewBundleContext(b, "")
	if !releaseVerbatim(c) {
		parts.next()
		addReleaseParts(c, written, edits, parts)
	}
	if c.Failed() {
		return nil
	}
	return written
}

// regenerateReleased writes the released ParentPrescription of b, or nil
// when it cannot be written. It is built in sp (nil: fresh memory).
func regenerateReleased(sp *v3.Space, b *fhir.Bundle, env core.Env) *etree.Element {
	e := env
	c := core.NewBundleContext(b, "")
	parent := sp.NewHolder("PrescriptionReleaseResponse")
	writeReleasedPrescription(c, parent, e)
	if c.Failed() {
		return nil
	}
	return parent.FindElement("component/ParentPrescription")
}

// carryReleasedVerbatim makes the first MedicationRequest carry pp (without
// its signature) as the released prescription, replacing a carried
// ParentPrescription the prescribing mapper may have added.
func carryReleasedVerbatim(b *fhir.Bundle, pp *etree.Element) {
	mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
	if len(mrs) == 0 {
		return
	}
	mr := mrs[0]
	keep := mr.Extension[:0]
	for _, e := range mr.Extension {
		if e.URL == core.ExtensionV3Original {
			if p := fhir.FindExtension(e.Extension, "part"); p != nil && p.ValueCode != nil && *p.ValueCode == prescribe.PartParentPrescription {
				continue
			}
		}
		keep = append(keep, e)
	}
	yes := true
	mr.Extension = append(keep, core.V3OriginalExtension(prescribe.PartParentPrescription, prescribe.WithoutSignature(pp)),
		fhir.Extension{URL: ExtensionReleaseVerbatim, ValueBoolean: &yes})
}

// noteCopy appends el to e's Copied and its copy cp to e's Copies;
// nothing when e is nil (the edits are not wanted).
func noteCopy(e *core.TreeEdits, el, cp *etree.Element) {
	if e == nil {
		return
	}
	e.Copied, e.Copies = append(e.Copied, el), append(e.Copies, cp)
}

// editKind names a list of core.TreeEdits.
type editKind int

const (
	editCopied editKind = iota
	editRemoved
	editInserted
	editChanged
)

// noteEdit appends els to e's list of kind k; nothing when e is nil (the
// edits are not wanted).
func noteEdit(e *core.TreeEdits, k editKind, els ...*etree.Element) {
	if e == nil {
		return
	}
	list := [...]*[]*etree.Element{editCopied: &e.Copied, editRemoved: &e.Removed, editInserted: &e.Inserted, editChanged: &e.Changed}[k]
	*list = append(*list, els...)
}
