package mapping

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// CancelResponseToFHIR reads a Cancel Response (PORX_IN050101UK31) or
// Subsequent Cancel Response (PORX_IN050102UK32), either family, into the
// prescription-order-response Bundle the EPS API makes of it
// (translateSpineCancelResponseIntoBundle): Bundle.identifier = the
// CancellationResponse id, timestamp = its effectiveTime; a MessageHeader
// whose response.identifier is the cancel request's id (response.code ok
// for AA, fatal-error for AE); the Patient; a MedicationRequest with the
// line item, the short-form prescription id, the status the code gives and
// the Extension-DM-PrescriptionStatusHistory (status R-code, statusDate),
// requester = the responsible party (the original prescriber),
// ResponsiblePractitioner extension = the author (the cancel requester) and
// dispenseRequest.performer = the dispenser holding the item; and the
// PractitionerRoles, Practitioners and Organizations (one set per distinct
// AgentPerson). ExtensionCancelV3 on the MessageHeader and
// ExtensionV3Layout on people keep what the FHIR form has no element for,
// so CancelResponseToV3 gives the same message back. Wrapper ASIDs travel
// in Meta.
func CancelResponseToFHIR(payload []byte, env Env) ([]byte, Meta, error) {
	r, root, err := v3.Parse(payload)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("cancel response: %w", err)
	}
	relaxNode(root)
	canon, _, err := v3.Canonical(root.El.Tag)
	if err != nil || (canon != v3.CancelResponse && canon != v3.SubsequentCancelResponse) {
		return nil, Meta{}, cancelError(root.El.Tag, root.Path, "root element %s is not a cancel response (%s or %s)", root.El.Tag, v3.CancelResponse, v3.SubsequentCancelResponse)
	}
	p := cancelReader{shapeReader{r: r}}
	rd := p.readCancelResponse(root, env)
	if err := r.Err(); err != nil {
		return nil, Meta{}, err
	}
	b := rd.bundle(env.NewID)
	body, err := fhir.MarshalIndent(b)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("cancel response: writing FHIR: %w", err)
	}
	meta := Meta{
		MessageID:    rd.d.id,
		Interaction:  rd.d.interaction,
		SenderASID:   rd.d.senderASID,
		ReceiverASID: rd.d.receiverASID,
		SystemASID:   rd.d.systemASID,
	}
	return body, meta, nil
}

// cancelResponseRead is a cancel response as read: its values, and the
// people as FHIR resources.
type cancelResponseRead struct {
	d                           cancelResponseDoc
	patient                     *fhir.Patient
	author, responsible, perf   *AgentPersonResources
	separateResp, separatePerf  bool
	performerODS, performerName string
	hasPerformer                bool
}

// readCancelResponse reads the wrapper and the CancellationResponse,
// checking names, order and fixed attributes.
func (p cancelReader) readCancelResponse(root v3.Node, env Env) *cancelResponseRead {
	rd := &cancelResponseRead{}
	d := &rd.d
	p.attrs(root)
	p.shape(root, nil, "id", "creationTime", "versionCode", "interactionId", "processingCode",
		"processingModeCode", "acceptAckCode", "acknowledgement", "communicationFunctionRcv",
		"communicationFunctionSnd", "ControlActEvent")
	d.id = p.uuid(root.Child("id"))
	d.creationTime = p.attrOnly(root.Child("creationTime"), "value")
	d.versionCode = p.attrOnly(root.Child("versionCode"), "code")
	d.processingCode = p.attrOnly(root.Child("processingCode"), "code")
	d.processingModeCode = p.attrOnly(root.Child("processingModeCode"), "code")
	d.acceptAckCode = p.attrOnly(root.Child("acceptAckCode"), "code")
	iid := root.Child("interactionId")
	p.attrs(iid, "root", "extension")
	p.fixed(iid, "root", v3.OIDInteraction)
	d.interaction = iid.Attr("extension")
	if d.interaction != "" && d.interaction != root.El.Tag {
		p.r.Fail(iid.Path+"/@extension", "interactionId %q does not match the root element %q", d.interaction, root.El.Tag)
	}
	ack := root.Child("acknowledgement")
	p.shape(ack, nil, "messageRef")
	p.attrs(ack, "typeCode")
	d.typeCode = ack.Attr("typeCode")
	if ack.HasAttr("typeCode") && d.typeCode != AckAccepted && d.typeCode != AckError {
		p.r.Fail(ack.Path+"/@typeCode", "%q is not AA or AE", d.typeCode)
	}
	ref := ack.Child("messageRef")
	p.shape(ref, nil, "id")
	p.attrs(ref)
	d.messageRef = p.ii(ref.Child("id"), "", false)
	d.receiverASID = p.device(root.Child("communicationFunctionRcv"), "RCV")
	d.senderASID = p.device(root.Child("communicationFunctionSnd"), "SND")

	cae := root.Child("ControlActEvent")
	p.shape(cae, nil, "author1", "subject")
	p.attrs(cae, "classCode", "moodCode")
	p.fixed(cae, "classCode", "CACT")
	p.fixed(cae, "moodCode", "EVN")
	sys := p.participation(cae.Child("author1"), "AgentSystemSDS", "typeCode", "AUT")
	p.shape(sys, nil, "agentSystemSDS")
	p.attrs(sys, "classCode")
	p.fixed(sys, "classCode", "AGNT")
	d.systemASID = p.deviceID(sys.Child("agentSystemSDS"))
	subject := cae.Child("subject")
	p.shape(subject, nil, "CancellationResponse")
	p.attrs(subject, "typeCode", "contextConductionInd")
	p.fixed(subject, "typeCode", "SUBJ")
	p.fixed(subject, "contextConductionInd", "false")
	p.readCancellationResponse(subject.Child("CancellationResponse"), rd, env)
	return rd
}

// readCancellationResponse reads the CancellationResponse payload into rd.
func (p cancelReader) readCancellationResponse(cr v3.Node, rd *cancelResponseRead, env Env) {
	newID := env.NewID
	d := &rd.d
	p.shape(cr, nil, "id", "effectiveTime", "recordTarget", "performer", "author", "responsibleParty",
		"pertinentInformation2", "pertinentInformation1", "pertinentInformation3", "pertinentInformation4")
	p.attrs(cr, "classCode", "moodCode")
	p.fixed(cr, "classCode", "INFRM")
	p.fixed(cr, "moodCode", "EVN")
	d.responseID = p.uuid(cr.Child("id"))
	d.effective = p.attrOnly(cr.Child("effectiveTime"), "value")
	rd.patient = readPatientLayout(p.participation(cr.Child("recordTarget"), "Patient", "typeCode", "RCT"), freshID(newID))
	authorNode := p.participation(cr.Child("author"), "AgentPerson", "contextControlCode", "OP", "typeCode", "AUT")
	rd.author = readCancelAgentPersonLayout(authorNode, newID)
	respNode := p.participation(cr.Child("responsibleParty"), "AgentPerson", "contextControlCode", "OP", "typeCode", "RESP")
	rd.responsible, rd.separateResp = cancelResponsible(authorNode, respNode, rd.author, newID)
	if pf := cr.Opt("performer"); pf.Exists() {
		rd.hasPerformer = true
		perfNode := p.participationTime(pf, "AgentPerson", true, "typeCode", "PRF")
		tn := pf.Child("time")
		p.shape(tn, nil)
		if tn.HasAttr("nullFlavor") {
			p.attrs(tn, "nullFlavor")
			p.fixed(tn, "nullFlavor", "UNK")
		} else {
			d.performerTime = p.attrOnly(tn, "value")
		}
		switch {
		case SameElement(perfNode.El, authorNode.El, nil):
			rd.perf = rd.author
		case rd.separateResp && SameElement(perfNode.El, respNode.El, nil):
			rd.perf = rd.responsible
		default:
			rd.perf, rd.separatePerf = readCancelAgentPersonLayout(perfNode, newID), true
		}
		org := perfNode.Opt("representedOrganization")
		rd.performerODS = org.Opt("id").OptAttr("extension")
		rd.performerName = org.Opt("name").Text()
	}
	d.shortID = p.shortFormIDRef(cr.Child("pertinentInformation2"))
	d.lineItem = p.lineItemRef(cr.Child("pertinentInformation1"))
	d.code = p.cancelResponseCode(cr.Child("pertinentInformation3"))
	d.requestRef = p.cancelRequestRef(cr.Child("pertinentInformation4"))
}

// shortFormIDRef reads pertinentInformation2/pertinentPrescriptionID of a
// response, where the id is Spine's own and passes through unchecked.
func (p cancelReader) shortFormIDRef(n v3.Node) string {
	act := p.relationship(n, "false", "pertinentPrescriptionID", "OBS", "EVN", "contextConductionInd", "true", "typeCode", "PERT")
	p.shape(act, nil, "code", "value")
	p.fixedCode(act.Child("code"), codePrescriptionID, v3.OIDPertinentCode)
	return p.ii(act.Child("value"), v3.OIDShortFormID, true)
}

// cancelResponseCode reads pertinentInformation3/pertinentResponse.
func (p cancelReader) cancelResponseCode(n v3.Node) SpineCode {
	act := p.relationship(n, "false", "pertinentResponse", "OBS", "EVN", "typeCode", "PERT", "contextConductionInd", "true")
	p.shape(act, nil, "code", "value")
	p.fixedCode(act.Child("code"), codeCancelResponse, v3.OIDPertinentCode)
	val := act.Child("value")
	p.shape(val, nil)
	p.attrs(val, "codeSystem", "code", "displayName")
	p.fixed(val, "codeSystem", v3.OIDCancellationCode)
	c := SpineCode{System: v3.OIDCancellationCode, Code: p.nonEmpty(val, "code"), Display: val.OptAttr("displayName")}
	if val.HasAttr("displayName") && c.Display == "" {
		p.r.Fail(val.Path+"/@displayName", "empty value")
	}
	if c.Code != "" {
		if _, err := CancellationFromV3(c.Code, c.Display); err != nil {
			p.r.Fail(val.Path+"/@code", "%v", err)
		}
	}
	return c
}

// cancelRequestRef reads pertinentInformation4/pertinentCancellationRequestRef.
func (p cancelReader) cancelRequestRef(n v3.Node) string {
	act := p.relationship(n, "true", "pertinentCancellationRequestRef", "ACTN", "RQO", "typeCode", "PERT", "inversionInd", "false", "negationInd", "false")
	p.shape(act, nil, "id")
	return p.uuid(act.Child("id"))
}

// bundle assembles the prescription-order-response Bundle.
func (rd *cancelResponseRead) bundle(newID func() string) *fhir.Bundle {
	d := &rd.d
	canc, _ := CancellationFromV3(d.code.Code, d.code.Display)
	b := &fhir.Bundle{ResourceType: "Bundle", ID: freshID(newID), Type: "message",
		Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: strings.ToLower(d.responseID)}}
	if ts, err := FHIRDateTimeFromV3(d.effective); err == nil {
		b.Timestamp = ts
	}

	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: freshID(newID)},
		EventCoding: fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: EventPrescriptionOrderResponse, Display: "Prescription Order Response"},
		Sender:      &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: spineODS}, Display: spineName},
		Source:      &fhir.MessageSource{Name: "NHS Spine"},
		Response:    &fhir.MessageHeaderResponse{Identifier: strings.ToLower(d.requestRef), Code: "ok"},
	}
	if d.typeCode != AckAccepted {
		mh.Response.Code = "fatal-error"
	}
	mh.Extension = []fhir.Extension{rd.v3Extension(b.Timestamp)}
	if org := rd.author.Organization; org != nil && len(org.Identifier) > 0 {
		ods := org.Identifier[0].Value
		mh.Destination = []fhir.MessageDestination{{Endpoint: "urn:nhs-uk:addressing:ods:" + ods,
			Receiver: &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: ods}}}}
	}
	b.Add(FullURL(mh.ID), mh)

	status := canc.MedicationRequestStatus
	if status == "" {
		status = "unknown"
	}
	statusCoding := fhir.Coding{System: fhir.CodeSystemStatusHistory, Code: canc.FHIR.Code, Display: d.code.Display}
	history := fhir.Extension{URL: ExtensionPrescriptionStatusHistory, Extension: []fhir.Extension{{URL: "status", ValueCoding: &statusCoding}}}
	if b.Timestamp != "" {
		ts := b.Timestamp
		history.Extension = append(history.Extension, fhir.Extension{URL: "statusDate", ValueDateTime: &ts})
	}
	mr := &fhir.MedicationRequest{
		Base: fhir.Base{ResourceType: "MedicationRequest", ID: freshID(newID), Extension: []fhir.Extension{
			history,
			{URL: ExtensionResponsiblePractitioner, ValueReference: &fhir.Reference{Reference: FullURL(rd.author.Role.ID)}},
		}},
		Identifier:                []fhir.Identifier{{System: fhir.SystemLineItemID, Value: strings.ToLower(d.lineItem)}},
		Status:                    status,
		Intent:                    "order",
		MedicationCodeableConcept: medicinalProduct(),
		Subject:                   &fhir.Reference{Reference: FullURL(rd.patient.ID)},
		Requester:                 &fhir.Reference{Reference: FullURL(rd.responsible.Role.ID)},
		GroupIdentifier:           &fhir.Identifier{System: fhir.SystemShortFormID, Value: d.shortID},
	}
	if rd.hasPerformer {
		mr.DispenseRequest = &fhir.DispenseRequest{Performer: &fhir.Reference{
			Extension:  []fhir.Extension{{URL: ExtensionDispensingPerformer, ValueReference: &fhir.Reference{Reference: FullURL(rd.perf.Role.ID)}}},
			Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: rd.performerODS},
			Display:    rd.performerName,
		}}
	}
	b.Add(FullURL(mr.ID), mr)
	mh.Focus = []fhir.Reference{{Reference: FullURL(rd.patient.ID)}, {Reference: FullURL(mr.ID)}}
	b.Add(FullURL(rd.patient.ID), rd.patient)
	b.Entry = append(b.Entry, rd.author.Entries()...)
	if rd.separateResp {
		b.Entry = append(b.Entry, rd.responsible.Entries()...)
	}
	if rd.separatePerf {
		b.Entry = append(b.Entry, rd.perf.Entries()...)
	}
	return b
}

// v3Extension is the MessageHeader's ExtensionCancelV3: the acknowledgement
// typeCode and creationTime always, the other values where the FHIR form or
// the defaults would not give them back.
func (rd *cancelResponseRead) v3Extension(timestamp string) fhir.Extension {
	d := &rd.d
	ack := d.typeCode
	ext := fhir.Extension{URL: ExtensionCancelV3, Extension: []fhir.Extension{
		{URL: "acknowledgement", ValueCode: &ack},
		cancelStringExt("creationTime", d.creationTime),
	}}
	add := func(url, v string) { ext.Extension = append(ext.Extension, cancelStringExt(url, v)) }
	if again, err := V3TimestampFromFHIR(timestamp); err != nil || again != d.effective {
		add("effectiveTime", d.effective)
	}
	if d.messageRef != d.id {
		add("messageRef", d.messageRef)
	}
	if d.performerTime != "" {
		add("performerTime", d.performerTime)
	}
	for _, f := range [...]struct{ url, got, def string }{
		{"versionCode", d.versionCode, v3.OIDVersionCodeV42},
		{"processingCode", d.processingCode, "P"},
		{"processingModeCode", d.processingModeCode, "T"},
		{"acceptAckCode", d.acceptAckCode, "NE"},
	} {
		if f.got != f.def {
			add(f.url, f.got)
		}
	}
	return ext
}
