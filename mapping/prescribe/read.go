package prescribe

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// PrescribeToFHIR turns a v3 Parent Prescription (urgent or non-urgent, UK
// or SM family) into the FHIR prescription-order Bundle, with the wrapper
// values that travel beside it. Resource ids come from the v3 ids where it
// has them (line items) and from env.NewID otherwise.
func PrescribeToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	// The trees are built in a Space of env's Scratch and given back
	// unused once the FHIR is written: nothing returned refers to them.
	sp := env.Scratch.Get()
	out, meta, err := prescribeToFHIR(sp, payload, env)
	env.Scratch.Put(sp)
	return out, meta, err
}

// prescribeToFHIR is PrescribeToFHIR building its trees in sp.
func prescribeToFHIR(sp *v3.Space, payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, _, err := core.OpenV3In(sp, payload, env, "Parent Prescription (PORX_IN020101/PORX_IN020102)", v3.ParentPrescription, v3.ParentPrescriptionNonUrgent)
	if err != nil {
		return nil, core.Meta{}, err
	}
	w, subject := v3.ReadWrapper(root)
	pp := subject.Child("ParentPrescription")
	// What Spine refuses of a prescriber's patient, before the reader
	// takes a missing name, gender or birth time for a missing mandatory
	// element; a prescription read inside a release or a claim is one
	// Spine took.
	core.CheckPrescribingPatient(pp.Opt("recordTarget").Opt("Patient"))
	b, _, _ := readParentPrescriptionKept(pp, payload, env, sp, false)
	core.RefuseEmptyAttrs(pp) // after reading: a problem the reader names more exactly comes first
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	out, err := fhir.Marshal(b)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("%s: writing FHIR: %w", root.El.Tag, err)
	}
	meta := core.MetaFromWrapper(w)
	if sp != nil {
		meta = meta.Copy() // its strings are views of the message in sp
	}
	return out, meta, nil
}

// parentPrescription is what a v3 ParentPrescription says, read once.
type parentPrescription struct {
	id, effective, typeID     string
	longID, shortID           string
	low, high                 string
	performer                 string
	authorTime, signature     string
	treatment, dsp, prescType string
	reviewDate                string
	tokenIssued               bool
	daysLow, daysHigh         string
	supplyDays                string
	// released: read as the EPS API's release translation reads a
	// prescription Spine released (core.Env.Released).
	released bool
}

// lineItem is what one pertinentLineItem says.
type lineItem struct {
	id                string
	low, high         string
	code, display     string
	qty               json.Number
	unitCode, unit    string
	instructions      additionalInstructionText
	endorsements      []string
	dosage            string
	hasInstructionsEl bool
}

// ReadParentPrescription reads a ParentPrescription element into a FHIR
// prescription-order Bundle. raw is the message it was parsed from (for the
// signature's exact bytes; nil serialises the element instead); env.NewID
// must be set (fresh resource ids). With env.Released the prescription is
// read as one Spine released, as the EPS API's release translation reads
// it: each line item's controlled drug words and note as they stand in its
// additional instructions, escapes and all, and the <medication> and
// <patientInfo> mark-up of the first line item only. Parts the FHIR cannot
// say are carried verbatim (see carry.go). Problems are recorded on pp's
// Reader.
func ReadParentPrescription(pp v3.Node, raw []byte, env core.Env) *fhir.Bundle {
	b, _, _ := readParentPrescriptionKept(pp, raw, env, nil, false)
	return b
}

// ReadParentPrescriptionWritten is ReadParentPrescription that also returns
// the ParentPrescription the Bundle writes back (as WriteParentPrescription
// writes it from FHIR that came from outside) when that is pp's like, so
// that nothing had to be carried; nil otherwise. The caller may change it.
// A caller that adds to the Bundle only what WriteParentPrescription does
// not read can compare with it instead of writing the Bundle again. What
// is written back is built in sp (nil: fresh memory), so it lives as long
// as the Space is not given back; so does the Bundle, whose strings are
// views of the message read in sp or made in room sp lends (the
// signature's base64, the fullUrls made for it: v3.Space.Lend).
func ReadParentPrescriptionWritten(pp v3.Node, raw []byte, env core.Env, sp *v3.Space) (*fhir.Bundle, *etree.Element) {
	b, written, sig := readParentPrescription(pp, raw, env, sp)
	if written != nil && len(sig.bytes) > 0 {
		// Written back as a regeneration, the signature was not checked
		// as it is when the FHIR comes from outside (signatureFor): check
		// the bytes the Provenance's base64 was made of, which decoding
		// it would give again (decodeSignature).
		// Bytes the Space vouched for when they were read are not
		// scanned again.
		err := vouchedSignatureErr(sig.bytes)
		if !sig.scanned {
			err = checkScannedSignature(sp, signatureText(pp.El), raw, sig.bytes)
		}
		if err != nil {
			written = nil
		}
	}
	return b, written
}

// readParentPrescription is ReadParentPrescription, with what
// carryUnrepresented wrote back when nothing had to be carried (else nil)
// and the signature as read (its bytes are what the Provenance's base64
// holds). What is written back is built in sp (nil: fresh memory).
func readParentPrescription(pp v3.Node, raw []byte, env core.Env, sp *v3.Space) (*fhir.Bundle, *etree.Element, readSignature) {
	return readParentPrescriptionKept(pp, raw, env, sp, true)
}

// readParentPrescriptionKept is readParentPrescription; keep says whether
// what is written back is wanted: without it, nothing had to be carried
// is told without keeping a tree written back, and nil is returned in its
// place (see carryUnrepresented).
func readParentPrescriptionKept(pp v3.Node, raw []byte, env core.Env, sp *v3.Space, keep bool) (*fhir.Bundle, *etree.Element, readSignature) {
	newID := env.NewID
	core.CheckOnce(pp, parentPrescriptionOnce)
	p := parentPrescription{released: env.Released}
	p.id = pp.Child("id").Attr("root")
	core.V3FixedCode(pp.Child("code"), core.CodePrescription, core.V3SNOMED)
	p.effective = pp.Child("effectiveTime").Value()
	if tid := pp.Opt("typeId"); tid.Exists() {
		p.typeID = core.V3ID(tid, v3.OIDTypeID)
		if !strings.HasPrefix(p.typeID, "PORX_MT") {
			tid.Fail("typeId %q is not a PORX message type", p.typeID)
		}
	}
	patient := core.ReadPatient(pp.Child("recordTarget").Child("Patient"), core.FreshID(newID))

	rx := pp.Child("pertinentInformation1").Child("pertinentPrescription")
	readPrescriptionIDs(rx, &p)
	core.V3FixedCode(rx.Child("code"), core.CodeAdministration, core.V3SNOMED)
	p.low, p.high = readInterval(rx.Opt("repeatNumber"))
	if perf := rx.Opt("performer"); perf.Exists() {
		p.performer = core.V3ID(perf.Child("AgentOrgSDS").Child("agentOrganizationSDS").Child("id"), v3.OIDODS)
	}
	author := rx.Child("author")
	p.authorTime = author.Child("time").Value()
	var sig readSignature
	p.signature, sig = signatureData(raw, author.Child("signatureText"), sp)
	authorRes := core.ReadAgentPerson(author.Child("AgentPerson"), newID, core.AuthorPersonID)
	respNode := rx.Child("responsibleParty").Child("AgentPerson")
	readDaysSupply(rx.Opt("component1"), &p)
	if rel := rx.Opt("pertinentInformation7"); rel.Exists() {
		p.reviewDate = annotationValue(rel, "pertinentReviewDate", "RD").Value()
	}
	p.treatment = core.V3Code(annotationValue(rx.Child("pertinentInformation5"), "pertinentPrescriptionTreatmentType", "PTT"), v3.OIDTreatmentType)
	p.dsp = core.V3Code(annotationValue(rx.Child("pertinentInformation1"), "pertinentDispensingSitePreference", "DSP"), v3.OIDDispensingSitePref)
	p.tokenIssued = core.V3Bool(annotationValue(rx.Child("pertinentInformation8"), "pertinentTokenIssued", "TI"))
	p.prescType = core.V3Code(annotationValue(rx.Child("pertinentInformation4"), "pertinentPrescriptionType", "PT"), v3.OIDPrescriptionType)
	items := rx.All("pertinentInformation2")
	if len(items) == 0 {
		rx.Child("pertinentInformation2")
	}
	// The items of most prescriptions are read into room on the stack
	// (which a field of p would move to the heap: its strings are kept).
	var itemRoom [4]lineItem
	lines := itemRoom[:0]
	if len(items) > len(itemRoom) {
		lines = make([]lineItem, 0, len(items))
	}
	for _, rel := range items {
		lines = append(lines, readLineItem(rel.Child("pertinentLineItem"), p.released))
	}
	checkCareRecordElements(pp.Child("pertinentInformation2"), lines)
	if _, _, ok := courseFromTreatmentType(p.treatment); !ok && p.treatment != "" {
		annotationValue(rx.Child("pertinentInformation5"), "pertinentPrescriptionTreatmentType", "PTT").Fail("unhandled prescription treatment type %q", p.treatment)
	}

	m := new(prescriptionParts)
	b := &m.bundle
	b.ResourceType, b.ID, b.Type = "Bundle", core.FreshID(newID), "message"
	m.bundleID = fhir.Identifier{System: fhir.SystemRFC4122, Value: lentLowerID(sp, p.id)}
	b.Identifier = &m.bundleID
	mh := &m.header.mh
	mh.ResourceType, mh.ID = "MessageHeader", core.FreshID(newID)
	mhURL := lentFullURL(sp, mh.ID)

	respRes, separate := responsibleParty(author.Child("AgentPerson"), respNode, authorRes, newID)
	times := convertTimes(pp, rx, &p)
	urls := prescriptionURLs{patient: lentFullURL(sp, patient.ID), requester: authorRes.RoleURL()}
	mrs := buildMedicationRequests(&p, lines, times, &urls, &m.items, respRes, separate, sp)
	// Room for every entry at once: the MessageHeader, the items, the
	// patient, the parties, the instructions' resources and the
	// Provenance.
	n := 1 + len(mrs) + 1 + partyEntryCount(authorRes) + instructionResourceCount(&p, lines)
	if separate {
		n += partyEntryCount(respRes)
	}
	// The MessageHeader's focus (the items and the patient) and the
	// Provenance's targets (the items) are one list.
	refs := len(mrs) + 1
	if p.signature != "" {
		n++
		refs += len(mrs)
	}
	b.Entry = make([]fhir.Entry, 0, n)
	b.Add(mhURL, mh)
	for i := range mrs {
		b.Add(mrs[i].url, &mrs[i].mr)
	}
	b.Add(urls.patient, patient)
	b.Entry = authorRes.AppendEntries(b.Entry)
	if separate {
		b.Entry = respRes.AppendEntries(b.Entry)
	}
	addInstructionResources(b, &p, lines, patient, &urls, authorRes, newID, sp)
	focus := make([]fhir.Reference, refs)
	if p.signature != "" {
		addProvenance(b, &m.provenance, &p, times, &urls, mrs, focus[len(mrs)+1:], newID, sp)
	}
	fillMessageHeader(&m.header, &p, &urls, mrs, focus, authorRes, sp)
	written := carryUnrepresented(pp, b, env, sp, keep)
	return b, written, sig
}

// readPrescriptionIDs reads the long-form (UUID) and short-form ids.
func readPrescriptionIDs(rx v3.Node, p *parentPrescription) {
	ids := rx.All("id")
	if len(ids) != 2 {
		rx.Child("id").Fail("want 2 prescription ids (long-form and short-form), got %d", len(ids))
		return
	}
	for _, id := range ids {
		if id.OptAttr("root") == v3.OIDShortFormID {
			p.shortID = id.Attr("extension")
			if err := core.CheckShortFormID(p.shortID); err != nil {
				id.FailAttr("extension", "%v", err)
			}
		} else {
			p.longID = id.Attr("root")
		}
	}
	if p.shortID == "" || p.longID == "" {
		rx.Child("id").Fail("want one long-form id (UUID root) and one short-form id (root %s)", v3.OIDShortFormID)
	}
}

// readInterval reads <low value/><high value/> of an optional interval.
func readInterval(n v3.Node) (low, high string) {
	if !n.Exists() {
		return "", ""
	}
	low, high = n.Child("low").Value(), n.Child("high").Value()
	for _, v := range [...]struct {
		s    string
		node string
	}{{low, "low"}, {high, "high"}} {
		if v.s == "" {
			continue
		}
		if _, err := strconv.Atoi(v.s); err != nil {
			n.Child(v.node).Fail("value %q is not a whole number", v.s)
		}
	}
	return low, high
}

// readDaysSupply reads component1/daysSupply (validity period and expected
// supply duration).
func readDaysSupply(comp v3.Node, p *parentPrescription) {
	if !comp.Exists() {
		return
	}
	ds := comp.Child("daysSupply")
	core.V3FixedCode(ds.Child("code"), core.CodeDispensing, core.V3SNOMED)
	if et := ds.Opt("effectiveTime"); et.Exists() {
		if l := et.Opt("low"); l.Exists() {
			p.daysLow = l.Value()
		}
		if h := et.Opt("high"); h.Exists() {
			p.daysHigh = h.Value()
		}
	}
	if eu := ds.Opt("expectedUseTime"); eu.Exists() {
		w := eu.Child("width")
		if u := w.Attr("unit"); u != "" && u != "d" {
			w.Fail("expected use time unit %q, want d", u)
		}
		p.supplyDays = w.Value()
		if _, err := core.Decimal(p.supplyDays); err != nil && p.supplyDays != "" {
			w.Fail("%v", err)
		}
	}
}

// annotationValue reads a prescription annotation relationship (seperatableInd
// and an OBS act with a fixed code) and returns the act's value node.
func annotationValue(rel v3.Node, act, code string) v3.Node {
	a := rel.Child(act)
	core.V3FixedCode(a.Child("code"), code, v3.OIDPertinentCode)
	return a.Child("value")
}

// readLineItem reads one pertinentLineItem; released: its additional
// instructions as parseReleasedInstructions takes them apart.
func readLineItem(li v3.Node, released bool) lineItem {
	var it lineItem
	it.id = li.Child("id").Attr("root")
	core.V3FixedCode(li.Child("code"), core.CodeAdministration, core.V3SNOMED)
	it.low, it.high = readInterval(li.Opt("repeatNumber"))
	mat := li.Child("product").Child("manufacturedProduct").Child("manufacturedRequestedMaterial")
	mc := mat.Child("code")
	it.code = core.V3Code(mc, core.V3SNOMED)
	it.display = mc.OptAttr("displayName")
	lq := li.Child("component").Child("lineItemQuantity")
	core.V3FixedCode(lq.Child("code"), core.CodeDispensing, core.V3SNOMED)
	q := lq.Child("quantity")
	tr := core.DMDTranslation(q)
	it.unitCode = core.V3Code(tr, core.V3SNOMED)
	it.unit = tr.OptAttr("displayName")
	qv := tr.Value()
	if qv == "" {
		qv = q.Value()
	}
	if qv != "" {
		n, err := core.Decimal(qv)
		if err != nil {
			tr.Fail("%v", err)
		}
		it.qty = n
	}
	if rel := li.Opt("pertinentInformation1"); rel.Exists() {
		it.hasInstructionsEl = true
		text := annotationValue(rel, "pertinentAdditionalInstructions", "AI").Text()
		if released {
			it.instructions = parseReleasedInstructions(text)
		} else {
			it.instructions = parseAdditionalInstructions(text)
		}
	}
	for _, rel := range li.All("pertinentInformation3") {
		it.endorsements = append(it.endorsements, core.V3Code(annotationValue(rel, "pertinentPrescriberEndorsement", "PE"), oidEndorsement))
	}
	it.dosage = annotationValue(li.Child("pertinentInformation2"), "pertinentDosageInstructions", "DI").Text()
	return it
}

// checkCareRecordElements checks that the care record element category
// refers to exactly the line items, in order.
func checkCareRecordElements(pi2 v3.Node, items []lineItem) {
	cat := pi2.Child("pertinentCareRecordElementCategory")
	if !cat.Exists() {
		return
	}
	core.V3FixedCode(cat.Child("code"), core.CodeCareRecord, core.V3SNOMED)
	comps := cat.All("component")
	if len(comps) != len(items) {
		cat.Fail("care record element category refers to %d line items, the prescription has %d", len(comps), len(items))
		return
	}
	for i, comp := range comps {
		id := comp.Child("actRef").Child("id")
		if got := id.Attr("root"); got != "" && !strings.EqualFold(got, items[i].id) {
			id.Fail("actRef %q does not match line item %d (%q)", got, i+1, items[i].id)
		}
	}
}

// partyEntryCount is how many entries AppendEntries adds for a.
func partyEntryCount(a *core.AgentPersonResources) int {
	n := 1
	for _, present := range [...]bool{a.Practitioner != nil, a.Organization != nil, a.Parent != nil} {
		if present {
			n++
		}
	}
	return n
}

// responsibleParty returns the responsible party's resources: the author's
// own when the two AgentPersons differ only in the person's code (which the
// DIN then carries), else resources of its own (separate is true).
func responsibleParty(authorNode, respNode v3.Node, authorRes *core.AgentPersonResources, newID func() string) (*core.AgentPersonResources, bool) {
	if !respNode.Exists() || !authorNode.Exists() {
		return authorRes, false
	}
	personID := func(n v3.Node) string {
		return n.Opt("agentPerson").Opt("id").OptAttr("extension")
	}
	skipPersonID := func(e *etree.Element) bool {
		return e.Tag == "id" && e.Parent() != nil && e.Parent().Tag == "agentPerson"
	}
	if authorRes.Practitioner != nil && core.SameParty(authorNode.El, respNode.El, skipPersonID) {
		if rid := personID(respNode); rid != personID(authorNode) {
			authorRes.Practitioner.Identifier = append(authorRes.Practitioner.Identifier, fhir.Identifier{System: fhir.SystemDIN, Value: rid})
		}
		return authorRes, false
	}
	resp := core.ReadAgentPerson(respNode, newID, core.ResponsiblePartyPersonID)
	if core.SameParty(core.RepresentedOrganization(authorNode).El, core.RepresentedOrganization(respNode).El, nil) {
		resp.Organization, resp.Parent = nil, nil
		resp.Role.Organization = &fhir.Reference{Reference: core.FullURL(authorRes.Organization.ID)}
	}
	return resp, true
}
