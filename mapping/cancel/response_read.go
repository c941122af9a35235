package cancel

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
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
// so CancelResponseToV3 gives the same message back. A response whose code
// is an error (0008, 0009, 5000, 5888) becomes, as in the EPS API, an
// OperationOutcome instead (errorOutcome), carrying the message verbatim.
// Wrapper ASIDs travel in Meta.
func CancelResponseToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, err := v3.Parse(payload)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("cancel response: %w", err)
	}
	core.RelaxNode(root)
	canon, _, err := v3.Canonical(root.El.Tag)
	if err != nil || (canon != v3.CancelResponse && canon != v3.SubsequentCancelResponse) {
		return nil, core.Meta{}, cancelError(root.El.Tag, root.Path(), "root element %s is not a cancel response (%s or %s)", root.El.Tag, v3.CancelResponse, v3.SubsequentCancelResponse)
	}
	p := cancelReader{core.ShapeReader{Reader: r}}
	rd := p.readCancelResponse(root, env)
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	var res fhir.Resource = rd.bundle(env.NewID)
	if canc, err := core.CancellationFromV3(rd.d.code.Code, rd.d.code.Display); err == nil && canc.IssueType != "" {
		res = errorOutcome(canc, root)
	}
	body, err := fhir.MarshalIndent(res)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("cancel response: writing FHIR: %w", err)
	}
	meta := core.Meta{
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
	author, responsible, perf   *core.AgentPersonResources
	separateResp, separatePerf  bool
	performerODS, performerName string
	hasPerformer                bool
}

// readCancelResponse reads the wrapper and the CancellationResponse,
// checking names, order and fixed attributes.
func (p cancelReader) readCancelResponse(root v3.Node, env core.Env) *cancelResponseRead {
	rd := &cancelResponseRead{}
	d := &rd.d
	p.Attrs(root)
	p.Shape(root, nil, "id", "creationTime", "versionCode", "interactionId", "processingCode",
		"processingModeCode", "acceptAckCode", "acknowledgement", "communicationFunctionRcv",
		"communicationFunctionSnd", "ControlActEvent")
	d.id = p.UUID(root.Child("id"))
	d.creationTime = p.AttrOnly(root.Child("creationTime"), "value")
	d.versionCode = p.AttrOnly(root.Child("versionCode"), "code")
	d.processingCode = p.AttrOnly(root.Child("processingCode"), "code")
	d.processingModeCode = p.AttrOnly(root.Child("processingModeCode"), "code")
	d.acceptAckCode = p.AttrOnly(root.Child("acceptAckCode"), "code")
	iid := root.Child("interactionId")
	p.Attrs(iid, "root", "extension")
	p.Fixed(iid, "root", v3.OIDInteraction)
	d.interaction = iid.Attr("extension")
	if d.interaction != "" && d.interaction != root.El.Tag {
		p.Reader.Fail(iid.Path()+"/@extension", "interactionId %q does not match the root element %q", d.interaction, root.El.Tag)
	}
	ack := root.Child("acknowledgement")
	p.Shape(ack, nil, "messageRef")
	p.Attrs(ack, "typeCode")
	d.typeCode = ack.Attr("typeCode")
	if ack.HasAttr("typeCode") && d.typeCode != core.AckAccepted && d.typeCode != core.AckError {
		p.Reader.Fail(ack.Path()+"/@typeCode", "%q is not AA or AE", d.typeCode)
	}
	ref := ack.Child("messageRef")
	p.Shape(ref, nil, "id")
	p.Attrs(ref)
	d.messageRef = p.II(ref.Child("id"), "", false)
	d.receiverASID = p.Device(root.Child("communicationFunctionRcv"), "RCV")
	d.senderASID = p.Device(root.Child("communicationFunctionSnd"), "SND")

	cae := root.Child("ControlActEvent")
	p.Shape(cae, nil, "author1", "subject")
	p.Attrs(cae, "classCode", "moodCode")
	p.Fixed(cae, "classCode", "CACT")
	p.Fixed(cae, "moodCode", "EVN")
	sys := p.Participation(cae.Child("author1"), "AgentSystemSDS", "typeCode", "AUT")
	p.Shape(sys, nil, "agentSystemSDS")
	p.Attrs(sys, "classCode")
	p.Fixed(sys, "classCode", "AGNT")
	d.systemASID = p.DeviceID(sys.Child("agentSystemSDS"))
	subject := cae.Child("subject")
	p.Shape(subject, nil, "CancellationResponse")
	p.Attrs(subject, "typeCode", "contextConductionInd")
	p.Fixed(subject, "typeCode", "SUBJ")
	p.Fixed(subject, "contextConductionInd", "false")
	p.readCancellationResponse(subject.Child("CancellationResponse"), rd, env)
	return rd
}

// readCancellationResponse reads the CancellationResponse payload into rd.
func (p cancelReader) readCancellationResponse(cr v3.Node, rd *cancelResponseRead, env core.Env) {
	newID := env.NewID
	d := &rd.d
	p.Shape(cr, nil, "id", "effectiveTime", "recordTarget", "performer", "author", "responsibleParty",
		"pertinentInformation2", "pertinentInformation1", "pertinentInformation3", "pertinentInformation4")
	p.Attrs(cr, "classCode", "moodCode")
	p.Fixed(cr, "classCode", "INFRM")
	p.Fixed(cr, "moodCode", "EVN")
	d.responseID = p.UUID(cr.Child("id"))
	d.effective = p.AttrOnly(cr.Child("effectiveTime"), "value")
	patientNode := p.Participation(cr.Child("recordTarget"), "Patient", "typeCode", "RCT")
	core.CheckOnce(patientNode, core.PatientOnce())
	if person := patientNode.Opt("patientPerson"); person.Exists() {
		for _, tag := range [...]string{"name", "administrativeGenderCode", "birthTime"} {
			core.SpineRequired(person, tag, core.NeedsCancelResponsePatient)
		}
	}
	rd.patient = readPatientLayout(patientNode, core.FreshID(newID))
	authorNode := p.Participation(cr.Child("author"), "AgentPerson", "contextControlCode", "OP", "typeCode", "AUT")
	core.CheckOnce(authorNode, core.AgentPersonOnce())
	rd.author = readCancelAgentPersonLayout(authorNode, newID)
	// The responsible party (the original prescriber) is 0..1 in
	// PORX_MT135201UK31: without one, the EPS API takes the cancel
	// requester for the prescriber (cancellation-response.ts), and so does
	// porxgate, saying in ExtensionCancelV3 that there was none.
	respNode := cr.Opt("responsibleParty")
	if respNode.Exists() {
		respNode = p.Participation(respNode, "AgentPerson", "contextControlCode", "OP", "typeCode", "RESP")
		core.CheckOnce(respNode, core.AgentPersonOnce())
	} else {
		d.noResponsible = true
	}
	rd.responsible, rd.separateResp = cancelResponsible(authorNode, respNode, rd.author, newID)
	if pf := cr.Opt("performer"); pf.Exists() {
		rd.hasPerformer = true
		perfNode := p.ParticipationTime(pf, "AgentPerson", true, "typeCode", "PRF")
		core.CheckOnce(perfNode, core.AgentPersonOnce())
		tn := pf.Child("time")
		p.Shape(tn, nil)
		if tn.HasAttr("nullFlavor") {
			p.Attrs(tn, "nullFlavor")
			p.Fixed(tn, "nullFlavor", "UNK")
		} else {
			d.performerTime = p.AttrOnly(tn, "value")
		}
		switch {
		case core.SameElement(perfNode.El, authorNode.El, nil):
			rd.perf = rd.author
		case rd.separateResp && core.SameElement(perfNode.El, respNode.El, nil):
			rd.perf = rd.responsible
		default:
			rd.perf, rd.separatePerf = readCancelAgentPersonLayout(perfNode, newID), true
		}
		org := perfNode.Opt("representedOrganization")
		rd.performerODS = org.Opt("id").OptAttr("extension")
		rd.performerName = org.Opt("name").Text()
	}
	d.shortID = p.shortFormIDRef(cr.Child("pertinentInformation2"))
	// The line item is 0..1 in PORX_MT135201UK31: a response to the
	// cancellation of a whole prescription names none (as porxgate's own
	// CancelRefusal writes it); its MedicationRequest then has no
	// line-item identifier.
	if li := cr.Opt("pertinentInformation1"); li.Exists() {
		d.lineItem = p.lineItemRef(li)
	} else {
		d.noLineItem = true
	}
	d.code = p.cancelResponseCode(core.SpineRequired(cr, "pertinentInformation3", core.NeedsCancelOutcome), d)
	d.requestRef = p.cancelRequestRef(cr.Child("pertinentInformation4"))
	core.RefuseEmptyAttrs(cr) // after reading: a problem the reader names more exactly comes first
}

// shortFormIDRef reads pertinentInformation2/pertinentPrescriptionID of a
// response, where the id is Spine's own and passes through unchecked.
func (p cancelReader) shortFormIDRef(n v3.Node) string {
	act := p.Relationship(n, "false", "pertinentPrescriptionID", "OBS", "EVN", "contextConductionInd", "true", "typeCode", "PERT")
	p.Shape(act, nil, "code", "value")
	p.FixedCode(act.Child("code"), codePrescriptionID, v3.OIDPertinentCode)
	return p.II(act.Child("value"), v3.OIDShortFormID, true)
}

// cancelResponseCode reads pertinentInformation3/pertinentResponse.
func (p cancelReader) cancelResponseCode(n v3.Node, rd *cancelResponseDoc) core.SpineCode {
	act := p.Relationship(n, "false", "pertinentResponse", "OBS", "EVN", "typeCode", "PERT", "contextConductionInd", "true")
	p.Shape(act, nil, "code", "value")
	// The response's code (CRR) is 0..1 in PORX_MT135201UK31.
	if code := act.Opt("code"); code.Exists() {
		p.FixedCode(code, codeCancelResponse, v3.OIDPertinentCode)
	} else {
		rd.noResponseCode = true
	}
	val := act.Child("value")
	p.Shape(val, nil)
	p.Attrs(val, "codeSystem", "code", "displayName")
	p.Fixed(val, "codeSystem", v3.OIDCancellationCode)
	c := core.SpineCode{System: v3.OIDCancellationCode, Code: p.NonEmpty(val, "code"), Display: val.OptAttr("displayName")}
	p.DisplayName(val)
	if c.Code != "" {
		if _, err := core.CancellationFromV3(c.Code, c.Display); err != nil {
			p.Reader.Fail(val.Path()+"/@code", "%v", err)
		}
	}
	return c
}

// cancelRequestRef reads pertinentInformation4/pertinentCancellationRequestRef.
func (p cancelReader) cancelRequestRef(n v3.Node) string {
	act := p.Relationship(n, "true", "pertinentCancellationRequestRef", "ACTN", "RQO", "typeCode", "PERT", "inversionInd", "false", "negationInd", "false")
	p.Shape(act, nil, "id")
	return p.UUID(act.Child("id"))
}

// bundle assembles the prescription-order-response Bundle.
func (rd *cancelResponseRead) bundle(newID func() string) *fhir.Bundle {
	d := &rd.d
	canc, _ := core.CancellationFromV3(d.code.Code, d.code.Display)
	b := &fhir.Bundle{ResourceType: "Bundle", ID: core.FreshID(newID), Type: "message",
		Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: strings.ToLower(d.responseID)}}
	if ts, err := core.FHIRDateTimeFromV3(d.effective); err == nil {
		b.Timestamp = ts
	}

	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: core.FreshID(newID)},
		EventCoding: fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: EventPrescriptionOrderResponse, Display: "Prescription Order Response"},
		Sender:      &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: spineODS}, Display: spineName},
		Source:      &fhir.MessageSource{Name: "NHS Spine"},
		Response:    &fhir.MessageHeaderResponse{Identifier: strings.ToLower(d.requestRef), Code: "ok"},
	}
	if d.typeCode != core.AckAccepted {
		mh.Response.Code = "fatal-error"
	}
	mh.Extension = []fhir.Extension{rd.v3Extension(b.Timestamp)}
	if org := rd.author.Organization; org != nil && len(org.Identifier) > 0 {
		ods := org.Identifier[0].Value
		mh.Destination = []fhir.MessageDestination{{Endpoint: "urn:nhs-uk:addressing:ods:" + ods,
			Receiver: &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: ods}}}}
	}
	b.Add(core.FullURL(mh.ID), mh)

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
		Base: fhir.Base{ResourceType: "MedicationRequest", ID: core.FreshID(newID), Extension: []fhir.Extension{
			history,
			{URL: core.ExtensionResponsiblePractitioner, ValueReference: &fhir.Reference{Reference: core.FullURL(rd.author.Role.ID)}},
		}},
		Status:                    status,
		Intent:                    "order",
		MedicationCodeableConcept: medicinalProduct(),
		Subject:                   &fhir.Reference{Reference: core.FullURL(rd.patient.ID)},
		Requester:                 &fhir.Reference{Reference: core.FullURL(rd.responsible.Role.ID)},
		GroupIdentifier:           &fhir.Identifier{System: fhir.SystemShortFormID, Value: d.shortID},
	}
	if !d.noLineItem {
		mr.Identifier = []fhir.Identifier{{System: fhir.SystemLineItemID, Value: strings.ToLower(d.lineItem)}}
	}
	if rd.hasPerformer {
		mr.DispenseRequest = &fhir.DispenseRequest{Performer: &fhir.Reference{
			Extension:  []fhir.Extension{{URL: ExtensionDispensingPerformer, ValueReference: &fhir.Reference{Reference: core.FullURL(rd.perf.Role.ID)}}},
			Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: rd.performerODS},
			Display:    rd.performerName,
		}}
	}
	b.Add(core.FullURL(mr.ID), mr)
	mh.Focus = []fhir.Reference{{Reference: core.FullURL(rd.patient.ID)}, {Reference: core.FullURL(mr.ID)}}
	b.Add(core.FullURL(rd.patient.ID), rd.patient)
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
	if again, err := core.V3TimestampFromFHIR(timestamp); err != nil || again != d.effective {
		add("effectiveTime", d.effective)
	}
	if d.messageRef != d.id {
		add("messageRef", d.messageRef)
	}
	if d.performerTime != "" {
		add("performerTime", d.performerTime)
	}
	if d.noResponsible {
		add("responsibleParty", absent)
	}
	if d.noResponseCode {
		add("responseCode", absent)
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

// partCancelResponse names the whole cancel response carried in
// ExtensionV3Original by an error outcome.
const partCancelResponse = "CancelResponse"

// errorOutcome is the OperationOutcome the EPS API makes of a cancel
// response whose code is an error (0008, 0009, 5000, 5888:
// cancellation-response.ts translateSpineCancelResponseIntoOperationOutcome):
// one error issue with the cancellation's issue type and its
// medicationrequest-status-history coding. The outcome has no place for the
// patient, the people or the ids, so the whole message travels verbatim in
// ExtensionV3Original for CancelResponseToV3.
func errorOutcome(canc core.Cancellation, root v3.Node) *fhir.OperationOutcome {
	return &fhir.OperationOutcome{
		Base: fhir.Base{ResourceType: "OperationOutcome",
			Extension: []fhir.Extension{core.V3OriginalExtension(partCancelResponse, root.El)}},
		Issue: []fhir.Issue{{Severity: "error", Code: canc.IssueType,
			Details: &fhir.CodeableConcept{Coding: []fhir.Coding{canc.FHIR}}}},
	}
}
