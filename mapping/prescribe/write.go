package prescribe

import (
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// requesterSignature returns the only Provenance signature made by the
// requester (signature.who), or nil for an unsigned prescription, and
// where it is.
func requesterSignature(c *core.BundleContext, requester string) (*fhir.Signature, signatureAt) {
	var found *fhir.Signature
	var at signatureAt
	for i, e := range c.Bundle.Entry {
		prov, ok := e.Resource.(*fhir.Provenance)
		if !ok {
			continue
		}
		for j := range prov.Signature {
			if prov.Signature[j].Who.Reference != requester {
				continue
			}
			if found != nil {
				c.Fail(signatureAt{i, j}.path(), "more than one Provenance signature by %s", requester)
				return nil, signatureAt{}
			}
			found, at = &prov.Signature[j], signatureAt{i, j}
		}
	}
	return found, at
}

// signatureAt is where a Provenance signature is: its entry and its index
// in the Provenance's signatures; its path is made only for a problem.
type signatureAt struct{ entry, index int }

// path is the signature's path, Bundle.entry[i].resource.signature[j].
func (s signatureAt) path() string {
	return core.Indexed(core.Indexed("Bundle.entry", s.entry)+".resource.signature", s.index)
}

// prescriptionAuthorTime is the author time: the signature's when; for an
// unsigned prescription the first item's authoredOn (porxgate; the EPS API
// takes the time of the call); for an unsigned released one without either
// or a validity period, the Bundle's meta.lastUpdated (the EPS API's
// release translation keeps no author time of an unsigned prescription,
// and its ParentPrescription effectiveTime is the author time unless the
// prescription has a validity period); else env.Now.
func prescriptionAuthorTime(c *core.BundleContext, o *prescriptionOrder, env core.Env) string {
	if o.signature != nil {
		t, err := core.V3TimestampFromFHIR(o.signature.When)
		if err != nil {
			c.Fail(o.sigAt.path()+".when", "%v", err)
		}
		return t
	}
	if o.first.AuthoredOn != "" {
		t, err := core.V3TimestampFromFHIR(o.first.AuthoredOn)
		if err != nil {
			c.Fail(o.firstPath+".authoredOn", "%v", err)
		}
		return t
	}
	if validityPeriod(o.first) == nil {
		if t := releasedEffectiveTime(c); t != "" {
			return t
		}
	}
	return env.Now.UTC().Format(core.V3TimeLayout)
}

// writePrescription writes pertinentPrescription and returns the signature
// placement and the line item ids (for the care record element category).
func writePrescription(c *core.BundleContext, parent *etree.Element, o *prescriptionOrder, authorTime string) (*core.SignaturePlacement, []string) {
	first, fp := o.first, o.firstPath
	p := v3.AddFixed(parent, fixedPrescription)
	v3.AddII(p, "id", core.UpperUUID(o.longID), "")
	v3.AddFixedII(p, fixedShortFormID, o.shortID)
	v3.AddFixed(p, core.FixedAdministrationCode)
	v3.AddFixed(p, core.FixedEffectiveTimeNA)
	low, high := repeatNumber(c, o)
	if l, h, ok := repeatNumberOverride(c, first.Extension, repeatScopePrescription, fp); ok {
		low, high = l, h
	}
	if high != "" {
		core.AddInterval(p, "repeatNumber", low, high)
	}
	dr := first.DispenseRequest
	if dr == nil {
		c.Fail(fp+".dispenseRequest", "missing mandatory dispenseRequest")
		return nil, nil
	}
	if dr.Performer != nil {
		ods := ""
		if dr.Performer.Identifier != nil {
			ods = dr.Performer.Identifier.Value
		}
		if ods == "" {
			c.Fail(fp+".dispenseRequest.performer.identifier", "missing mandatory ODS code")
		}
		org := v3.AddFixed(v3.AddFixed(v3.AddFixed(p, fixedPerformer), fixedAgentOrgSDS), fixedAgentOrganizationSDS)
		v3.AddFixedII(org, core.FixedODSCode, ods)
	}

	resp, respPath := o.requester, o.reqPath
	if ext := c.ExtensionAt(first.Extension, core.ExtensionResponsiblePractitioner, fp, ".extension"); ext != nil {
		r, ok := c.Resolve(ext.ValueReference, fp+".extension.valueReference").(*fhir.PractitionerRole)
		if !ok {
			c.Fail(fp+".extension.valueReference", "responsible practitioner does not reference a PractitionerRole")
			return nil, nil
		}
		resp, respPath = r, c.Path(r)
	}

	author := v3.AddFixed(p, core.FixedAuthor)
	v3.AddValue(author, "time", authorTime)
	sigText := v3.Add(author, "signatureText")
	sig := signatureFor(c, sigText, o)
	if el := core.CarriedPart(c, first.Extension, partAuthor, fp); el != nil {
		author.AddChild(el)
	} else {
		core.AddAgentPerson(c, author, o.requester, o.reqPath, core.AgentPersonOptions{PersonID: core.AuthorPersonID, ProviderLicense: true,
			Released: c.Released, SharedRole: resp == o.requester})
	}
	rp := v3.AddFixed(p, fixedResponsibleParty)
	if el := core.CarriedPart(c, first.Extension, partResponsibleParty, fp); el != nil {
		rp.AddChild(el)
	} else {
		core.AddAgentPerson(c, rp, resp, respPath, core.AgentPersonOptions{PersonID: core.ResponsiblePartyPersonID, ProviderLicense: true,
			Released: c.Released, SharedRole: resp == o.requester})
	}

	if o.course == core.CourseContinuousRepeatDispense {
		writeDaysSupply(c, p, dr, fp+".dispenseRequest")
	}
	if review := reviewDate(c, first, fp); review != "" {
		ann := core.AddFixedAnnotation(p, annotationReviewDate)
		v3.AddValue(ann, "value", review)
	}
	tt, ok := treatmentTypeFromCourse(o.course)
	if !ok && !c.Failed() {
		c.Fail(fp+".courseOfTherapyType.coding.code", "unhandled course of therapy type %q", o.course)
	}
	v3.AddCV(core.AddFixedAnnotation(p, annotationTreatmentType), "value", tt, v3.OIDTreatmentType, "")

	dsp := c.ExtensionAt(dr.Extension, fhir.ExtensionPerformerSiteType, fp, ".dispenseRequest.extension")
	if dsp == nil || dsp.ValueCoding == nil || dsp.ValueCoding.Code == "" {
		c.Fail(fp+".dispenseRequest.extension", "missing mandatory extension %s", fhir.ExtensionPerformerSiteType)
	} else {
		v3.AddCV(core.AddFixedAnnotation(p, annotationDispensingSite), "value", dsp.ValueCoding.Code, v3.OIDDispensingSitePref, "")
	}

	medList, patientInfo := additionalInstructionParts(c)
	var ids []string
	if len(o.items) <= len(o.idRoom) {
		ids = o.idRoom[:0:len(o.items)] // most prescriptions: in the order's own room
	} else {
		ids = make([]string, 0, len(o.items))
	}
	for i, mr := range o.items {
		instr := lineItemInstructions{released: o.released}
		if i == 0 {
			instr.medication, instr.patientInfo = medList, patientInfo
		}
		ids = append(ids, writeLineItem(c, p, mr, o.paths[i], low, high, instr))
	}

	ti := core.AddFixedAnnotation(p, annotationTokenIssued)
	v3.AddValue(ti, "value", strconv.FormatBool(boolExtension(c, first.Extension, core.ExtensionTokenIssued, fp)))

	pt := c.ExtensionAt(first.Extension, fhir.ExtensionPrescriptionType, fp, ".extension")
	if pt == nil || pt.ValueCoding == nil || pt.ValueCoding.Code == "" {
		c.Fail(fp+".extension", "missing mandatory extension %s", fhir.ExtensionPrescriptionType)
	} else {
		v3.AddCV(core.AddFixedAnnotation(p, annotationPrescriptionType), "value", pt.ValueCoding.Code, v3.OIDPrescriptionType, "")
	}
	return sig, ids
}

// repeatNumber returns the prescription's repeat number interval: 1..1 for
// repeat prescribing, 1..(repeats allowed + 1) for repeat dispensing (FHIR
// counts repeats after the first issue, v3 counts issues), none for acute.
// A released repeat-dispensing prescription is the issue the EPS API names
// in basedOn's numberOfRepeatsIssued (the issues before it, so the issue
// is that + 1; response/release/release-medication-request.ts).
func repeatNumber(c *core.BundleContext, o *prescriptionOrder) (low, high string) {
	switch o.course {
	case core.CourseContinuous:
		return "1", "1"
	case core.CourseContinuousRepeatDispense:
	default:
		return "", ""
	}
	first, fp := o.first, o.firstPath
	if first.DispenseRequest == nil || first.DispenseRequest.NumberOfRepeatsAllowed == nil {
		c.Fail(fp+".dispenseRequest.numberOfRepeatsAllowed", "number of repeats allowed is required for repeat dispensing")
		return "", ""
	}
	n := *first.DispenseRequest.NumberOfRepeatsAllowed
	path := fp + ".dispenseRequest.numberOfRepeatsAllowed"
	low = "1"
	for i := range first.BasedOn {
		ext := c.Extension(first.BasedOn[i].Extension, core.ExtensionEPSRepeatInformation, core.Indexed(fp+".basedOn", i)+".extension")
		if ext == nil {
			continue
		}
		if sub := fhir.FindExtension(ext.Extension, "numberOfRepeatsAllowed"); sub != nil && sub.ValueInteger != nil {
			n, path = *sub.ValueInteger, core.Indexed(fp+".basedOn", i)+".extension.extension.valueInteger"
		}
		if sub := fhir.FindExtension(ext.Extension, "numberOfRepeatsIssued"); c.Released && sub != nil && sub.ValueInteger != nil {
			issued, ok := wholeNumber(*sub.ValueInteger)
			if !ok {
				c.Fail(core.Indexed(fp+".basedOn", i)+".extension.extension.valueInteger", "number of repeats issued %q is not a whole number", *sub.ValueInteger)
				return "", ""
			}
			low = strconv.FormatInt(issued+1, 10)
		}
	}
	allowed, ok := wholeNumber(n)
	if !ok {
		c.Fail(path, "number of repeats allowed %q is not a whole number", n)
		return "", ""
	}
	return low, strconv.FormatInt(allowed+1, 10)
}

// wholeNumber returns n as a whole number not below zero.
func wholeNumber(n json.Number) (int64, bool) {
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil || v < 0 || v != float64(int64(v)) {
		return 0, false
	}
	return int64(v), true
}

// writeDaysSupply writes component1/daysSupply of a repeat-dispensing
// prescription: the validity period as dates and the expected supply
// duration in days.
func writeDaysSupply(c *core.BundleContext, p *etree.Element, dr *fhir.DispenseRequest, path string) {
	comp := v3.AddFixed(p, core.FixedComponent1)
	v3.AddFixed(comp, core.FixedSeparatable)
	ds := v3.AddFixed(comp, fixedDaysSupply)
	v3.AddFixed(ds, core.FixedDispensingCode)
	vp := dr.ValidityPeriod
	if vp == nil {
		c.Fail(path+".validityPeriod", "validity period is required for repeat dispensing")
		return
	}
	low, err := core.V3DateFromFHIR(vp.Start)
	if err != nil {
		c.Fail(path+".validityPeriod.start", "%v", err)
	}
	high, err := core.V3DateFromFHIR(vp.End)
	if err != nil {
		c.Fail(path+".validityPeriod.end", "%v", err)
	}
	core.AddInterval(ds, "effectiveTime", low, high)
	esd := dr.ExpectedSupplyDuration
	if esd == nil {
		c.Fail(path+".expectedSupplyDuration", "expected supply duration is required for repeat dispensing")
		return
	}
	if esd.Code != "d" {
		c.Fail(path+".expectedSupplyDuration.code", "expected supply duration must be in days (code d), got %q", esd.Code)
	}
	v3.Add(v3.Add(ds, "expectedUseTime"), "width", "unit", "d", "value", string(esd.Value))
}

// reviewDate returns the first item's authorisation expiry (review) date as
// a v3 date, or "".
func reviewDate(c *core.BundleContext, mr *fhir.MedicationRequest, path string) string {
	ext := c.ExtensionAt(mr.Extension, core.ExtensionUKCoreRepeatInformation, path, ".extension")
	if ext == nil {
		return ""
	}
	sub := fhir.FindExtension(ext.Extension, "authorisationExpiryDate")
	if sub == nil || sub.ValueDateTime == nil {
		return ""
	}
	d, err := core.V3DateFromFHIRDate(*sub.ValueDateTime)
	if err != nil {
		c.Fail(path+".extension.extension.valueDateTime", "%v", err)
	}
	return d
}

// additionalInstructionParts returns the texts the first line item's
// additional instructions carry from CommunicationRequests: the entries of
// referenced Lists (repeat medications) and the string payloads (patient
// information).
func additionalInstructionParts(c *core.BundleContext) (medication, patientInfo []string) {
	for _, e := range c.Bundle.Entry {
		cr, ok := e.Resource.(*fhir.CommunicationRequest)
		if !ok {
			continue
		}
		for j, pl := range cr.Payload {
			if pl.ContentReference != nil {
				// Bundle.entry[i].resource.payload[j].contentReference,
				// joined only for a problem.
				entry, at := c.Path(cr), ".payload[0].contentReference"
				if j != 0 {
					at = core.Indexed(".payload", j) + ".contentReference"
				}
				list, ok := c.ResolveAt(pl.ContentReference, entry, at).(*fhir.List)
				if !ok {
					c.Fail(entry+at, "does not reference a List")
					continue
				}
				for _, le := range list.Entry {
					if le.Item.Display != "" {
						medication = append(medication, le.Item.Display)
					}
				}
			}
		}
	}
	for _, e := range c.Bundle.Entry {
		if cr, ok := e.Resource.(*fhir.CommunicationRequest); ok {
			for _, pl := range cr.Payload {
				if pl.ContentReference == nil && pl.ContentString != "" {
					patientInfo = append(patientInfo, pl.ContentString)
				}
			}
		}
	}
	return medication, patientInfo
}

// lineItemInstructions is what a line item's additional instructions are
// written from besides its MedicationRequest: the mark-up (the first line
// item's), and whether the controlled drug words and note are a released
// prescription's, to be written as they stand.
type lineItemInstructions struct {
	medication, patientInfo []string
	released                bool
}

// writeLineItem writes one pertinentInformation2/pertinentLineItem and
// returns its id.
func writeLineItem(c *core.BundleContext, p *etree.Element, mr *fhir.MedicationRequest, path, low, high string, instr lineItemInstructions) string {
	rel := v3.AddFixed(p, fixedLineItemRel)
	v3.AddFixed(rel, core.FixedSeparatable)
	v3.AddFixed(rel, core.FixedLineItemTemplate)
	id := core.UpperUUID(c.RequireIdentifierAt(mr.Identifier, fhir.SystemLineItemID, path, ".identifier"))
	if el := core.CarriedPart(c, mr.Extension, partLineItem, path); el != nil {
		rel.AddChild(el)
		return id
	}
	li := v3.AddFixed(rel, fixedLineItem)
	v3.AddII(li, "id", id, "")
	v3.AddFixed(li, core.FixedAdministrationCode)
	v3.AddFixed(li, core.FixedEffectiveTimeNA)
	if l, h, ok := repeatNumberOverride(c, mr.Extension, repeatScopeLineItem, path); ok {
		low, high = l, h
	}
	if high != "" {
		core.AddInterval(li, "repeatNumber", low, high)
	}
	med := medicationCoding(c, mr, path)
	mat := v3.AddFixed(v3.AddFixed(v3.AddFixed(li, core.FixedProduct), fixedManufacturedProduct), core.FixedRequestedMaterial)
	v3.AddCV(mat, "code", med.Code, core.V3SNOMED, med.Display)

	comp := v3.AddFixed(li, core.FixedComponent)
	v3.AddFixed(comp, core.FixedNotSeparatable)
	lq := v3.AddFixed(comp, fixedLineItemQuantity)
	v3.AddFixed(lq, core.FixedDispensingCode)
	var q *fhir.Quantity
	if mr.DispenseRequest != nil {
		q = mr.DispenseRequest.Quantity
	}
	if q == nil || q.Value == "" {
		c.Fail(path+".dispenseRequest.quantity", "missing mandatory quantity")
		q = &fhir.Quantity{}
	}
	core.AddAltQuantity(lq, core.AltQuantity{Value: q.Value, Code: q.Code, Unit: q.Unit})

	if text := additionalInstructions(c, mr, path, instr); text != "" {
		ai := core.AddFixedAnnotation(li, annotationAdditionalInstructions)
		v3.AddText(ai, "value", text)
	}
	for i, ext := range mr.Extension {
		if ext.URL != core.ExtensionPrescriptionEndorsement {
			continue
		}
		ep := core.Indexed(path+".extension", i) + ".valueCodeableConcept"
		var cd *fhir.Coding
		if ext.ValueCodeableConcept != nil {
			cd = c.CodingOf(ext.ValueCodeableConcept, core.CodeSystemEndorsement, ep)
		}
		if cd == nil {
			c.Fail(ep+".coding", "no endorsement coding in %s", core.CodeSystemEndorsement)
			continue
		}
		pe := core.AddFixedAnnotation(li, annotationEndorsement)
		v3.AddCV(pe, "value", cd.Code, oidEndorsement, "")
	}
	di := core.AddFixedAnnotation(li, annotationDosageInstructions)
	v3.AddText(di, "value", core.DosageTextAt(c, mr.DosageInstruction, path, ".dosageInstruction"))
	return id
}

// The prescription's and its line items' elements whose names and
// attributes are fixed (see v3.Fixed).
var (
	fixedPrescription         = v3.NewFixed("pertinentPrescription", "classCode", "SBADM", "moodCode", "RQO")
	fixedShortFormID          = v3.NewFixed("id", "root", v3.OIDShortFormID)
	fixedPerformer            = v3.NewFixed("performer", "contextControlCode", "OP", "typeCode", "PRF")
	fixedAgentOrgSDS          = v3.NewFixed("AgentOrgSDS", "classCode", "AGNT")
	fixedAgentOrganizationSDS = v3.NewFixed("agentOrganizationSDS", "classCode", "ORG", "determinerCode", "INSTANCE")
	fixedResponsibleParty     = v3.NewFixed("responsibleParty", "contextControlCode", "OP", "typeCode", "RESP")
	fixedDaysSupply           = v3.NewFixed("daysSupply", "classCode", "SPLY", "moodCode", "RQO")
	fixedLineItemRel          = v3.NewFixed("pertinentInformation2", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	fixedLineItem             = v3.NewFixed("pertinentLineItem", "classCode", "SBADM", "moodCode", "RQO")
	fixedManufacturedProduct  = v3.NewFixed("manufacturedProduct", "classCode", "MANU")
	fixedLineItemQuantity     = v3.NewFixed("lineItemQuantity", "classCode", "SPLY", "moodCode", "RQO")

	annotationReviewDate             = core.NewFixedAnnotation("pertinentInformation7", "false", "pertinentReviewDate", "RD")
	annotationTreatmentType          = core.NewFixedAnnotation("pertinentInformation5", "false", "pertinentPrescriptionTreatmentType", "PTT")
	annotationDispensingSite         = core.NewFixedAnnotation("pertinentInformation1", "true", "pertinentDispensingSitePreference", "DSP")
	annotationTokenIssued            = core.NewFixedAnnotation("pertinentInformation8", "false", "pertinentTokenIssued", "TI")
	annotationPrescriptionType       = core.NewFixedAnnotation("pertinentInformation4", "false", "pertinentPrescriptionType", "PT")
	annotationAdditionalInstructions = core.NewFixedAnnotation("pertinentInformation1", "false", "pertinentAdditionalInstructions", "AI")
	annotationEndorsement            = core.NewFixedAnnotation("pertinentInformation3", "false", "pertinentPrescriberEndorsement", "PE")
	annotationDosageInstructions     = core.NewFixedAnnotation("pertinentInformation2", "false", "pertinentDosageInstructions", "DI")
)

// medicationCoding returns the SNOMED (dm+d) coding of the medication, from
// medicationCodeableConcept or a referenced Medication resource.
func medicationCoding(c *core.BundleContext, mr *fhir.MedicationRequest, path string) fhir.Coding {
	var cc *fhir.CodeableConcept
	// ccPath is joined only for a problem (or given by the Medication
	// resolved).
	ccPath, ccField, codingAt := path, ".medicationCodeableConcept", ".medicationCodeableConcept.coding"
	switch {
	case mr.MedicationCodeableConcept != nil:
		cc = mr.MedicationCodeableConcept
	case mr.MedicationReference != nil:
		if cc, ccPath = core.ResolveMedicationCode(c, mr.MedicationReference, path+".medicationReference"); cc == nil {
			return fhir.Coding{}
		}
		ccField, codingAt = "", ".coding"
	default:
		c.Fail(ccPath+ccField, "missing mandatory medication")
		return fhir.Coding{}
	}
	cd := c.CodingAt(unsafe.Slice(cc, 1), fhir.SystemSNOMED, ccPath, codingAt)
	if cd != nil && cd.Code != "" {
		return *cd
	}
	ccPath += ccField
	if cd == nil {
		systems := make([]string, 0, len(cc.Coding))
		for _, x := range cc.Coding {
			systems = append(systems, x.System)
		}
		c.Fail(ccPath+".coding", "unknown code system %v: the medication must be coded in %s", systems, fhir.SystemSNOMED)
		return fhir.Coding{}
	}
	if cd.Code == "" {
		c.Fail(ccPath+".coding.code", "missing mandatory code")
	}
	return *cd
}

// additionalInstructions assembles the additional instructions text as the
// EPS API does: <medication> and <patientInfo> elements, then the
// controlled drug quantity words ("CD: ...") and the note, a newline apart.
// The note and the words are escaped as the EPS API escapes a prescriber's
// (request/line-item.ts), except in a released prescription (instr.released):
// there the EPS API has given them as they stand in Spine's text, escapes
// and all (response/release/additional-instructions.ts parses only the
// <medication> and <patientInfo> mark-up), so they are written unchanged;
// and the mark-up, which it read as XML and so unescaped once, is escaped
// once again, an "&amp;" in it included.
func additionalInstructions(c *core.BundleContext, mr *fhir.MedicationRequest, path string, instr lineItemInstructions) string {
	var tail []string
	if ext := c.ExtensionAt(mr.Extension, core.ExtensionControlledDrug, path, ".extension"); ext != nil {
		if w := fhir.FindExtension(ext.Extension, "quantityWords"); w != nil && w.ValueString != nil && *w.ValueString != "" {
			tail = append(tail, "CD: "+*w.ValueString)
		}
	}
	switch len(mr.Note) {
	case 0:
	case 1:
		if mr.Note[0].Text != "" {
			tail = append(tail, mr.Note[0].Text)
		}
	default:
		c.Fail(path+".note", "more than one note")
	}
	text := strings.Join(tail, "\n")
	if !instr.released {
		text = escapeInstructionText(text)
	}
	if len(instr.medication) == 0 && len(instr.patientInfo) == 0 {
		// No mark-up before it (every item but the first, and most first
		// ones): the text itself, not a copy of it.
		return text
	}
	escape := escapeInstructionText
	if instr.released {
		escape = instructionEscaper.Replace
	}
	// The mark-up and the text in one allocation, unless escaping
	// lengthens them.
	size := len(text)
	for _, m := range instr.medication {
		size += len("<medication></medication>") + len(m)
	}
	for _, p := range instr.patientInfo {
		size += len("<patientInfo></patientInfo>") + len(p)
	}
	var b strings.Builder
	b.Grow(size)
	for _, m := range instr.medication {
		b.WriteString("<medication>")
		b.WriteString(escape(m))
		b.WriteString("</medication>")
	}
	for _, p := range instr.patientInfo {
		b.WriteString("<patientInfo>")
		b.WriteString(escape(p))
		b.WriteString("</patientInfo>")
	}
	b.WriteString(text)
	return b.String()
}

// escapeInstructionText escapes text inside the additional instructions
// mark-up the way the EPS API's XML writer does (an existing &amp; is kept).
func escapeInstructionText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	s = strings.ReplaceAll(s, "&amp;", "&")
	return instructionEscaper.Replace(s)
}

var instructionEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
