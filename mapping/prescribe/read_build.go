package prescribe

import (
	"encoding/json"
	"html"
	"strconv"
	"strings"
	"unicode"

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

// buildMedicationRequests makes one MedicationRequest per line item.
func buildMedicationRequests(p *parentPrescription, t fhirTimes, urls *prescriptionURLs, author, resp *core.AgentPersonResources, separate bool) []*fhir.MedicationRequest {
	course, courseDisplay, _ := courseFromTreatmentType(p.treatment)
	intent := "order"
	if course != core.CourseAcute {
		intent = "original-order"
	}
	category, categoryDisplay := "outpatient", "Outpatient"
	if strings.HasPrefix(p.prescType, "01") {
		category, categoryDisplay = "community", "Community"
	}
	repeatsAllowed := func(it lineItem) *json.Number {
		high := it.high
		if high == "" {
			high = p.high
		}
		if high == "" {
			return nil
		}
		n, err := strconv.Atoi(high)
		if err != nil {
			return nil
		}
		v := json.Number(strconv.Itoa(n - 1))
		return &v
	}
	// What every item refers to the same way is made once.
	longID := core.LowerID(p.longID)
	respURL := ""
	if separate {
		respURL = resp.RoleURL()
	}
	out := make([]*fhir.MedicationRequest, 0, len(p.items))
	parts := make([]medicationRequestParts, len(p.items))
	urls.items = make([]string, len(p.items))
	for i, it := range p.items {
		a := &parts[i]
		// The id is a view of its fullUrl: the two in one allocation.
		id, url := core.LowerIDURL(it.id)
		urls.items[i] = url
		mr := &a.mr
		mr.ResourceType, mr.ID = "MedicationRequest", id
		a.typeCoding = fhir.Coding{System: fhir.CodeSystemPrescriptionType, Code: p.prescType}
		mr.Extension = append(a.ext[:0], fhir.Extension{URL: fhir.ExtensionPrescriptionType, ValueCoding: &a.typeCoding})
		if separate {
			a.responsible = fhir.Reference{Reference: respURL}
			mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionResponsiblePractitioner, ValueReference: &a.responsible})
		}
		for _, e := range it.endorsements {
			mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionPrescriptionEndorsement,
				ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemEndorsement, Code: e}}}})
		}
		if t.review != "" {
			a.review = t.review
			a.reviewExt[0] = fhir.Extension{URL: "authorisationExpiryDate", ValueDateTime: &a.review}
			mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionUKCoreRepeatInformation, Extension: a.reviewExt[:]})
		}
		if i == 0 {
			mr.Extension = append(mr.Extension, porxgateExtensions(p, t, course)...)
		}
		if it.low != p.low || it.high != p.high {
			mr.Extension = append(mr.Extension, repeatNumberExtension(repeatScopeLineItem, it.low, it.high))
		}
		if it.instructions.cdWords != "" {
			words := it.instructions.cdWords
			mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionControlledDrug,
				Extension: []fhir.Extension{{URL: "quantityWords", ValueString: &words}}})
		}
		a.identifier[0] = fhir.Identifier{System: fhir.SystemLineItemID, Value: id}
		mr.Identifier = a.identifier[:]
		mr.Status = "active"
		mr.Intent = intent
		a.categoryCoding[0] = fhir.Coding{System: core.CodeSystemMedicationRequestCategory, Code: category, Display: categoryDisplay}
		a.category[0] = fhir.CodeableConcept{Coding: a.categoryCoding[:]}
		mr.Category = a.category[:]
		a.medicationCoding[0] = fhir.Coding{System: fhir.SystemSNOMED, Code: it.code, Display: it.display}
		a.medication = fhir.CodeableConcept{Coding: a.medicationCoding[:]}
		mr.MedicationCodeableConcept = &a.medication
		a.subject = fhir.Reference{Reference: urls.patient}
		mr.Subject = &a.subject
		mr.AuthoredOn = t.author
		a.requester = fhir.Reference{Reference: urls.requester}
		mr.Requester = &a.requester
		a.longID = fhir.Identifier{System: fhir.SystemLongFormID, Value: longID}
		a.groupExt[0] = fhir.Extension{URL: fhir.ExtensionPrescriptionID, ValueIdentifier: &a.longID}
		a.group = fhir.Identifier{System: fhir.SystemShortFormID, Value: p.shortID, Extension: a.groupExt[:]}
		mr.GroupIdentifier = &a.group
		if course != "" {
			a.courseCoding[0] = fhir.Coding{System: core.CourseOfTherapySystem(course), Code: course, Display: courseDisplay}
			a.course = fhir.CodeableConcept{Coding: a.courseCoding[:]}
			mr.CourseOfTherapyType = &a.course
		}
		if it.instructions.note != "" {
			mr.Note = []fhir.Annotation{{Text: it.instructions.note}}
		}
		a.dosage[0] = fhir.Dosage{Text: it.dosage}
		mr.DosageInstruction = a.dosage[:]
		dr := &a.dispense
		a.siteCoding = fhir.Coding{System: core.CodeSystemDispensingSitePreference, Code: p.dsp}
		a.dispenseExt[0] = fhir.Extension{URL: fhir.ExtensionPerformerSiteType, ValueCoding: &a.siteCoding}
		dr.Extension = a.dispenseExt[:]
		a.quantity = fhir.Quantity{Value: it.qty, Unit: it.unit, System: fhir.SystemSNOMED, Code: it.unitCode}
		dr.Quantity = &a.quantity
		if t.validityStart != "" || t.validityEnd != "" {
			a.validity = fhir.Period{Start: t.validityStart, End: t.validityEnd}
			dr.ValidityPeriod = &a.validity
		}
		if course == core.CourseContinuousRepeatDispense && p.high != "" {
			mr.BasedOn = []fhir.Reference{erdBasedOn(id, p.low, p.high)}
		}
		if course != core.CourseAcute {
			dr.NumberOfRepeatsAllowed = repeatsAllowed(it)
		}
		if p.supplyDays != "" {
			a.supply = fhir.Quantity{Value: json.Number(p.supplyDays), Unit: "day", System: fhir.SystemUCUM, Code: "d"}
			dr.ExpectedSupplyDuration = &a.supply
		}
		if p.performer != "" {
			a.performerID = fhir.Identifier{System: fhir.SystemODS, Value: p.performer}
			a.performer = fhir.Reference{Identifier: &a.performerID}
			dr.Performer = &a.performer
		}
		mr.DispenseRequest = dr
		mr.Substitution = &a.substitution
		a.substitution.AllowedBoolean = &a.substitutionAllowed
		out = append(out, mr)
	}
	return out
}

// medicationRequestParts holds a MedicationRequest read from a line item
// and the small values it points to, so that each item is one allocation
// instead of some twenty-five. Nothing else points into it; slices taken
// from its arrays are full (or, for ext, grow past it when appended to).
type medicationRequestParts struct {
	mr                  fhir.MedicationRequest
	ext                 [4]fhir.Extension
	typeCoding          fhir.Coding
	responsible         fhir.Reference
	review              string
	reviewExt           [1]fhir.Extension
	identifier          [1]fhir.Identifier
	category            [1]fhir.CodeableConcept
	categoryCoding      [1]fhir.Coding
	medication          fhir.CodeableConcept
	medicationCoding    [1]fhir.Coding
	subject, requester  fhir.Reference
	group, longID       fhir.Identifier
	groupExt            [1]fhir.Extension
	course              fhir.CodeableConcept
	courseCoding        [1]fhir.Coding
	dosage              [1]fhir.Dosage
	dispense            fhir.DispenseRequest
	dispenseExt         [1]fhir.Extension
	siteCoding          fhir.Coding
	quantity, supply    fhir.Quantity
	validity            fhir.Period
	performer           fhir.Reference
	performerID         fhir.Identifier
	substitution        fhir.Substitution
	substitutionAllowed bool
}

// erdBasedOn is the basedOn of a repeat-dispensing item: the EPS repeat
// information with FHIR's zero-based counts (repeats allowed after the
// first issue, and issued so far).
func erdBasedOn(itemID, low, high string) fhir.Reference {
	ext := fhir.Extension{URL: core.ExtensionEPSRepeatInformation}
	if n, err := strconv.Atoi(high); err == nil {
		v := json.Number(strconv.Itoa(n - 1))
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "numberOfRepeatsAllowed", ValueInteger: &v})
	}
	if n, err := strconv.Atoi(low); err == nil {
		v := json.Number(strconv.Itoa(n - 1))
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "numberOfRepeatsIssued", ValueInteger: &v})
	}
	return fhir.Reference{Extension: []fhir.Extension{ext}, Identifier: &fhir.Identifier{System: fhir.SystemLineItemID, Value: itemID}}
}

// porxgateExtensions returns the porxgate extensions the first item needs
// for v3 values the EPS rules would not give back: a prescription repeat
// number other than the derived one, a token issued, an effective time
// that neither the validity period nor the author time gives.
func porxgateExtensions(p *parentPrescription, t fhirTimes, course string) []fhir.Extension {
	var out []fhir.Extension
	var low, high string
	switch course {
	case core.CourseContinuous:
		low, high = "1", "1"
	case core.CourseContinuousRepeatDispense:
		if p.high != "" {
			low, high = "1", p.high
		} else if len(p.items) > 0 && p.items[0].high != "" {
			low, high = "1", p.items[0].high
		}
	}
	if low != p.low || high != p.high {
		out = append(out, repeatNumberExtension(repeatScopePrescription, p.low, p.high))
	}
	if p.tokenIssued {
		v := true
		out = append(out, fhir.Extension{URL: core.ExtensionTokenIssued, ValueBoolean: &v})
	}
	derived := p.authorTime
	if t.validityStart != "" {
		if d, err := core.V3TimestampFromFHIR(t.validityStart); err == nil {
			derived = d
		}
	}
	if derived != p.effective {
		e := p.effective
		out = append(out, fhir.Extension{URL: core.ExtensionEffectiveTime, ValueString: &e})
	}
	return out
}

// addInstructionResources adds the CommunicationRequest (patient
// information) and List (repeat medications) that the line items' additional
// instructions carry in <patientInfo> and <medication> mark-up: a released
// prescription's first line item's only, as the EPS API's release
// translation takes them (common/response-bundles.ts; a later item's
// mark-up is taken off its note and dropped).
func addInstructionResources(b *fhir.Bundle, p *parentPrescription, patient *fhir.Patient, urls *prescriptionURLs, author *core.AgentPersonResources, newID func() string) {
	var meds, infos []string
	items := p.items
	if p.released && len(items) > 1 {
		items = items[:1]
	}
	for _, it := range items {
		meds = append(meds, it.instructions.medication...)
		infos = append(infos, it.instructions.patientInfo...)
	}
	if len(meds) == 0 && len(infos) == 0 {
		return
	}
	cr := &fhir.CommunicationRequest{Base: fhir.Base{ResourceType: "CommunicationRequest", ID: core.FreshID(newID)},
		Status: "unknown", Subject: &fhir.Reference{Reference: urls.patient}}
	for _, s := range infos {
		cr.Payload = append(cr.Payload, fhir.CommunicationPayload{ContentString: s})
	}
	var list *fhir.List
	var listURL string
	if len(meds) > 0 {
		list = &fhir.List{Base: fhir.Base{ResourceType: "List", ID: core.FreshID(newID)}, Status: "current", Mode: "snapshot",
			Code: &fhir.CodeableConcept{Text: "Repeat Medications"}, Subject: &fhir.Reference{Reference: urls.patient}}
		for _, m := range meds {
			list.Entry = append(list.Entry, fhir.ListEntry{Item: fhir.Reference{Display: m}})
		}
		listURL = core.FullURL(list.ID)
		cr.Payload = append(cr.Payload, fhir.CommunicationPayload{ContentReference: &fhir.Reference{Reference: listURL}})
	}
	if author.Organization != nil && len(author.Organization.Identifier) > 0 {
		cr.Requester = &fhir.Reference{Type: "Organization", Identifier: &author.Organization.Identifier[0], Display: author.Organization.Name}
	}
	if len(patient.Identifier) > 0 {
		cr.Recipient = []fhir.Reference{{Type: "Patient", Identifier: &patient.Identifier[0]}}
	}
	b.Add(core.FullURL(cr.ID), cr)
	if list != nil {
		b.Add(listURL, list)
	}
}

// addProvenance adds the Provenance that carries the prescriber's signature.
func addProvenance(b *fhir.Bundle, p *parentPrescription, t fhirTimes, urls *prescriptionURLs, newID func() string) {
	a := new(provenanceParts)
	who := fhir.Reference{Reference: urls.requester}
	prov := &a.prov
	prov.ResourceType, prov.ID, prov.Recorded = "Provenance", core.FreshID(newID), t.author
	prov.Target = make([]fhir.Reference, 0, len(urls.items))
	for _, u := range urls.items {
		prov.Target = append(prov.Target, fhir.Reference{Reference: u})
	}
	a.agent[0] = fhir.ProvenanceAgent{Who: who}
	prov.Agent = a.agent[:]
	a.signatureType[0] = fhir.Coding{System: core.CodeSystemSignatureType, Code: "1.2.840.10065.1.12.1.1", Display: "Author's Signature"}
	a.signature[0] = fhir.Signature{Type: a.signatureType[:], When: t.author, Who: who, Data: p.signature}
	prov.Signature = a.signature[:]
	b.Add(core.FullURL(prov.ID), prov)
}

// provenanceParts holds the Provenance and the small values it points to,
// one allocation instead of four. Nothing else points into it; the slices
// taken from its arrays are full.
type provenanceParts struct {
	prov          fhir.Provenance
	agent         [1]fhir.ProvenanceAgent
	signature     [1]fhir.Signature
	signatureType [1]fhir.Coding
}

// fillMessageHeader completes the MessageHeader: the event, the sender (the
// prescriber's organisation), the receiver (the nominated pharmacy, when
// there is one) and the focus.
func fillMessageHeader(a *messageHeaderParts, p *parentPrescription, urls *prescriptionURLs, author *core.AgentPersonResources) {
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
		a.source.Endpoint = "https://directory.spineservices.nhs.uk/STU3/Organization/" + org.Identifier[0].Value
		mh.Source = &a.source
	}
	mh.Focus = make([]fhir.Reference, 0, len(urls.items)+1)
	for _, u := range urls.items {
		mh.Focus = append(mh.Focus, fhir.Reference{Reference: u})
	}
	mh.Focus = append(mh.Focus, fhir.Reference{Reference: urls.patient})
}

// messageHeaderParts holds a prescription's MessageHeader and the small
// values it points to, so that they are one allocation instead of six.
// Nothing else points into it; the slice taken from its array is full.
type messageHeaderParts struct {
	mh          fhir.MessageHeader
	destination [1]fhir.MessageDestination
	receiver    fhir.Reference
	receiverID  fhir.Identifier
	sender      fhir.Reference
	source      fhir.MessageSource
}

// prescriptionURLs are the fullUrls a prescription's resources are referred
// to by, each made once: the patient's, the requester's (the author's
// PractitionerRole, its AgentPersonResources.RoleURL) and each
// MedicationRequest's, in order (made by buildMedicationRequests).
type prescriptionURLs struct {
	patient, requester string
	items              []string
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
