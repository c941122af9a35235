package mapping

import (
	"github.com/porxgate/porxgate/fhir"
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
	agent                                   *dspAgent
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
	qty     dspQuantity
	product fhir.Coding
	charge  bool
	ends    []claimEndorsement
}

// ReadDispenseClaim reads a DispenseClaim element into a FHIR Claim.
// Problems are recorded on dc's Reader.
func ReadDispenseClaim(dc v3.Node, env Env) *fhir.Claim {
	m := readClaimMessage(dc, env.NewID)
	return buildClaim(m, env.NewID)
}

// readClaimMessage reads the v3 claim.
func readClaimMessage(dc v3.Node, newID func() string) *claimMessage {
	m := &claimMessage{}
	dspAttrs(dc, "classCode", "INFO", "moodCode", "EVN")
	expectChildren(dc, "id", "code", "effectiveTime", "typeId", "primaryInformationRecipient", "receiver",
		"pertinentInformation1", "pertinentInformation2", "replacementOf", "coverage", "sequelTo")
	m.id = dspRoot(dc.Child("id"))
	dspFixedCV(dc.Child("code"), dspCodeDispensedFocus, v3SNOMED)
	m.effective = dspTS(dc.Child("effectiveTime"))
	dspFHIRTime(dc.Child("effectiveTime"), m.effective)
	dspTypeID(dc.Child("typeId"), claimTypeID)
	m.recipient, m.recipientCode, m.recipientName = dspReadRecipient(dc.Child("primaryInformationRecipient"), "")
	if rcv := dc.Opt("receiver"); rcv.Exists() {
		m.receiver = claimReadReceiver(rcv)
	}
	pi1 := dc.Child("pertinentInformation1")
	dspAttrs(pi1, "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(pi1, "templateId", "pertinentSupplyHeader")
	dspTemplate(pi1.Child("templateId"), tplPertinentInfo)
	sh := pi1.Child("pertinentSupplyHeader")
	dspAttrs(sh, "classCode", "SBADM", "moodCode", "EVN")
	expectChildren(sh, "id", "code", "effectiveTime", "repeatNumber", "legalAuthenticator", "pertinentInformation2",
		"pertinentInformation3", "pertinentInformation1", "pertinentInformation4", "inFulfillmentOf", "predecessor")
	m.shID = dspRoot(sh.Child("id"))
	dspFixedCV(sh.Child("code"), codeAdministration, v3SNOMED)
	dspNull(sh.Child("effectiveTime"))
	if rn := sh.Opt("repeatNumber"); rn.Exists() {
		m.repeatLow, m.repeatHigh = dspInterval(rn)
	}
	la := sh.Child("legalAuthenticator")
	dspAttrs(la, "contextControlCode", "OP", "typeCode", "LA")
	expectChildren(la, "time", "signatureText", "AgentPerson")
	m.laTime = dspTS(la.Child("time"))
	dspFHIRTime(la.Child("time"), m.laTime)
	dspNull(la.Child("signatureText"))
	m.agent = dspReadAgentPerson(la.Child("AgentPerson"), "performer", newID)
	m.ndr = dspReadNDR(sh.Opt("pertinentInformation2"), "true")
	m.status = dspReadStatus(sh.Child("pertinentInformation3"), "pertinentPrescriptionStatus", "PS", v3.OIDPrescriptionStatus)
	for _, rel := range sh.All("pertinentInformation1") {
		m.items = append(m.items, readClaimItem(rel))
	}
	if len(m.items) == 0 {
		sh.Child("pertinentInformation1")
	}
	m.shortID = dspReadPrescriptionID(sh.Child("pertinentInformation4"), "pertinentPrescriptionID", "PID")
	m.longID = dspReadRef(sh.Child("inFulfillmentOf"), "true", dspTplSourceOf1, "priorOriginalPrescriptionRef", "SBADM", "RQO", "FLFS")
	if p := sh.Opt("predecessor"); p.Exists() {
		m.predecessor = dspReadRef(p, "false", dspTplSourceOf1, "priorSupplyHeaderRef", "SBADM", "EVN", "SUCC")
	}
	if pi2 := dc.Opt("pertinentInformation2"); pi2.Exists() {
		dspAttrs(pi2, "contextConductionInd", "true", "typeCode", "PERT")
		expectChildren(pi2, "pertinentReimbursementClaimRejectRef")
		ref := pi2.Child("pertinentReimbursementClaimRejectRef")
		dspAttrs(ref, "classCode", "ADJUD", "moodCode", "EVN")
		expectChildren(ref, "id")
		m.rejectRef = dspRoot(ref.Child("id"))
	}
	if rep := dc.Opt("replacementOf"); rep.Exists() {
		m.replacementOf = dspReadMessageRef(rep, "RPLC", "priorMessageRef", "EVN")
	}
	if cov := dc.Opt("coverage"); cov.Exists() {
		claimReadCoverage(cov, m)
	}
	m.releaseEvent = dspReadMessageRef(dc.Child("sequelTo"), "SEQL", "priorPrescriptionReleaseEventRef", "RQO")
	return m
}

// claimReadReceiver keeps receiver/agent (id, code, person name and telecom)
// as a porxgate extension; EPS FHIR has no element for it.
func claimReadReceiver(rcv v3.Node) *fhir.Extension {
	dspAttrs(rcv, "typeCode", "RCV")
	expectChildren(rcv, "agent")
	ag := rcv.Child("agent")
	dspAttrs(ag, "classCode", "AGNT")
	expectChildren(ag, "id", "code", "agentPerson")
	var b pxBuilder
	if id := ag.Opt("id"); id.Exists() {
		dspAttrs(id, "root", "*", "extension", "*")
		expectChildren(id)
		b.str("idRoot", id.Attr("root"))
		b.str("id", id.Attr("extension"))
	}
	cn := ag.Child("code")
	dspAttrs(cn, "code", "*", "codeSystem", "*", "displayName", "*")
	expectChildren(cn)
	b.coding("code", fhir.Coding{System: cn.Attr("codeSystem"), Code: cn.Attr("code"), Display: cn.OptAttr("displayName")})
	p := ag.Child("agentPerson")
	dspAttrs(p, "classCode", "PSN", "determinerCode", "INSTANCE")
	expectChildren(p, "name", "telecom")
	nm := p.Child("name")
	dspAttrs(nm)
	expectChildren(nm)
	b.str("name", nm.Text())
	if t := p.Opt("telecom"); t.Exists() {
		dspAttrs(t, "value", "*")
		expectChildren(t)
		b.str("telecom", t.Attr("value"))
	}
	return &fhir.Extension{Extension: b.subs}
}

// claimReadCoverage reads coverage/coveringChargeExempt and its evidence.
func claimReadCoverage(cov v3.Node, m *claimMessage) {
	dspRel(cov, "false", "contextConductionInd", "true", "typeCode", "COVBY")
	expectChildren(cov, "seperatableInd", "coveringChargeExempt")
	ce := cov.Child("coveringChargeExempt")
	dspAttrs(ce, "classCode", "OBS", "moodCode", "EVN", "negationInd", "true|false")
	expectChildren(ce, "code", "value", "authorization")
	dspFixedCV(ce.Child("code"), "EX", v3.OIDPertinentCode)
	ex := dspCV(ce.Child("value"), oidChargeExemption)
	m.exemption = &ex
	if want := dspBoolString(ex.Code == "0001"); ce.Attr("negationInd") != want && ex.Code != "" {
		ce.Fail("negationInd %q does not match exemption code %s (want %s)", ce.Attr("negationInd"), ex.Code, want)
	}
	auth := ce.Opt("authorization")
	if !auth.Exists() {
		return
	}
	dspRel(auth, "false", "contextConductionInd", "true", "typeCode", "AUTH")
	expectChildren(auth, "seperatableInd", "authorizingEvidenceSeen")
	es := auth.Child("authorizingEvidenceSeen")
	dspAttrs(es, "classCode", "OBS", "moodCode", "EVN", "negationInd", "true|false")
	expectChildren(es, "code")
	dspFixedCV(es.Child("code"), "ES", v3.OIDPertinentCode)
	seen := es.Attr("negationInd") == "false"
	m.evidenceSeen = &seen
}

// readClaimItem reads one pertinentInformation1/pertinentSuppliedLineItem.
func readClaimItem(rel v3.Node) claimItem {
	var it claimItem
	dspRel(rel, "false", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	expectChildren(rel, "seperatableInd", "templateId", "pertinentSuppliedLineItem")
	dspTemplate(rel.Child("templateId"), tplSourceOf2)
	li := rel.Child("pertinentSuppliedLineItem")
	dspAttrs(li, "classCode", "SBADM", "moodCode", "PRMS")
	expectChildren(li, "id", "code", "effectiveTime", "repeatNumber", "component", "pertinentInformation1",
		"pertinentInformation2", "pertinentInformation3", "inFulfillmentOf", "predecessor")
	it.id = dspRoot(li.Child("id"))
	dspFixedCV(li.Child("code"), codeAdministration, v3SNOMED)
	dspNull(li.Child("effectiveTime"))
	if rn := li.Opt("repeatNumber"); rn.Exists() {
		it.repeatLow, it.repeatHigh = dspInterval(rn)
	}
	for _, comp := range li.All("component") {
		it.supplies = append(it.supplies, readClaimSupply(comp))
	}
	if rt := li.Opt("pertinentInformation1"); rt.Exists() {
		ext := dspReadObservation(rt, "pertinentRunningTotal")
		it.runningTotal = &ext
	}
	it.ndr = dspReadNDR(li.Opt("pertinentInformation2"), "true")
	it.status = dspReadStatus(li.Child("pertinentInformation3"), "pertinentItemStatus", "IS", v3.OIDItemStatus)
	it.origItem = dspReadRef(li.Child("inFulfillmentOf"), "true", dspTplSourceOf1, "priorOriginalItemRef", "SBADM", "RQO", "FLFS")
	if p := li.Opt("predecessor"); p.Exists() {
		it.predecessor = dspReadRef(p, "false", dspTplSourceOf1, "priorSuppliedLineItemRef", "SBADM", "PRMS", "SUCC")
	}
	return it
}

// readClaimSupply reads one component/suppliedLineItemQuantity of a claim.
func readClaimSupply(comp v3.Node) claimSupply {
	var s claimSupply
	dspRel(comp, "false", "typeCode", "COMP")
	expectChildren(comp, "seperatableInd", "suppliedLineItemQuantity")
	q := comp.Child("suppliedLineItemQuantity")
	dspAttrs(q, "classCode", "SPLY", "moodCode", "EVN")
	expectChildren(q, "code", "quantity", "product", "pertinentInformation1", "pertinentInformation2")
	dspFixedCV(q.Child("code"), codeDispensing, v3SNOMED)
	s.qty = dspReadQuantity(q.Child("quantity"))
	s.product = dspReadProduct(q.Child("product"), "KIND")
	cp := dspAnnotation(q.Child("pertinentInformation1"), "false", "pertinentChargePayment", "CP", "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(cp, "code", "value")
	s.charge = V3Bool(cp.Child("value"))
	dspAttrs(cp.Child("value"), "value", "true|false")
	for _, rel := range q.All("pertinentInformation2") {
		a := dspAnnotation(rel, "true", "pertinentDispensingEndorsement", "DE", "contextConductionInd", "true", "typeCode", "PERT")
		expectChildren(a, "code", "text", "value")
		var e claimEndorsement
		if t := a.Opt("text"); t.Exists() {
			dspAttrs(t)
			expectChildren(t)
			e.text = t.Text()
		}
		e.code = dspCV(a.Child("value"), oidDispenseEndorsement).Code
		s.ends = append(s.ends, e)
	}
	if len(s.ends) == 0 {
		q.Child("pertinentInformation2")
	}
	return s
}
