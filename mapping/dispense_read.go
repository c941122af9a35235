package mapping

import (
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Notification, v3 → FHIR: the EPS-shaped dispense-notification
// message (one MedicationDispense per supply, a contained PractitionerRole
// and MedicationRequest in each), with porxgate's extensions for what EPS
// FHIR has no element for, so that WriteDispenseNotification gives the same
// v3 back.

// dnMessage is what a DispenseNotification says, read once.
type dnMessage struct {
	id, effective, nhs          string
	recipient                   string
	recipientCode, recipientNm  string
	shID                        string
	repeatLow, repeatHigh       string
	authorTime                  string
	agent                       *dspAgent
	ndr                         *fhir.Coding
	status                      fhir.Coding
	shortID, longID             string
	predecessor                 string
	items                       []dnItem
	careRecord                  []string
	replacementOf, releaseEvent string
}

// dnItem is one supplied line item.
type dnItem struct {
	id                    string
	repeatLow, repeatHigh string
	requested             fhir.Coding
	supplies              []dnSupply
	request               dspQuantity
	requestCode           fhir.Coding
	runningTotal          *fhir.Extension
	ndr                   *fhir.Coding
	status                fhir.Coding
	intended              []fhir.Extension
	origItem              string
	predecessor           string
}

// dnSupply is one suppliedLineItemQuantity.
type dnSupply struct {
	qty          dspQuantity
	product      fhir.Coding
	instructions []string
	additional   *fhir.Extension
}

// ReadDispenseNotification reads a DispenseNotification element into a FHIR
// dispense-notification Bundle. Problems are recorded on dn's Reader.
func ReadDispenseNotification(dn v3.Node, env Env) *fhir.Bundle {
	m := readDNMessage(dn, env.NewID)
	return buildDNBundle(m, env.NewID)
}

// readDNMessage reads the v3 message.
func readDNMessage(dn v3.Node, newID func() string) *dnMessage {
	m := &dnMessage{}
	dspAttrs(dn, "classCode", "INFO", "moodCode", "EVN")
	expectChildren(dn, "id", "code", "effectiveTime", "typeId", "recordTarget", "primaryInformationRecipient",
		"pertinentInformation1", "pertinentInformation2", "replacementOf", "sequelTo")
	m.id = dspRoot(dn.Child("id"))
	dspFixedCV(dn.Child("code"), dspCodeDispensedFocus, v3SNOMED)
	m.effective = dspTS(dn.Child("effectiveTime"))
	dspFHIRTime(dn.Child("effectiveTime"), m.effective)
	dspTypeID(dn.Child("typeId"), dnTypeID)
	m.nhs = dspReadRecordTarget(dn.Child("recordTarget"))
	m.recipient, m.recipientCode, m.recipientNm = dspReadRecipient(dn.Child("primaryInformationRecipient"), "ON")

	pi1 := dn.Child("pertinentInformation1")
	dspAttrs(pi1, "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(pi1, "templateId", "pertinentSupplyHeader")
	dspTemplate(pi1.Child("templateId"), tplPertinentInfo)
	sh := pi1.Child("pertinentSupplyHeader")
	dspAttrs(sh, "classCode", "SBADM", "moodCode", "EVN")
	expectChildren(sh, "id", "code", "effectiveTime", "repeatNumber", "author", "pertinentInformation1", "pertinentInformation2",
		"pertinentInformation3", "pertinentInformation4", "inFulfillmentOf", "predecessor")
	m.shID = dspRoot(sh.Child("id"))
	dspFixedCV(sh.Child("code"), codeAdministration, v3SNOMED)
	dspNull(sh.Child("effectiveTime"))
	if rn := sh.Opt("repeatNumber"); rn.Exists() {
		m.repeatLow, m.repeatHigh = dspInterval(rn)
	}
	author := sh.Child("author")
	dspAttrs(author, "contextControlCode", "OP", "typeCode", "AUT")
	expectChildren(author, "time", "signatureText", "AgentPerson")
	m.authorTime = dspFHIRTime(author, dspTS(author.Child("time")))
	dspNull(author.Child("signatureText"))
	m.agent = dspReadAgentPerson(author.Child("AgentPerson"), "performer", newID)
	for _, rel := range sh.All("pertinentInformation1") {
		m.items = append(m.items, readDNItem(rel))
	}
	if len(m.items) == 0 {
		sh.Child("pertinentInformation1")
	}
	m.ndr = dspReadNDR(sh.Opt("pertinentInformation2"), "true")
	m.status = dspReadStatus(sh.Child("pertinentInformation3"), "pertinentPrescriptionStatus", "PS", v3.OIDPrescriptionStatus)
	m.shortID = dspReadPrescriptionID(sh.Child("pertinentInformation4"), "pertinentPrescriptionID", "PID")
	m.longID = dspReadRef(sh.Child("inFulfillmentOf"), "true", dspTplSourceOf1, "priorOriginalPrescriptionRef", "SBADM", "RQO", "FLFS")
	if p := sh.Opt("predecessor"); p.Exists() {
		m.predecessor = dspReadRef(p, "false", dspTplSourceOf1, "priorSupplyHeaderRef", "SBADM", "EVN", "SUCC")
	}

	pi2 := dn.Child("pertinentInformation2")
	dspAttrs(pi2, "typeCode", "PERT")
	expectChildren(pi2, "templateId", "pertinentCareRecordElementCategory")
	dspTemplate(pi2.Child("templateId"), tplPertinentInfo1)
	cat := pi2.Child("pertinentCareRecordElementCategory")
	dspAttrs(cat, "classCode", "CATEGORY", "moodCode", "EVN")
	expectChildren(cat, "code", "component")
	dspFixedCV(cat.Child("code"), codeCareRecord, v3SNOMED)
	for _, comp := range cat.All("component") {
		dspAttrs(comp, "typeCode", "COMP")
		expectChildren(comp, "actRef")
		ref := comp.Child("actRef")
		dspAttrs(ref, "classCode", "SBADM", "moodCode", "PRMS")
		expectChildren(ref, "id")
		m.careRecord = append(m.careRecord, dspRoot(ref.Child("id")))
	}
	if len(m.careRecord) == 0 {
		cat.Child("component")
	}
	if rep := dn.Opt("replacementOf"); rep.Exists() {
		m.replacementOf = dspReadMessageRef(rep, "RPLC", "priorMessageRef", "EVN")
	}
	m.releaseEvent = dspReadMessageRef(dn.Child("sequelTo"), "SEQL", "priorPrescriptionReleaseEventRef", "RQO")
	return m
}

// readDNItem reads one pertinentInformation1/pertinentSuppliedLineItem.
func readDNItem(rel v3.Node) dnItem {
	var it dnItem
	dspRel(rel, "false", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	expectChildren(rel, "seperatableInd", "templateId", "pertinentSuppliedLineItem")
	dspTemplate(rel.Child("templateId"), tplSourceOf2)
	li := rel.Child("pertinentSuppliedLineItem")
	dspAttrs(li, "classCode", "SBADM", "moodCode", "PRMS")
	expectChildren(li, "id", "code", "effectiveTime", "repeatNumber", "consumable", "component", "component1",
		"pertinentInformation1", "pertinentInformation2", "pertinentInformation3", "inFulfillmentOf1", "inFulfillmentOf", "predecessor")
	it.id = dspRoot(li.Child("id"))
	dspFixedCV(li.Child("code"), codeAdministration, v3SNOMED)
	dspNull(li.Child("effectiveTime"))
	if rn := li.Opt("repeatNumber"); rn.Exists() {
		it.repeatLow, it.repeatHigh = dspInterval(rn)
	}
	cons := li.Child("consumable")
	dspAttrs(cons, "contextControlCode", "OP", "typeCode", "CSM")
	expectChildren(cons, "requestedManufacturedProduct")
	rmp := cons.Child("requestedManufacturedProduct")
	dspAttrs(rmp, "classCode", "MANU")
	expectChildren(rmp, "manufacturedRequestedMaterial")
	mat := rmp.Child("manufacturedRequestedMaterial")
	dspAttrs(mat, "classCode", "MMAT", "determinerCode", "KIND")
	expectChildren(mat, "code")
	it.requested = dspCV(mat.Child("code"), v3SNOMED)
	for _, comp := range li.All("component") {
		it.supplies = append(it.supplies, readDNSupply(comp))
	}
	c1 := li.Child("component1")
	dspRel(c1, "false", "typeCode", "COMP")
	expectChildren(c1, "seperatableInd", "supplyRequest")
	sr := c1.Child("supplyRequest")
	dspAttrs(sr, "classCode", "SPLY", "moodCode", "RQO")
	expectChildren(sr, "code", "quantity")
	it.requestCode = dspCV(sr.Child("code"), v3SNOMED)
	it.request = dspReadQuantity(sr.Child("quantity"))
	if rt := li.Opt("pertinentInformation1"); rt.Exists() {
		ext := dspReadObservation(rt, "pertinentRunningTotal")
		it.runningTotal = &ext
	}
	it.ndr = dspReadNDR(li.Opt("pertinentInformation2"), "true")
	it.status = dspReadStatus(li.Child("pertinentInformation3"), "pertinentItemStatus", "IS", v3.OIDItemStatus)
	for _, f := range li.All("inFulfillmentOf1") {
		dspRel(f, "true", "inversionInd", "false", "negationInd", "false", "typeCode", "FLFS")
		expectChildren(f, "seperatableInd", "templateId", "priorIntendedMedicationAdministrationRef")
		dspTemplate(f.Child("templateId"), dspTplSourceOf1)
		ref := f.Child("priorIntendedMedicationAdministrationRef")
		dspAttrs(ref, "classCode", "SBADM", "moodCode", "*")
		expectChildren(ref, "id")
		b := pxBuilder{}
		b.str("moodCode", ref.Attr("moodCode"))
		b.id("id", dspRoot(ref.Child("id")))
		it.intended = append(it.intended, fhir.Extension{URL: "intendedAdministration", Extension: b.subs})
	}
	it.origItem = dspReadRef(li.Child("inFulfillmentOf"), "true", dspTplSourceOf1, "priorOriginalItemRef", "SBADM", "RQO", "FLFS")
	if p := li.Opt("predecessor"); p.Exists() {
		it.predecessor = dspReadRef(p, "false", dspTplSourceOf1, "priorSuppliedLineItemRef", "SBADM", "PRMS", "SUCC")
	}
	return it
}

// readDNSupply reads one component/suppliedLineItemQuantity.
func readDNSupply(comp v3.Node) dnSupply {
	var s dnSupply
	dspRel(comp, "false", "typeCode", "COMP")
	expectChildren(comp, "seperatableInd", "suppliedLineItemQuantity")
	q := comp.Child("suppliedLineItemQuantity")
	dspAttrs(q, "classCode", "SPLY", "moodCode", "EVN")
	expectChildren(q, "code", "quantity", "product", "pertinentInformation2", "pertinentInformation1")
	dspFixedCV(q.Child("code"), codeDispensing, v3SNOMED)
	s.qty = dspReadQuantity(q.Child("quantity"))
	s.product = dspReadProduct(q.Child("product"), "INSTANCE")
	if ai := q.Opt("pertinentInformation2"); ai.Exists() {
		ext := dspReadObservation(ai, "pertinentAdditionalInstructions")
		s.additional = &ext
	}
	for _, rel := range q.All("pertinentInformation1") {
		a := dspAnnotation(rel, "false", "pertinentSupplyInstructions", "SI", "contextConductionInd", "true", "typeCode", "PERT")
		expectChildren(a, "code", "value")
		v := a.Child("value")
		dspAttrs(v)
		expectChildren(v)
		s.instructions = append(s.instructions, v.Text())
	}
	if len(s.instructions) == 0 {
		q.Child("pertinentInformation1")
	}
	return s
}
