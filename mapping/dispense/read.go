package dispense

import (
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
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
	agent                       *core.DispensingAgent
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
	request               core.AltQuantity
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
	qty          core.AltQuantity
	product      fhir.Coding
	instructions []string
	additional   *fhir.Extension
}

// ReadDispenseNotification reads a DispenseNotification element into a FHIR
// dispense-notification Bundle. Problems are recorded on dn's Reader.
func ReadDispenseNotification(dn v3.Node, env core.Env) *fhir.Bundle {
	m := readDNMessage(dn, env.NewID)
	return buildDNBundle(m, env.NewID)
}

// readDNMessage reads the v3 message.
func readDNMessage(dn v3.Node, newID func() string) *dnMessage {
	m := &dnMessage{}
	core.Attrs(dn, "classCode", "INFO", "moodCode", "EVN")
	core.ExpectModel(dn, "id", "code", "effectiveTime", "typeId", "recordTarget", "primaryInformationRecipient",
		"pertinentInformation1", "pertinentInformation2", "replacementOf", "sequelTo")
	m.id = core.Root(dn.Child("id"))
	core.FixedCV(dn.Child("code"), core.CodeDispensedFocus, core.V3SNOMED)
	m.effective = core.TS(dn.Child("effectiveTime"))
	core.FHIRTimeFromTS(dn.Child("effectiveTime"), m.effective)
	core.TypeID(dn.Child("typeId"), dnTypeID)
	m.nhs = core.ReadRecordTarget(dn.Child("recordTarget"))
	m.recipient, m.recipientCode, m.recipientNm = core.ReadRecipient(dn.Child("primaryInformationRecipient"), "ON")

	pi1 := dn.Child("pertinentInformation1")
	core.Attrs(pi1, "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(pi1, "templateId", "pertinentSupplyHeader")
	core.Template(pi1.Child("templateId"), core.TemplatePertinentInfo)
	sh := pi1.Child("pertinentSupplyHeader")
	core.Attrs(sh, "classCode", "SBADM", "moodCode", "EVN")
	core.ExpectModel(sh, "id", "code", "effectiveTime", "repeatNumber", "author", "pertinentInformation1*", "pertinentInformation2",
		"pertinentInformation3", "pertinentInformation4", "inFulfillmentOf", "predecessor")
	m.shID = core.Root(sh.Child("id"))
	core.FixedCV(sh.Child("code"), core.CodeAdministration, core.V3SNOMED)
	core.Null(sh.Child("effectiveTime"))
	if rn := sh.Opt("repeatNumber"); rn.Exists() {
		m.repeatLow, m.repeatHigh = core.Interval(rn)
	}
	author := sh.Child("author")
	core.Attrs(author, "contextControlCode", "OP", "typeCode", "AUT")
	core.ExpectModel(author, "time", "signatureText", "AgentPerson")
	m.authorTime = core.FHIRTimeFromTS(author, core.TS(author.Child("time")))
	core.Null(author.Child("signatureText"))
	m.agent = core.ReadDispensingAgentPerson(author.Child("AgentPerson"), "performer", newID)
	seen := map[string]bool{}
	for _, rel := range sh.All("pertinentInformation1") {
		it := readDNItem(rel)
		// EPS FHIR gathers the MedicationDispenses of one prescription line
		// item into one supplied line item (the EPS API's
		// mapMedicationDispenses): a second one would be merged into the
		// first, its id, status and request dropped.
		if key := strings.ToUpper(it.origItem); key != "" && seen[key] {
			rel.Opt("pertinentSuppliedLineItem").Opt("inFulfillmentOf").Fail(
				"a second supplied line item fulfils prescription line item %s (a dispense notification reports each prescription line item once)", it.origItem)
		} else {
			seen[key] = true
		}
		m.items = append(m.items, it)
	}
	if len(m.items) == 0 {
		sh.Child("pertinentInformation1")
	}
	m.ndr = core.ReadNDR(sh.Opt("pertinentInformation2"), "true")
	m.status = core.ReadStatus(sh.Child("pertinentInformation3"), "pertinentPrescriptionStatus", "PS", v3.OIDPrescriptionStatus)
	m.shortID = core.ReadPrescriptionID(sh.Child("pertinentInformation4"), "pertinentPrescriptionID", "PID")
	m.longID = core.ReadRef(sh.Child("inFulfillmentOf"), "true", core.TemplateSourceOf1, "priorOriginalPrescriptionRef", "SBADM", "RQO", "FLFS")
	if p := sh.Opt("predecessor"); p.Exists() {
		m.predecessor = core.ReadRef(p, "false", core.TemplateSourceOf1, "priorSupplyHeaderRef", "SBADM", "EVN", "SUCC")
	}

	pi2 := dn.Child("pertinentInformation2")
	core.Attrs(pi2, "typeCode", "PERT")
	core.ExpectModel(pi2, "templateId", "pertinentCareRecordElementCategory")
	core.Template(pi2.Child("templateId"), core.TemplatePertinentInfo1)
	cat := pi2.Child("pertinentCareRecordElementCategory")
	core.Attrs(cat, "classCode", "CATEGORY", "moodCode", "EVN")
	core.ExpectModel(cat, "code", "component*")
	core.FixedCV(cat.Child("code"), core.CodeCareRecord, core.V3SNOMED)
	for _, comp := range cat.All("component") {
		core.Attrs(comp, "typeCode", "COMP")
		core.ExpectModel(comp, "actRef")
		ref := comp.Child("actRef")
		core.Attrs(ref, "classCode", "SBADM", "moodCode", "PRMS")
		core.ExpectModel(ref, "id")
		m.careRecord = append(m.careRecord, core.Root(ref.Child("id")))
	}
	if len(m.careRecord) == 0 {
		cat.Child("component")
	}
	if rep := dn.Opt("replacementOf"); rep.Exists() {
		m.replacementOf = ReadReplacementOf(rep)
	}
	m.releaseEvent = core.ReadMessageRef(dn.Child("sequelTo"), "SEQL", "priorPrescriptionReleaseEventRef", "RQO")
	return m
}

// readDNItem reads one pertinentInformation1/pertinentSuppliedLineItem.
func readDNItem(rel v3.Node) dnItem {
	var it dnItem
	core.Rel(rel, "false", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	core.ExpectModel(rel, "seperatableInd", "templateId", "pertinentSuppliedLineItem")
	core.Template(rel.Child("templateId"), core.TemplateSourceOf2)
	li := rel.Child("pertinentSuppliedLineItem")
	core.Attrs(li, "classCode", "SBADM", "moodCode", "PRMS")
	core.ExpectModel(li, "id", "code", "effectiveTime", "repeatNumber", "consumable", "component*", "component1",
		"pertinentInformation1", "pertinentInformation2", "pertinentInformation3", "inFulfillmentOf1*", "inFulfillmentOf", "predecessor")
	it.id = core.Root(li.Child("id"))
	core.FixedCV(li.Child("code"), core.CodeAdministration, core.V3SNOMED)
	core.Null(li.Child("effectiveTime"))
	if rn := li.Opt("repeatNumber"); rn.Exists() {
		it.repeatLow, it.repeatHigh = core.Interval(rn)
	}
	cons := li.Child("consumable")
	core.Attrs(cons, "contextControlCode", "OP", "typeCode", "CSM")
	core.ExpectModel(cons, "requestedManufacturedProduct")
	rmp := cons.Child("requestedManufacturedProduct")
	core.Attrs(rmp, "classCode", "MANU")
	core.ExpectModel(rmp, "manufacturedRequestedMaterial")
	mat := rmp.Child("manufacturedRequestedMaterial")
	core.Attrs(mat, "classCode", "MMAT", "determinerCode", "KIND")
	core.ExpectModel(mat, "code")
	it.requested = core.CV(mat.Child("code"), core.V3SNOMED)
	for _, comp := range li.All("component") {
		it.supplies = append(it.supplies, readDNSupply(comp))
	}
	c1 := li.Child("component1")
	core.Rel(c1, "false", "typeCode", "COMP")
	core.ExpectModel(c1, "seperatableInd", "supplyRequest")
	sr := c1.Child("supplyRequest")
	core.Attrs(sr, "classCode", "SPLY", "moodCode", "RQO")
	core.ExpectModel(sr, "code", "quantity")
	it.requestCode = core.CV(sr.Child("code"), core.V3SNOMED)
	it.request = core.ReadAltQuantity(sr.Child("quantity"))
	if rt := li.Opt("pertinentInformation1"); rt.Exists() {
		ext := core.ReadObservation(rt, "pertinentRunningTotal")
		it.runningTotal = &ext
	}
	it.ndr = core.ReadNDR(li.Opt("pertinentInformation2"), "true")
	it.status = core.ReadStatus(li.Child("pertinentInformation3"), "pertinentItemStatus", "IS", v3.OIDItemStatus)
	for _, f := range li.All("inFulfillmentOf1") {
		core.Rel(f, "true", "inversionInd", "false", "negationInd", "false", "typeCode", "FLFS")
		core.ExpectModel(f, "seperatableInd", "templateId", "priorIntendedMedicationAdministrationRef")
		core.Template(f.Child("templateId"), core.TemplateSourceOf1)
		ref := f.Child("priorIntendedMedicationAdministrationRef")
		core.Attrs(ref, "classCode", "SBADM", "moodCode", "*")
		core.ExpectModel(ref, "id")
		b := core.ExtensionBuilder{}
		b.String("moodCode", ref.Attr("moodCode"))
		b.ID("id", core.Root(ref.Child("id")))
		it.intended = append(it.intended, fhir.Extension{URL: "intendedAdministration", Extension: b.Subs})
	}
	it.origItem = core.ReadRef(li.Child("inFulfillmentOf"), "true", core.TemplateSourceOf1, "priorOriginalItemRef", "SBADM", "RQO", "FLFS")
	if p := li.Opt("predecessor"); p.Exists() {
		it.predecessor = core.ReadRef(p, "false", core.TemplateSourceOf1, "priorSuppliedLineItemRef", "SBADM", "PRMS", "SUCC")
	}
	return it
}

// readDNSupply reads one component/suppliedLineItemQuantity.
func readDNSupply(comp v3.Node) dnSupply {
	var s dnSupply
	core.Rel(comp, "false", "typeCode", "COMP")
	core.ExpectModel(comp, "seperatableInd", "suppliedLineItemQuantity")
	q := comp.Child("suppliedLineItemQuantity")
	core.Attrs(q, "classCode", "SPLY", "moodCode", "EVN")
	core.ExpectModel(q, "code", "quantity", "product", "pertinentInformation2", "pertinentInformation1*")
	core.FixedCV(q.Child("code"), core.CodeDispensing, core.V3SNOMED)
	s.qty = core.ReadAltQuantity(q.Child("quantity"))
	s.product = core.ReadProduct(q.Child("product"), "INSTANCE")
	if ai := q.Opt("pertinentInformation2"); ai.Exists() {
		ext := core.ReadObservation(ai, "pertinentAdditionalInstructions")
		s.additional = &ext
	}
	for _, rel := range q.All("pertinentInformation1") {
		a := core.Annotation(rel, "false", "pertinentSupplyInstructions", "SI", "contextConductionInd", "true", "typeCode", "PERT")
		core.ExpectModel(a, "code", "value")
		v := a.Child("value")
		core.Attrs(v, core.XSIType, "ST")
		core.ExpectChildren(v)
		s.instructions = append(s.instructions, v.Text())
	}
	if len(s.instructions) == 0 {
		q.Child("pertinentInformation1")
	}
	return s
}

// ReadReplacementOf reads an amendment's replacementOf/priorMessageRef (of a
// DispenseNotification or a DispenseClaim) and returns the id of the message
// it replaces. Spine's schematron for both interactions faults a target
// that is not one 36-character GUID (ErrorBase1634.UNABLE_TO_PROCESS), and
// EPS would be sent an amendment of a message no such id names, so the
// reader refuses it too.
func ReadReplacementOf(rep v3.Node) string {
	core.ExpectModel(rep, "priorMessageRef")
	core.ExpectModel(rep.Opt("priorMessageRef"), "id")
	id := core.ReadMessageRef(rep, "RPLC", "priorMessageRef", "EVN")
	if root := rep.Opt("priorMessageRef").Opt("id"); root.HasAttr("root") && len(id) != 36 {
		root.Reader().FailRule(root.Path()+"/@root", v3.RuleIdentifier, "replacementOf target must be a 36-character GUID, got %q", id)
	}
	return id
}
