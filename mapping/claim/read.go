package claim

import (
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Claim, v3 → FHIR: the EPS-shaped Claim (contained
// PractitionerRole and Organization), with porxgate's extensions for what
// EPS FHIR has no element for.

// claimMessage is what a DispenseClaim says, read once.
type claimMessage struct {
	id, effective                           string
	recipient, recipientCode, recipientName string
	receiver                                *fhir.Extension
	shID, repeatLow, repeatHigh, laTime     string
	agent                                   *core.DispensingAgent
	ndr                                     *fhir.Coding
	status                                  fhir.Coding
	items                                   []claimItem
	shortID, longID, predecessor, rejectRef string
	replacementOf, releaseEvent             string
	exemption                               *fhir.Coding
	evidenceSeen                            *bool
}

// claimItem is one supplied line item of a claim.
type claimItem struct {
	id, repeatLow, repeatHigh string
	supplies                  []claimSupply
	runningTotal              *fhir.Extension
	ndr                       *fhir.Coding
	status                    fhir.Coding
	origItem, predecessor     string
}

// claimSupply is one suppliedLineItemQuantity of a claim.
type claimSupply struct {
	qty     core.AltQuantity
	product fhir.Coding
	charge  bool
	ends    []claimEndorsement
}

// ReadDispenseClaim reads a DispenseClaim element into a FHIR Claim.
// Problems are recorded on dc's Reader.
func ReadDispenseClaim(dc v3.Node, env core.Env) *fhir.Claim {
	m := readClaimMessage(dc, env.NewID)
	return buildClaim(m, env.NewID)
}

// readClaimMessage reads the v3 claim.
func readClaimMessage(dc v3.Node, newID func() string) *claimMessage {
	m := &claimMessage{}
	core.Attrs(dc, "classCode", "INFO", "moodCode", "EVN")
	core.ExpectModel(dc, "id", "code", "effectiveTime", "typeId", "primaryInformationRecipient", "receiver",
		"pertinentInformation1", "pertinentInformation2", "replacementOf", "coverage", "sequelTo")
	m.id = core.Root(dc.Child("id"))
	core.FixedCV(dc.Child("code"), core.CodeDispensedFocus, core.V3SNOMED)
	m.effective = core.TS(dc.Child("effectiveTime"))
	core.FHIRTimeFromTS(dc.Child("effectiveTime"), m.effective)
	core.TypeID(dc.Child("typeId"), claimTypeID)
	m.recipient, m.recipientCode, m.recipientName = core.ReadRecipient(dc.Child("primaryInformationRecipient"), "")
	if rcv := dc.Opt("receiver"); rcv.Exists() {
		m.receiver = claimReadReceiver(rcv)
	}
	pi1 := dc.Child("pertinentInformation1")
	core.Attrs(pi1, "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(pi1, "templateId", "pertinentSupplyHeader")
	core.Template(pi1.Child("templateId"), core.TemplatePertinentInfo)
	sh := pi1.Child("pertinentSupplyHeader")
	core.Attrs(sh, "classCode", "SBADM", "moodCode", "EVN")
	core.ExpectModel(sh, "id", "code", "effectiveTime", "repeatNumber", "legalAuthenticator", "pertinentInformation2",
		"pertinentInformation3", "pertinentInformation1*", "pertinentInformation4", "inFulfillmentOf", "predecessor")
	m.shID = core.Root(sh.Child("id"))
	core.FixedCV(sh.Child("code"), core.CodeAdministration, core.V3SNOMED)
	core.Null(sh.Child("effectiveTime"))
	if rn := sh.Opt("repeatNumber"); rn.Exists() {
		m.repeatLow, m.repeatHigh = core.Interval(rn)
	}
	la := sh.Child("legalAuthenticator")
	core.Attrs(la, "contextControlCode", "OP", "typeCode", "LA")
	core.ExpectModel(la, "time", "signatureText", "AgentPerson")
	m.laTime = core.TS(la.Child("time"))
	core.FHIRTimeFromTS(la.Child("time"), m.laTime)
	core.Null(la.Child("signatureText"))
	m.agent = core.ReadDispensingAgentPerson(la.Child("AgentPerson"), "performer", newID)
	m.ndr = core.ReadNDR(sh.Opt("pertinentInformation2"), "true")
	m.status = core.ReadStatus(sh.Child("pertinentInformation3"), "pertinentPrescriptionStatus", "PS", v3.OIDPrescriptionStatus)
	for _, rel := range sh.All("pertinentInformation1") {
		m.items = append(m.items, readClaimItem(rel))
	}
	if len(m.items) == 0 {
		sh.Child("pertinentInformation1")
	}
	m.shortID = core.ReadPrescriptionID(sh.Child("pertinentInformation4"), "pertinentPrescriptionID", "PID")
	m.longID = core.ReadRef(sh.Child("inFulfillmentOf"), "true", core.TemplateSourceOf1, "priorOriginalPrescriptionRef", "SBADM", "RQO", "FLFS")
	if p := sh.Opt("predecessor"); p.Exists() {
		m.predecessor = core.ReadRef(p, "false", core.TemplateSourceOf1, "priorSupplyHeaderRef", "SBADM", "EVN", "SUCC")
	}
	if pi2 := dc.Opt("pertinentInformation2"); pi2.Exists() {
		core.Attrs(pi2, "contextConductionInd", "true", "typeCode", "PERT")
		core.ExpectModel(pi2, "pertinentReimbursementClaimRejectRef")
		ref := pi2.Child("pertinentReimbursementClaimRejectRef")
		core.Attrs(ref, "classCode", "ADJUD", "moodCode", "EVN")
		core.ExpectModel(ref, "id")
		m.rejectRef = core.Root(ref.Child("id"))
	}
	if rep := dc.Opt("replacementOf"); rep.Exists() {
		m.replacementOf = dispense.ReadReplacementOf(rep)
	}
	if cov := dc.Opt("coverage"); cov.Exists() {
		claimReadCoverage(cov, m)
	}
	m.releaseEvent = core.ReadMessageRef(dc.Child("sequelTo"), "SEQL", "priorPrescriptionReleaseEventRef", "RQO")
	return m
}

// claimReadReceiver keeps receiver/agent (id, code, person name and telecom)
// as a porxgate extension; EPS FHIR has no element for it.
func claimReadReceiver(rcv v3.Node) *fhir.Extension {
	core.Attrs(rcv, "typeCode", "RCV")
	core.ExpectModel(rcv, "agent")
	ag := rcv.Child("agent")
	core.Attrs(ag, "classCode", "AGNT")
	core.ExpectModel(ag, "id", "code", "agentPerson")
	var b core.ExtensionBuilder
	if id := ag.Opt("id"); id.Exists() {
		core.Attrs(id, "root", "*", "extension", "*")
		core.ExpectChildren(id)
		b.String("idRoot", id.Attr("root"))
		b.String("id", id.Attr("extension"))
	}
	cn := ag.Child("code")
	core.Attrs(cn, "code", "*", "codeSystem", "*", "displayName", "*")
	core.ExpectChildren(cn)
	b.Coding("code", fhir.Coding{System: cn.Attr("codeSystem"), Code: cn.Attr("code"), Display: cn.OptAttr("displayName")})
	p := ag.Child("agentPerson")
	core.Attrs(p, "classCode", "PSN", "determinerCode", "INSTANCE")
	core.ExpectModel(p, "name", "telecom")
	nm := p.Child("name")
	core.Attrs(nm)
	core.ExpectChildren(nm)
	b.String("name", nm.Text())
	if t := p.Opt("telecom"); t.Exists() {
		core.Attrs(t, "value", "*")
		core.ExpectChildren(t)
		b.String("telecom", t.Attr("value"))
	}
	return &fhir.Extension{Extension: b.Subs}
}

// claimReadCoverage reads coverage/coveringChargeExempt and its evidence.
func claimReadCoverage(cov v3.Node, m *claimMessage) {
	core.Rel(cov, "false", "contextConductionInd", "true", "typeCode", "COVBY")
	core.ExpectModel(cov, "seperatableInd", "coveringChargeExempt")
	ce := cov.Child("coveringChargeExempt")
	core.Attrs(ce, "classCode", "OBS", "moodCode", "EVN", "negationInd", "true|false")
	core.ExpectModel(ce, "code", "value", "authorization")
	core.FixedCV(ce.Child("code"), "EX", v3.OIDPertinentCode)
	ex := core.CV(ce.Child("value"), core.OIDChargeExemption)
	m.exemption = &ex
	if want := dspBoolString(ex.Code == "0001"); ce.Attr("negationInd") != want && ex.Code != "" {
		ce.Fail("negationInd %q does not match exemption code %s (want %s)", ce.Attr("negationInd"), ex.Code, want)
	}
	auth := ce.Opt("authorization")
	if !auth.Exists() {
		return
	}
	core.Rel(auth, "false", "contextConductionInd", "true", "typeCode", "AUTH")
	core.ExpectModel(auth, "seperatableInd", "authorizingEvidenceSeen")
	es := auth.Child("authorizingEvidenceSeen")
	core.Attrs(es, "classCode", "OBS", "moodCode", "EVN", "negationInd", "true|false")
	core.ExpectModel(es, "code")
	core.FixedCV(es.Child("code"), "ES", v3.OIDPertinentCode)
	seen := es.Attr("negationInd") == "false"
	m.evidenceSeen = &seen
}

// readClaimItem reads one pertinentInformation1/pertinentSuppliedLineItem.
func readClaimItem(rel v3.Node) claimItem {
	var it claimItem
	core.Rel(rel, "false", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	core.ExpectModel(rel, "seperatableInd", "templateId", "pertinentSuppliedLineItem")
	core.Template(rel.Child("templateId"), core.TemplateSourceOf2)
	li := rel.Child("pertinentSuppliedLineItem")
	core.Attrs(li, "classCode", "SBADM", "moodCode", "PRMS")
	core.ExpectModel(li, "id", "code", "effectiveTime", "repeatNumber", "component*", "pertinentInformation1",
		"pertinentInformation2", "pertinentInformation3", "inFulfillmentOf", "predecessor")
	it.id = core.Root(li.Child("id"))
	core.FixedCV(li.Child("code"), core.CodeAdministration, core.V3SNOMED)
	core.Null(li.Child("effectiveTime"))
	if rn := li.Opt("repeatNumber"); rn.Exists() {
		it.repeatLow, it.repeatHigh = core.Interval(rn)
	}
	for _, comp := range li.All("component") {
		it.supplies = append(it.supplies, readClaimSupply(comp))
	}
	if rt := li.Opt("pertinentInformation1"); rt.Exists() {
		ext := core.ReadObservation(rt, "pertinentRunningTotal")
		it.runningTotal = &ext
	}
	it.ndr = core.ReadNDR(li.Opt("pertinentInformation2"), "true")
	it.status = core.ReadStatus(li.Child("pertinentInformation3"), "pertinentItemStatus", "IS", v3.OIDItemStatus)
	it.origItem = core.ReadRef(li.Child("inFulfillmentOf"), "true", core.TemplateSourceOf1, "priorOriginalItemRef", "SBADM", "RQO", "FLFS")
	if p := li.Opt("predecessor"); p.Exists() {
		it.predecessor = core.ReadRef(p, "false", core.TemplateSourceOf1, "priorSuppliedLineItemRef", "SBADM", "PRMS", "SUCC")
	}
	return it
}

// readClaimSupply reads one component/suppliedLineItemQuantity of a claim.
func readClaimSupply(comp v3.Node) claimSupply {
	var s claimSupply
	core.Rel(comp, "false", "typeCode", "COMP")
	core.ExpectModel(comp, "seperatableInd", "suppliedLineItemQuantity")
	q := comp.Child("suppliedLineItemQuantity")
	core.Attrs(q, "classCode", "SPLY", "moodCode", "EVN")
	core.ExpectModel(q, "code", "quantity", "product", "pertinentInformation1", "pertinentInformation2*")
	core.FixedCV(q.Child("code"), core.CodeDispensing, core.V3SNOMED)
	s.qty = core.ReadAltQuantity(q.Child("quantity"))
	s.product = core.ReadProduct(q.Child("product"), "KIND")
	cp := core.Annotation(q.Child("pertinentInformation1"), "false", "pertinentChargePayment", "CP", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectModel(cp, "code", "value")
	s.charge = core.V3Bool(cp.Child("value"))
	core.Attrs(cp.Child("value"), "value", "true|false", core.XSIType, "BL")
	for _, rel := range q.All("pertinentInformation2") {
		a := core.Annotation(rel, "true", "pertinentDispensingEndorsement", "DE", "contextConductionInd", "true", "typeCode", "PERT")
		core.ExpectModel(a, "code", "text", "value")
		var e claimEndorsement
		if t := a.Opt("text"); t.Exists() {
			core.Attrs(t, core.XSIType, "ST")
			core.ExpectChildren(t)
			e.text = t.Text()
		}
		e.code = core.CV(a.Child("value"), core.OIDDispenseEndorsement).Code
		s.ends = append(s.ends, e)
	}
	if len(s.ends) == 0 {
		q.Child("pertinentInformation2")
	}
	return s
}
