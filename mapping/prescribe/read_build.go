package prescribe

import (
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// fhirTimes holds the FHIR forms of the prescription's v3 times.
type fhirTimes struct {
	author        string // author/time as a dateTime
	validityStart string // dispenseRequest.validityPeriod.start, "" for none
	validityEnd   string
	review        string // authorisationExpiryDate
}

// convertTimes turns the v3 times into their FHIR forms. The
// ParentPrescription's effectiveTime becomes validityPeriod.start unless it
// is the author time (which is what FHIR → v3 falls back to); a repeat
// dispensing prescription's validity period is its days supply, whose start
// takes the effectiveTime's time of day when the effectiveTime falls on
// its first day (the EPS API derives both from validityPeriod.start).
func convertTimes(pp, rx v3.Node, p *parentPrescription) fhirTimes {
	var t fhirTimes
	conv := func(n v3.Node, ts string, f func(string) (string, error)) string {
		if ts == "" {
			return ""
		}
		out, err := f(ts)
		if err != nil {
			n.Fail("%v", err)
		}
		return out
	}
	t.author = conv(rx.Child("author").Child("time"), p.authorTime, core.FHIRDateTimeFromV3)
	if p.daysLow != "" || p.daysHigh != "" {
		et := rx.Opt("component1").Opt("daysSupply").Opt("effectiveTime")
		t.validityStart = conv(et.Opt("low"), p.daysLow, core.FHIRDateFromV3)
		if len(p.daysLow) == 8 && len(p.effective) == 14 && strings.HasPrefix(p.effective, p.daysLow) && !strings.HasSuffix(p.effective, "000000") {
			t.validityStart = conv(pp.Child("effectiveTime"), p.effective, core.FHIRDateTimeFromV3)
		}
		t.validityEnd = conv(et.Opt("high"), p.daysHigh, core.FHIRDateFromV3)
	} else if p.effective != p.authorTime {
		f := core.FHIRDateTimeFromV3
		if len(p.effective) == 14 && strings.HasSuffix(p.effective, "000000") {
			f = core.FHIRDateFromV3
		}
		t.validityStart = conv(pp.Child("effectiveTime"), p.effective, f)
	}
	if p.reviewDate != "" {
		t.review = conv(rx.Opt("pertinentInformation7").Opt("pertinentReviewDate").Opt("value"), p.reviewDate, core.FHIRDateFromV3)
	}
	return t
}

// buildMedicationRequests makes one MedicationRequest per line item, each
// in its item's medicationRequestParts (with its fullUrl), the values every
// item refers to alike in sh. Each item's extensions are taken from one
// list made for all of them at their number; released: with room for the
// two the release translation adds to each (the prescription's status and
// the item's). The ids and fullUrls it makes are made in room sp lends
// (lentLowerID, lentLowerIDURL).
func buildMedicationRequests(p *parentPrescription, items []lineItem, t fhirTimes, urls *prescriptionURLs, sh *sharedItemParts, resp *core.AgentPersonResources, separate bool, sp *v3.Space) []medicationRequestParts {
	course, courseDisplay, _ := courseFromTreatmentType(p.treatment)
	intent := "order"
	if course != core.CourseAcute {
		intent = "original-order"
	}
	category, categoryDisplay := "outpatient", "Outpatient"
	if strings.HasPrefix(p.prescType, "01") {
		category, categoryDisplay = "community", "Community"
	}
	// What every item refers to the same way is made once, in sh.
	sh.typeCoding = fhir.Coding{System: fhir.CodeSystemPrescriptionType, Code: p.prescType}
	if separate {
		sh.responsible = fhir.Reference{Reference: resp.RoleURL()}
	}
	if t.review != "" {
		sh.review = t.review
		sh.reviewExt[0] = fhir.Extension{URL: "authorisationExpiryDate", ValueDateTime: &sh.review}
	}
	sh.categoryCoding[0] = fhir.Coding{System: core.CodeSystemMedicationRequestCategory, Code: category, Display: categoryDisplay}
	sh.category[0] = fhir.CodeableConcept{Coding: sh.categoryCoding[:]}
	sh.subject = fhir.Reference{Reference: urls.patient}
	sh.requester = fhir.Reference{Reference: urls.requester}
	sh.longID = fhir.Identifier{System: fhir.SystemLongFormID, Value: lentLowerID(sp, p.longID)}
	sh.groupExt[0] = fhir.Extension{URL: fhir.ExtensionPrescriptionID, ValueIdentifier: &sh.longID}
	sh.group = fhir.Identifier{System: fhir.SystemShortFormID, Value: p.shortID, Extension: sh.groupExt[:]}
	if course != "" {
		sh.courseCoding[0] = fhir.Coding{System: core.CourseOfTherapySystem(course), Code: course, Display: courseDisplay}
		sh.course = fhir.CodeableConcept{Coding: sh.courseCoding[:]}
	}
	sh.siteCoding = fhir.Coding{System: core.CodeSystemDispensingSitePreference, Code: p.dsp}
	sh.dispenseExt[0] = fhir.Extension{URL: fhir.ExtensionPerformerSiteType, ValueCoding: &sh.siteCoding}
	if p.supplyDays != "" {
		sh.supply = fhir.Quantity{Value: json.Number(p.supplyDays), Unit: "day", System: fhir.SystemUCUM, Code: "d"}
	}
	if p.performer != "" {
		sh.performerID = fhir.Identifier{System: fhir.SystemODS, Value: p.performer}
		sh.performer = fhir.Reference{Identifier: &sh.performerID}
	}
	sh.substitution.AllowedBoolean = &sh.substitutionAllowed

	if t.validityStart != "" || t.validityEnd != "" {
		sh.validity = fhir.Period{Start: t.validityStart, End: t.validityEnd}
	}
	// The first item's porxgate extensions, made first to be counted.
	var firstRoom [3]fhir.Extension
	var first []fhir.Extension
	if len(items) > 0 {
		first = porxgateExtensions(firstRoom[:0], p, items[0].high, t, course, sh)
	}
	spare := 0
	if p.released {
		spare = 2
	}
	n := 0
	for i := range items {
		n += itemExtensionCount(p, &items[i], t, separate) + spare
	}
	exts := make([]fhir.Extension, 0, n+len(first))

	parts := make([]medicationRequestParts, len(items))
	for i := range items {
		it := &items[i]
		a := &parts[i]
		// The id is a view of its fullUrl: the two in one room.
		id, url := lentLowerIDURL(sp, it.id)
		a.url = url
		mr := &a.mr
		mr.ResourceType, mr.ID = "MedicationRequest", id
		room := itemExtensionCount(p, it, t, separate) + spare
		if i == 0 {
			room += len(first)
		}
		ext := exts[len(exts) : len(exts) : len(exts)+room]
		ext = append(ext, fhir.Extension{URL: fhir.ExtensionPrescriptionType, ValueCoding: &sh.typeCoding})
		if separate {
			ext = append(ext, fhir.Extension{URL: core.ExtensionResponsiblePractitioner, ValueReference: &sh.responsible})
		}
		for _, e := range it.endorsements {
			ext = append(ext, fhir.Extension{URL: core.ExtensionPrescriptionEndorsement,
				ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemEndorsement, Code: e}}}})
		}
		if t.review != "" {
			ext = append(ext, fhir.Extension{URL: core.ExtensionUKCoreRepeatInformation, Extension: sh.reviewExt[:]})
		}
		if i == 0 {
			ext = append(ext, first...)
		}
		if it.low != p.low || it.high != p.high {
			ext = append(ext, repeatNumberExtension(repeatScopeLineItem, it.low, it.high))
		}
		if it.instructions.cdWords != "" {
			words := it.instructions.cdWords
			ext = append(ext, fhir.Extension{URL: core.ExtensionControlledDrug,
				Extension: []fhir.Extension{{URL: "quantityWords", ValueString: &words}}})
		}
		mr.Extension = ext
		exts = exts[:len(exts)+room]
		a.identifier[0] = fhir.Identifier{System: fhir.SystemLineItemID, Value: id}
		mr.Identifier = a.identifier[:]
		mr.Status = "active"
		mr.Intent = intent
		mr.Category = sh.category[:]
		a.medicationCoding[0] = fhir.Coding{System: fhir.SystemSNOMED, Code: it.code, Display: it.display}
		a.medication = fhir.CodeableConcept{Coding: a.medicationCoding[:]}
		mr.MedicationCodeableConcept = &a.medication
		mr.Subject = &sh.subject
		mr.AuthoredOn = t.author
		mr.Requester = &sh.requester
		mr.GroupIdentifier = &sh.group
		if course != "" {
			mr.CourseOfTherapyType = &sh.course
		}
		if it.instructions.note != "" {
			mr.Note = []fhir.Annotation{{Text: it.instructions.note}}
		}
		a.dosage[0] = fhir.Dosage{Text: it.dosage}
		mr.DosageInstruction = a.dosage[:]
		dr := &a.dispense
		dr.Extension = sh.dispenseExt[:]
		a.quantity = fhir.Quantity{Value: it.qty, Unit: it.unit, System: fhir.SystemSNOMED, Code: it.unitCode}
		dr.Quantity = &a.quantity
		if t.validityStart != "" || t.validityEnd != "" {
			dr.ValidityPeriod = &sh.validity
		}
		if course == core.CourseContinuousRepeatDispense && p.high != "" {
			mr.BasedOn = erdBasedOn(id, p.low, p.high)
		}
		if course != core.CourseAcute {
			dr.NumberOfRepeatsAllowed = repeatsAllowed(a, it.high, p.high)
		}
		if p.supplyDays != "" {
			dr.ExpectedSupplyDuration = &sh.supply
		}
		if p.performer != "" {
			dr.Performer = &sh.performer
		}
		mr.DispenseRequest = dr
		mr.Substitution = &sh.substitution
	}
	return parts
}

// itemExtensionCount is how many extensions buildMedicationRequests gives
// an item (the first item's porxgate extensions aside).
func itemExtensionCount(p *parentPrescription, it *lineItem, t fhirTimes, separate bool) int {
	n := 1 + len(it.endorsements)
	if separate {
		n++
	}
	if t.review != "" {
		n++
	}
	if it.low != p.low || it.high != p.high {
		n++
	}
	if it.instructions.cdWords != "" {
		n++
	}
	return n
}

// repeatsAllowed is an item's dispenseRequest.numberOfRepeatsAllowed, made
// in a: one less than the item's repeatNumber high, or the prescription's
// (high) when it has none; nil for neither or no whole number.
func repeatsAllowed(a *medicationRequestParts, itemHigh, high string) *json.Number {
	if itemHigh != "" {
		high = itemHigh
	}
	if high == "" {
		return nil
	}
	n, err := strconv.Atoi(high)
	if err != nil {
		return nil
	}
	a.repeats = json.Number(strconv.Itoa(n - 1))
	return &a.repeats
}

// medicationRequestParts holds a MedicationRequest read from a line item,
// the small values of its own it points to and its fullUrl, so that the
// items of a prescription are one allocation instead of some twenty-five
// each. Nothing else points into it; slices taken from its arrays are
// full.
type medicationRequestParts struct {
	mr               fhir.MedicationRequest
	url              string
	identifier       [1]fhir.Identifier
	medication       fhir.CodeableConcept
	medicationCoding [1]fhir.Coding
	dosage           [1]fhir.Dosage
	dispense         fhir.DispenseRequest
	quantity         fhir.Quantity
	repeats          json.Number
}

// sharedItemParts holds the values a prescription's MedicationRequests
// refer to alike (the prescription type, category, patient, requester,
// group identifier, course of therapy, dispensing site, validity, supply
// duration, nominated pharmacy, substitution), one copy for all of them
// instead of one an item. Nothing changes them in place once read: a
// caller adds to a MedicationRequest's lists, and the slices taken from
// these arrays are full, so an append makes a list of its own. It also
// holds the values of the first item's porxgate extensions.
type sharedItemParts struct {
	typeCoding          fhir.Coding
	responsible         fhir.Reference
	review              string
	reviewExt           [1]fhir.Extension
	category            [1]fhir.CodeableConcept
	categoryCoding      [1]fhir.Coding
	subject, requester  fhir.Reference
	group, longID       fhir.Identifier
	groupExt            [1]fhir.Extension
	course              fhir.CodeableConcept
	courseCoding        [1]fhir.Coding
	dispenseExt         [1]fhir.Extension
	siteCoding          fhir.Coding
	supply              fhir.Quantity
	validity            fhir.Period
	performer           fhir.Reference
	performerID         fhir.Identifier
	substitution        fhir.Substitution
	substitutionAllowed bool
	tokenIssued         bool
	effective           string
}

// erdBasedOn is the basedOn of a repeat-dispensing item: the EPS repeat
// information with FHIR's zero-based counts (repeats allowed after the
// first issue, and issued so far), in one allocation.
func erdBasedOn(itemID, low, high string) []fhir.Reference {
	a := new(erdParts)
	ext := &a.ext[0]
	ext.URL = core.ExtensionEPSRepeatInformation
	subs := a.subs[:0]
	if n, err := strconv.Atoi(high); err == nil {
		a.allowed = json.Number(strconv.Itoa(n - 1))
		subs = append(subs, fhir.Extension{URL: "numberOfRepeatsAllowed", ValueInteger: &a.allowed})
	}
	if n, err := strconv.Atoi(low); err == nil {
		a.issued = json.Number(strconv.Itoa(n - 1))
		subs = append(subs, fhir.Extension{URL: "numberOfRepeatsIssued", ValueInteger: &a.issued})
	}
	if len(subs) > 0 {
		ext.Extension = subs[:len(subs):len(subs)]
	}
	a.id = fhir.Identifier{System: fhir.SystemLineItemID, Value: itemID}
	a.basedOn[0] = fhir.Reference{Extension: a.ext[:], Identifier: &a.id}
	return a.basedOn[:]
}

// erdParts holds erdBasedOn's reference and what it points to. The slices
// taken from its arrays are full.
type erdParts struct {
	basedOn         [1]fhir.Reference
	ext             [1]fhir.Extension
	subs            [2]fhir.Extension
	allowed, issued json.Number
	id              fhir.Identifier
}

// porxgateExtensions returns the porxgate extensions the first item needs
// for v3 values the EPS rules would not give back: a prescription repeat
// number other than the derived one, a token issued, an effective time
// that neither the validity period nor the author time gives.
//
// It appends them to out; the values they point to are made in sh.
// firstHigh is the first item's repeatNumber high.
func porxgateExtensions(out []fhir.Extension, p *parentPrescription, firstHigh string, t fhirTimes, course string, sh *sharedItemParts) []fhir.Extension {
	var low, high string
	switch course {
	case core.CourseContinuous:
		low, high = "1", "1"
	case core.CourseContinuousRepeatDispense:
		if p.high != "" {
			low, high = "1", p.high
		} else if firstHigh != "" {
			low, high = "1", firstHigh
		}
	}
	if low != p.low || high != p.high {
		out = append(out, repeatNumberExtension(repeatScopePrescription, p.low, p.high))
	}
	if p.tokenIssued {
		sh.tokenIssued = true
		out = append(out, fhir.Extension{URL: core.ExtensionTokenIssued, ValueBoolean: &sh.tokenIssued})
	}
	derived := p.authorTime
	if t.validityStart != "" {
		if d, err := core.V3TimestampFromFHIR(t.validityStart); err == nil {
			derived = d
		}
	}
	if derived != p.effective {
		sh.effective = p.effective
		out = append(out, fhir.Extension{URL: core.ExtensionEffectiveTime, ValueString: &sh.effective})
	}
	return out
}

// addInstructionResources adds the CommunicationRequest (patient
// information) and List (repeat medications) that the line items' additional
// instructions carry in <patientInfo> and <medication> mark-up: a released
// prescription's first line item's only, as the EPS API's release
// translation takes them (common/response-bundles.ts; a later item's
// mark-up is taken off its note and dropped). Their fullUrls are made in
// room sp lends (lentFullURL).
func addInstructionResources(b *fhir.Bundle, p *parentPrescription, items []lineItem, patient *fhir.Patient, urls *prescriptionURLs, author *core.AgentPersonResources, newID func() string, sp *v3.Space) {
	meds, infos := instructionCounts(p, items)
	if meds == 0 && infos == 0 {
		return
	}
	a := new(instructionParts)
	cr := &a.cr
	cr.ResourceType, cr.ID, cr.Status = "CommunicationRequest", core.FreshID(newID), "unknown"
	a.subject = fhir.Reference{Reference: urls.patient}
	cr.Subject = &a.subject
	n := infos
	if meds > 0 {
		n++
	}
	cr.Payload = make([]fhir.CommunicationPayload, 0, n)
	for _, it := range instructionItems(p, items) {
		for _, s := range it.instructions.patientInfo {
			cr.Payload = append(cr.Payload, fhir.CommunicationPayload{ContentString: s})
		}
	}
	var listURL string
	if meds > 0 {
		list := &a.list
		list.ResourceType, list.ID, list.Status, list.Mode = "List", core.FreshID(newID), "current", "snapshot"
		a.listCode = fhir.CodeableConcept{Text: "Repeat Medications"}
		list.Code, list.Subject = &a.listCode, &a.subject
		list.Entry = make([]fhir.ListEntry, 0, meds)
		for _, it := range instructionItems(p, items) {
			for _, m := range it.instructions.medication {
				list.Entry = append(list.Entry, fhir.ListEntry{Item: fhir.Reference{Display: m}})
			}
		}
		listURL = lentFullURL(sp, list.ID)
		a.listRef = fhir.Reference{Reference: listURL}
		cr.Payload = append(cr.Payload, fhir.CommunicationPayload{ContentReference: &a.listRef})
	}
	if author.Organization != nil && len(author.Organization.Identifier) > 0 {
		a.requester = fhir.Reference{Type: "Organization", Identifier: &author.Organization.Identifier[0], Display: author.Organization.Name}
		cr.Requester = &a.requester
	}
	if len(patient.Identifier) > 0 {
		a.recipient[0] = fhir.Reference{Type: "Patient", Identifier: &patient.Identifier[0]}
		cr.Recipient = a.recipient[:]
	}
	b.Add(lentFullURL(sp, cr.ID), cr)
	if meds > 0 {
		b.Add(listURL, &a.list)
	}
}

// instructionItems returns the line items whose additional instructions'
// mark-up addInstructionResources takes: a released prescription's first
// only.
func instructionItems(p *parentPrescription, items []lineItem) []lineItem {
	if p.released && len(items) > 1 {
		return items[:1]
	}
	return items
}

// instructionCounts returns how many <medication> and <patientInfo>
// elements addInstructionResources takes.
func instructionCounts(p *parentPrescription, items []lineItem) (meds, infos int) {
	for _, it := range instructionItems(p, items) {
		meds += len(it.instructions.medication)
		infos += len(it.instructions.patientInfo)
	}
	return meds, infos
}

// instructionResourceCount is how many resources addInstructionResources
// adds: the CommunicationRequest and, for any <medication>, the List.
func instructionResourceCount(p *parentPrescription, items []lineItem) int {
	switch meds, infos := instructionCounts(p, items); {
	case meds > 0:
		return 2
	case infos > 0:
		return 1
	}
	return 0
}

// instructionParts holds the CommunicationRequest and List of the
// additional instructions and the small values they point to, one
// allocation instead of eight. Nothing else points into it; the slice taken
// from its array is full.
type instructionParts struct {
	cr        fhir.CommunicationRequest
	list      fhir.List
	subject   fhir.Reference // the patient, the subject of both
	listCode  fhir.CodeableConcept
	listRef   fhir.Reference
	requester fhir.Reference
	recipient [1]fhir.Reference
}

// addProvenance adds the Provenance, made in a, that carries the
// prescriber's signature; its targets are the items', in the room of
// targets (as many References as items); its fullUrl is made in room sp
// lends (lentFullURL).
func addProvenance(b *fhir.Bundle, a *provenanceParts, p *parentPrescription, t fhirTimes, urls *prescriptionURLs, items []medicationRequestParts, targets []fhir.Reference, newID func() string, sp *v3.Space) {
	who := fhir.Reference{Reference: urls.requester}
	prov := &a.prov
	prov.ResourceType, prov.ID, prov.Recorded = "Provenance", core.FreshID(newID), t.author
	for i := range items {
		targets[i] = fhir.Reference{Reference: items[i].url}
	}
	prov.Target = targets[:len(items):len(items)]
	a.agent[0] = fhir.ProvenanceAgent{Who: who}
	prov.Agent = a.agent[:]
	a.signatureType[0] = fhir.Coding{System: core.CodeSystemSignatureType, Code: "1.2.840.10065.1.12.1.1", Display: "Author's Signature"}
	a.signature[0] = fhir.Signature{Type: a.signatureType[:], When: t.author, Who: who, Data: p.signature}
	prov.Signature = a.signature[:]
	b.Add(lentFullURL(sp, prov.ID), prov)
}

// provenanceParts holds the Provenance and the small values it points to.
// Nothing else points into it; the slices taken from its arrays are full.
type provenanceParts struct {
	prov          fhir.Provenance
	agent         [1]fhir.ProvenanceAgent
	signature     [1]fhir.Signature
	signatureType [1]fhir.Coding
}

// fillMessageHeader completes the MessageHeader: the event, the sender (the
// prescriber's organisation), the receiver (the nominated pharmacy, when
// there is one) and the focus (the items and the patient, in the room of
// focus, one Reference more than items). The source's endpoint is made in
// room sp lends (lentJoin).
func fillMessageHeader(a *messageHeaderParts, p *parentPrescription, urls *prescriptionURLs, items []medicationRequestParts, focus []fhir.Reference, author *core.AgentPersonResources, sp *v3.Space) {
	mh := &a.mh
	mh.EventCoding = fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: fhir.EventPrescriptionOrder, Display: "Prescription Order"}
	dest := &a.destination[0]
	dest.Endpoint = "https://sandbox.api.service.nhs.uk/electronic-prescriptions/$post-message"
	if p.performer != "" {
		a.receiverID = fhir.Identifier{System: fhir.SystemODS, Value: p.performer}
		a.receiver.Identifier = &a.receiverID
		dest.Receiver = &a.receiver
	}
	mh.Destination = a.destination[:]
	if org := author.Organization; org != nil && len(org.Identifier) > 0 {
		a.sender = fhir.Reference{Identifier: &org.Identifier[0], Display: org.Name}
		mh.Sender = &a.sender
		a.source.Endpoint = lentJoin(sp, "https://directory.spineservices.nhs.uk/STU3/Organization/", org.Identifier[0].Value)
		mh.Source = &a.source
	}
	for i := range items {
		focus[i] = fhir.Reference{Reference: items[i].url}
	}
	focus[len(items)] = fhir.Reference{Reference: urls.patient}
	mh.Focus = focus[: len(items)+1 : len(items)+1]
}

// messageHeaderParts holds a prescription's MessageHeader and the small
// values it points to. Nothing else points into it; the slice taken from
// its array is full.
type messageHeaderParts struct {
	mh          fhir.MessageHeader
	destination [1]fhir.MessageDestination
	receiver    fhir.Reference
	receiverID  fhir.Identifier
	sender      fhir.Reference
	source      fhir.MessageSource
}

// prescriptionParts holds the Bundle read from a prescription and what
// there is one of in it, with the small values they point to: the
// Bundle's identifier, the MessageHeader, the Provenance (unused for an
// unsigned prescription) and what the MedicationRequests share, one
// allocation instead of five.
type prescriptionParts struct {
	bundle     fhir.Bundle
	bundleID   fhir.Identifier
	header     messageHeaderParts
	provenance provenanceParts
	items      sharedItemParts
}

// lentJoin is a+b in room sp lends (v3.Space.Lend; fresh memory for a
// nil sp): a string of the Bundle, which holds views of the message read
// in sp already, so lives no longer than they do.
func lentJoin(sp *v3.Space, a, b string) string {
	if sp == nil {
		return a + b
	}
	buf := sp.Lend(len(a) + len(b))
	copy(buf[copy(buf, a):], b)
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// lentFullURL is core.FullURL(id) made by lentJoin.
func lentFullURL(sp *v3.Space, id string) string {
	return lentJoin(sp, core.FullURL(""), id)
}

// lentLowerID is core.LowerID(id), the lowered copy of an ASCII id with
// capitals (as v3 writes UUIDs) made in room sp lends.
func lentLowerID(sp *v3.Space, id string) string {
	i := 0
	for i < len(id) && id[i] < utf8.RuneSelf && (id[i] < 'A' || id[i] > 'Z') {
		i++
	}
	if sp == nil || i == len(id) || id[i] >= utf8.RuneSelf {
		return core.LowerID(id) // id itself, fresh memory, or not ASCII
	}
	buf := sp.Lend(len(id))
	if !core.PutLowerASCII(buf, id) {
		return core.LowerID(id)
	}
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// lentLowerIDURL is core.LowerIDURL(id), its URL made in room sp lends
// (an id past ASCII: core.LowerIDURL's).
func lentLowerIDURL(sp *v3.Space, id string) (lower, url string) {
	if sp == nil {
		return core.LowerIDURL(id)
	}
	prefix := core.FullURL("")
	buf := sp.Lend(len(prefix) + len(id))
	if !core.PutLowerASCII(buf[copy(buf, prefix):], id) {
		return core.LowerIDURL(id)
	}
	url = unsafe.String(unsafe.SliceData(buf), len(buf))
	return url[len(prefix):], url
}

// prescriptionURLs are the fullUrls a prescription's resources are referred
// to by, each made once: the patient's and the requester's (the author's
// PractitionerRole, its AgentPersonResources.RoleURL). Each
// MedicationRequest's is in its medicationRequestParts.
type prescriptionURLs struct {
	patient, requester string
}

// additionalInstructionText is the additional instructions text taken apart.
type additionalInstructionText struct {
	medication, patientInfo []string
	cdWords, note           string
}

// parseAdditionalInstructions takes the additional instructions text apart
// as the EPS API does: leading <medication> and <patientInfo> elements, then
// "CD: <quantity words>" up to the first newline, then the note.
func parseAdditionalInstructions(text string) additionalInstructionText {
	a, text := cutInstructionMarkup(text, false)
	text = xmlUnescape(text)
	if rest, ok := strings.CutPrefix(text, "CD: "); ok {
		words, note, _ := strings.Cut(rest, "\n")
		a.cdWords, a.note = words, note
		return a
	}
	a.note = text
	return a
}

// parseReleasedInstructions takes a released prescription's additional
// instructions text apart as the EPS API's release translation does
// (response/release/additional-instructions.ts): leading <medication> and
// <patientInfo> elements, each after any white space and its content over
// as many lines as it takes, read as XML; then, after any white space,
// "CD: <quantity words>" up to a newline; then the note. The words and the
// note are as they stand in Spine's text, escapes and all.
func parseReleasedInstructions(text string) additionalInstructionText {
	a, text := cutInstructionMarkup(text, true)
	if words, note, ok := cutReleasedCDWords(text); ok {
		a.cdWords, a.note = words, note
		return a
	}
	a.note = text
	return a
}

// cutInstructionMarkup takes the leading <medication> and <patientInfo>
// elements off an additional instructions text and returns their contents,
// unescaped, and the rest. released: as the release translation matches
// them (see parseReleasedInstructions), else as parseAdditionalInstructions.
func cutInstructionMarkup(text string, released bool) (additionalInstructionText, string) {
	var a additionalInstructionText
	for {
		if content, rest, ok := cutLeadingElement(text, "<medication>", "</medication>", released); ok {
			a.medication = append(a.medication, markupText(content, released))
			text = rest
			continue
		}
		if content, rest, ok := cutLeadingElement(text, "<patientInfo>", "</patientInfo>", released); ok {
			a.patientInfo = append(a.patientInfo, markupText(content, released))
			text = rest
			continue
		}
		return a, text
	}
}

// markupText is the text of a <medication> or <patientInfo> element's
// content: unescaped (xmlUnescape), or, released, as the release
// translation reads the element as XML (readXmlStripNamespace: xml-js over
// sax): each character reference decoded, the predefined and numeric ones
// and HTML's named ones (a name matched as written, then in lower case, as
// sax does; Go's table holds sax's HTML 4 one, and a few names only HTML 5
// has, such as &NewLine;, which sax leaves undecoded); the content as it
// stands when it is not well-formed (a "<", an "&" that starts no such
// reference), as additional-instructions.ts then takes it; and white space
// alone, which xml-js drops, as nothing. (A "<" that opens a nested element
// is taken for not well-formed, where xml-js gives the text around it.)
func markupText(content string, released bool) string {
	if !released {
		return xmlUnescape(content)
	}
	if strings.TrimFunc(content, v3.IsJSSpace) == "" {
		return ""
	}
	if !strings.ContainsAny(content, "&<") {
		return content
	}
	var b strings.Builder
	for i := 0; i < len(content); {
		switch content[i] {
		case '<':
			return content
		case '&':
			end := strings.IndexByte(content[i+1:], ';')
			if end < 0 {
				return content
			}
			r, ok := saxReference(content[i+1 : i+1+end])
			if !ok {
				return content
			}
			b.WriteString(r)
			i += end + 2
		default:
			b.WriteByte(content[i])
			i++
		}
	}
	out := b.String()
	if strings.TrimFunc(out, v3.IsJSSpace) == "" {
		return ""
	}
	return out
}

// saxReference decodes the reference &name; as sax does (parseEntity),
// reporting whether it is one.
func saxReference(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	for i, r := range name {
		if !(r == '#' || r == ':' || r == '_' || unicode.IsLetter(r) || i > 0 && (r == '.' || r == '-' || unicode.IsDigit(r) || r == '\u00b7')) {
			return "", false
		}
	}
	for _, n := range [...]string{name, strings.ToLower(name)} {
		if n[0] == '#' {
			continue
		}
		ref := "&" + n + ";"
		if u := html.UnescapeString(ref); u != ref && !strings.HasSuffix(u, ";") {
			return u, true
		}
	}
	num, ok := strings.CutPrefix(strings.ToLower(name), "#")
	if !ok {
		return "", false
	}
	base := 10
	if hex, ok := strings.CutPrefix(num, "x"); ok {
		num, base = hex, 16
	}
	n, err := strconv.ParseInt(num, base, 32)
	if err != nil || num == "" || num[0] == '+' || num[0] == '-' || !core.IsXMLChar(rune(n)) {
		return "", false
	}
	return string(rune(n)), true
}

// cutReleasedCDWords matches text against the release translation's
// /^\s*CD: (.*?)(?:$|\n)/ (JavaScript's white space; "." stops at any line
// terminator, "$" is the end of the text) and returns the words and what
// follows the match.
func cutReleasedCDWords(text string) (words, rest string, ok bool) {
	body, found := strings.CutPrefix(strings.TrimLeftFunc(text, v3.IsJSSpace), "CD: ")
	if !found {
		return "", "", false
	}
	end := strings.IndexFunc(body, isJSLineTerminator)
	switch {
	case end < 0:
		return body, "", true
	case body[end] == '\n':
		return body[:end], body[end+1:], true
	}
	return "", "", false
}

// cutLeadingElement matches text against ^\s*<tag>(.*?)</tag> (the
// element first after white space, its content on one line) and returns
// the content and what follows the element. released matches the release
// translation's /^\s*<tag>([\s\S]*?)<\/tag>/ instead: JavaScript's white
// space before, and the content over any number of lines.
func cutLeadingElement(text, open, close string, released bool) (content, rest string, ok bool) {
	var trimmed string
	if released {
		trimmed = strings.TrimLeftFunc(text, v3.IsJSSpace)
	} else {
		trimmed = strings.TrimLeft(text, "\t\n\f\r ")
	}
	body, found := strings.CutPrefix(trimmed, open)
	if !found {
		return "", "", false
	}
	end := strings.Index(body, close)
	if end < 0 || (!released && strings.IndexByte(body[:end], '\n') >= 0) {
		return "", "", false
	}
	return body[:end], body[end+len(close):], true
}

// isJSLineTerminator reports whether r ends a line to a JavaScript regular
// expression (which "." does not match).
func isJSLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'
}

var xmlUnescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

// xmlUnescape decodes the predefined XML entities.
func xmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return xmlUnescaper.Replace(s)
}
