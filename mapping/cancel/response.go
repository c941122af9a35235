package cancel

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// The Cancel Response (PORX_IN050101UK31) and Subsequent Cancel Response
// (PORX_IN050102UK32): one CancellationResponse payload in Spine's
// transmission wrapper (acknowledgement AA/AE with messageRef, RCV/SND
// devices, ControlActEvent with author1 only). cancelResponseDoc is what
// both carry; response_read.go reads one into the EPS-shaped
// prescription-order-response Bundle and response_write.go writes one
// from such a Bundle; reply.go makes one from a prescriber's request
// and EPS's answer.

// cancelResponseDoc is everything a cancel response carries, ready to write.
type cancelResponseDoc struct {
	interaction                                     string
	id, creationTime                                string
	versionCode, processingCode, processingModeCode string
	acceptAckCode                                   string
	typeCode, messageRef                            string
	receiverASID, senderASID, systemASID            string
	responseID, effective                           string
	patient, author, responsible, performer         *etree.Element
	performerTime                                   string
	shortID, lineItem                               string
	code                                            core.SpineCode
	requestRef                                      string
	// noLineItem writes no pertinentInformation1: the answer to a
	// cancellation of the whole prescription (CancelRefusal), whose
	// request names no line item.
	noLineItem bool
	// noResponsible writes no responsibleParty (0..1): the author is the
	// original prescriber as well.
	noResponsible bool
	// noResponseCode writes no pertinentResponse/code (CV 0..1).
	noResponseCode bool
}

// absent is the value of an ExtensionCancelV3 entry saying that an
// optional element of the cancel response was not sent.
const absent = "absent"

// defaults fills the fixed transmission values Spine writes where empty.
func (d *cancelResponseDoc) defaults() {
	if d.versionCode == "" {
		d.versionCode = v3.OIDVersionCodeV42
	}
	if d.processingCode == "" {
		d.processingCode = "P"
	}
	if d.processingModeCode == "" {
		d.processingModeCode = "T"
	}
	if d.acceptAckCode == "" {
		d.acceptAckCode = "NE"
	}
	if d.messageRef == "" {
		d.messageRef = d.id
	}
	if d.systemASID == "" {
		d.systemASID = d.senderASID
	}
}

// validate checks that every value the writer needs is there; the error
// names the element that would be wrong.
func (d *cancelResponseDoc) validate() error {
	p := "/" + d.interaction
	cr := p + "/ControlActEvent/subject/CancellationResponse"
	for _, m := range [...]struct{ v, path string }{
		{d.id, p + "/id/@root"},
		{d.creationTime, p + "/creationTime/@value"},
		{d.typeCode, p + "/acknowledgement/@typeCode"},
		{d.receiverASID, p + "/communicationFunctionRcv/device/id/@extension"},
		{d.senderASID, p + "/communicationFunctionSnd/device/id/@extension"},
		{d.responseID, cr + "/id/@root"},
		{d.effective, cr + "/effectiveTime/@value"},
		{d.shortID, cr + "/pertinentInformation2/pertinentPrescriptionID/value/@extension"},
		{d.code.Code, cr + "/pertinentInformation3/pertinentResponse/value/@code"},
		{d.requestRef, cr + "/pertinentInformation4/pertinentCancellationRequestRef/id/@root"},
	} {
		if m.v == "" {
			return cancelError(d.interaction, m.path, "missing mandatory value")
		}
	}
	switch {
	case d.lineItem == "" && !d.noLineItem:
		return cancelError(d.interaction, cr+"/pertinentInformation1/pertinentLineItemRef/id/@root", "missing mandatory value")
	case d.patient == nil:
		return cancelError(d.interaction, cr+"/recordTarget/Patient", "missing mandatory element")
	case d.author == nil:
		return cancelError(d.interaction, cr+"/author/AgentPerson", "missing mandatory element")
	case d.responsible == nil && !d.noResponsible:
		return cancelError(d.interaction, cr+"/responsibleParty/AgentPerson", "missing mandatory element")
	case d.typeCode != core.AckAccepted && d.typeCode != core.AckError:
		return cancelError(d.interaction, p+"/acknowledgement/@typeCode", "%q is not AA or AE", d.typeCode)
	}
	return nil
}

// write serialises the cancel response.
func (d *cancelResponseDoc) write() ([]byte, error) {
	d.defaults()
	if err := d.validate(); err != nil {
		return nil, err
	}
	doc, root := v3.NewDocument(d.interaction)
	v3.AddII(root, "id", d.id, "")
	v3.AddValue(root, "creationTime", d.creationTime)
	v3.Add(root, "versionCode", "code", d.versionCode)
	v3.Add(root, "interactionId", "root", v3.OIDInteraction, "extension", d.interaction)
	v3.Add(root, "processingCode", "code", d.processingCode)
	v3.Add(root, "processingModeCode", "code", d.processingModeCode)
	v3.Add(root, "acceptAckCode", "code", d.acceptAckCode)
	ack := v3.Add(root, "acknowledgement", "typeCode", d.typeCode)
	v3.AddII(v3.Add(ack, "messageRef"), "id", d.messageRef, "")
	core.AckAddDevice(v3.Add(root, "communicationFunctionRcv", "typeCode", "RCV"), d.receiverASID)
	core.AckAddDevice(v3.Add(root, "communicationFunctionSnd", "typeCode", "SND"), d.senderASID)
	cae := v3.Add(root, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	sys := v3.Add(v3.Add(cae, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT")
	v3.AddII(v3.Add(sys, "agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE"), "id", v3.OIDASID, d.systemASID)
	subject := v3.Add(cae, "subject", "typeCode", "SUBJ", "contextConductionInd", "false")

	cr := v3.Add(subject, "CancellationResponse", "classCode", "INFRM", "moodCode", "EVN")
	v3.AddII(cr, "id", d.responseID, "")
	v3.AddValue(cr, "effectiveTime", d.effective)
	v3.Add(cr, "recordTarget", "typeCode", "RCT").AddChild(d.patient)
	if d.performer != nil {
		pf := v3.Add(cr, "performer", "typeCode", "PRF")
		if d.performerTime != "" {
			v3.AddValue(pf, "time", d.performerTime)
		} else {
			v3.Add(pf, "time", "nullFlavor", "UNK")
		}
		pf.AddChild(d.performer)
	}
	v3.Add(cr, "author", "contextControlCode", "OP", "typeCode", "AUT").AddChild(d.author)
	if !d.noResponsible {
		v3.Add(cr, "responsibleParty", "contextControlCode", "OP", "typeCode", "RESP").AddChild(d.responsible)
	}
	addPrescriptionIDRef(cr, d.shortID)
	if !d.noLineItem {
		addLineItemRef(cr, d.lineItem)
	}
	resp := cancelRelationship(cr, fixedResponse, fixedResponseAct)
	if !d.noResponseCode {
		v3.AddCV(resp, "code", codeCancelResponse, v3.OIDPertinentCode, "")
	}
	if d.code.Display == "" {
		v3.Add(resp, "value", "codeSystem", v3.OIDCancellationCode, "code", d.code.Code)
	} else {
		v3.Add(resp, "value", "codeSystem", v3.OIDCancellationCode, "code", d.code.Code, "displayName", d.code.Display)
	}
	ref := v3.Add(cr, "pertinentInformation4", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	v3.AddValue(ref, "seperatableInd", "true")
	v3.AddII(v3.Add(ref, "pertinentCancellationRequestRef", "classCode", "ACTN", "moodCode", "RQO"), "id", d.requestRef, "")
	return v3.Bytes(doc), nil
}

// CancelAckTypeCode is the acknowledgement typeCode of a cancel response
// when EPS's HTTP status is not known: AA for a cancellation that was made
// (0001) or is pending with a dispenser (0002, 0003), AE for every other
// code (not cancelled, not found, disabled, invalid). The corpus shows 0001
// with AA and 0004 and 0008 with AE; the EPS API answers AA with HTTP 200
// and AE with HTTP 400, so a known status decides instead.
func CancelAckTypeCode(code string) string {
	switch code {
	case "0001", "0002", "0003":
		return core.AckAccepted
	}
	return core.AckError
}

// CancelPending reports whether a cancellation response code says the
// cancellation is pending: the item is with a dispenser and marked for
// cancellation (0002, 0003), so a Subsequent Cancel Response follows.
func CancelPending(code string) bool { return code == "0002" || code == "0003" }

// The Cancel Response's relationship to its response code (see v3.Fixed).
var (
	fixedResponse    = v3.NewFixed("pertinentInformation3", "contextConductionInd", "true", "typeCode", "PERT")
	fixedResponseAct = v3.NewFixed("pertinentResponse", "classCode", "OBS", "moodCode", "EVN")
)
