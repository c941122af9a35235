package cancel

import (
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// CancelResponseToV3 writes the Cancel Response (or, when meta.Interaction
// says so, the Subsequent Cancel Response) of a prescription-order-response
// Bundle as CancelResponseToFHIR makes it and the EPS API answers with. The
// interaction is meta.Interaction when it is one of the two (either family),
// else the Cancel Response in env's family. The code is the
// MedicationRequest's status history R-code (Extension-DM-
// PrescriptionStatusHistory, or the older Extension-DM-
// PrescriptionTaskStatusReason); the author is the ResponsiblePractitioner
// extension's role (else the requester), the responsible party the
// requester, the performer dispenseRequest.performer's DispensingPerformer
// role. The acknowledgement typeCode is ExtensionCancelV3's, else AA for
// response.code ok and AE otherwise, else CancelAckTypeCode. Ids: the
// transmission id is meta.MessageID, else the Bundle identifier (which is
// the CancellationResponse id); creationTime and effectiveTime come from
// ExtensionCancelV3 or the Bundle timestamp, else env.Now. The sender
// defaults to Spine's ASID (DefaultReceiverASID), the receiver to the EPS
// API's (DefaultSenderASID), author1 to the sender.
func CancelResponseToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := v3.InFamily(v3.CancelResponse, env.WriteFamily())
	if canon, _, err := v3.Canonical(meta.Interaction); err == nil && (canon == v3.CancelResponse || canon == v3.SubsequentCancelResponse) {
		interaction = meta.Interaction
	}
	if res, err := fhir.DecodeResource(body); err == nil {
		if oo, ok := res.(*fhir.OperationOutcome); ok {
			return cancelResponseFromOutcome(oo, interaction)
		}
	}
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Bundle", Msg: err.Error()}
	}
	c := core.NewBundleContext(b, interaction)
	core.CheckMessageEvent(c, EventPrescriptionOrderResponse)
	if c.Failed() {
		return nil, c.Err()
	}
	d := cancelResponseFromBundle(c, interaction, meta, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return d.write()
}

// cancelResponseFromBundle gathers a cancel response from a
// prescription-order-response Bundle; problems are recorded on c.
func cancelResponseFromBundle(c *core.BundleContext, interaction string, meta core.Meta, env core.Env) *cancelResponseDoc {
	d := &cancelResponseDoc{interaction: interaction}
	mh := fhir.EntriesOf[*fhir.MessageHeader](c.Bundle)[0]
	mhPath := c.Path(mh)
	ext := c.Extension(mh.Extension, ExtensionCancelV3, mhPath+".extension")
	sub := func(url string) string {
		if ext == nil {
			return ""
		}
		return extensionText(fhir.FindExtension(ext.Extension, url))
	}
	mr, mrPath := onlyMedicationRequest(c)
	if mr == nil {
		return d
	}
	d.code = cancelCodeOf(c, mr, mrPath)
	if c.Bundle.Identifier == nil || c.Bundle.Identifier.Value == "" {
		c.Fail("Bundle.identifier", "missing mandatory identifier (the cancel response id)")
	} else {
		d.responseID = core.UpperUUID(c.Bundle.Identifier.Value)
	}
	d.id = core.FirstNonEmpty(core.UpperUUID(meta.MessageID), d.responseID)
	d.messageRef = sub("messageRef")
	d.creationTime = core.FirstNonEmpty(sub("creationTime"), env.Now.UTC().Format(core.V3TimeLayout))
	d.effective = sub("effectiveTime")
	if d.effective == "" && c.Bundle.Timestamp != "" {
		t, err := core.V3TimestampFromFHIR(c.Bundle.Timestamp)
		if err != nil {
			c.Fail("Bundle.timestamp", "%v", err)
		}
		d.effective = t
	}
	if d.effective == "" {
		d.effective = env.Now.UTC().Format(core.V3TimeLayout)
	}
	d.versionCode, d.processingCode = sub("versionCode"), sub("processingCode")
	d.processingModeCode, d.acceptAckCode = sub("processingModeCode"), sub("acceptAckCode")
	d.typeCode = sub("acknowledgement")
	if d.typeCode == "" && mh.Response != nil && mh.Response.Code != "" {
		d.typeCode = core.AckError
		if mh.Response.Code == "ok" {
			d.typeCode = core.AckAccepted
		}
	}
	if d.typeCode == "" {
		d.typeCode = CancelAckTypeCode(d.code.Code)
	}
	if mh.Response == nil || mh.Response.Identifier == "" {
		c.Fail(mhPath+".response.identifier", "missing mandatory identifier (the cancel request's id)")
	} else {
		d.requestRef = core.UpperUUID(mh.Response.Identifier)
	}
	d.senderASID = core.FirstNonEmpty(meta.SenderASID, core.DefaultReceiverASID)
	d.receiverASID = core.FirstNonEmpty(meta.ReceiverASID, core.DefaultSenderASID)
	d.systemASID = core.FirstNonEmpty(meta.SystemASID, d.senderASID)

	// A MedicationRequest without identifiers answers for the whole
	// prescription: no line item (pertinentInformation1, 0..1).
	if len(mr.Identifier) == 0 {
		d.noLineItem = true
	} else {
		d.lineItem = strings.ToUpper(c.RequireIdentifier(mr.Identifier, fhir.SystemLineItemID, mrPath+".identifier"))
	}
	d.noResponseCode = sub("responseCode") == absent
	if gi := mr.GroupIdentifier; gi == nil || gi.Value == "" {
		c.Fail(mrPath+".groupIdentifier", "missing mandatory short-form prescription id")
	} else {
		if gi.System != fhir.SystemShortFormID {
			c.Fail(mrPath+".groupIdentifier.system", "system %q, want %s", gi.System, fhir.SystemShortFormID)
		}
		d.shortID = gi.Value
	}
	holder := etree.NewElement("holder")
	if pat, ok := c.Resolve(mr.Subject, mrPath+".subject").(*fhir.Patient); ok {
		d.patient = addPatientLayout(c, holder, pat, c.Path(pat))
	} else if !c.Failed() {
		c.Fail(mrPath+".subject", "does not reference a Patient")
	}
	respRole, respPath := resolveRole(c, mr.Requester, mrPath+".requester")
	authorRole, authorPath := respRole, respPath
	if e := c.Extension(mr.Extension, core.ExtensionResponsiblePractitioner, mrPath+".extension"); e != nil {
		authorRole, authorPath = resolveRole(c, e.ValueReference, mrPath+".extension("+core.ExtensionResponsiblePractitioner+").valueReference")
	}
	var perfRole *fhir.PractitionerRole
	var perfPath string
	if dr := mr.DispenseRequest; dr != nil && dr.Performer != nil {
		pp := mrPath + ".dispenseRequest.performer"
		if e := c.Extension(dr.Performer.Extension, ExtensionDispensingPerformer, pp+".extension"); e != nil {
			perfRole, perfPath = resolveRole(c, e.ValueReference, pp+".extension("+ExtensionDispensingPerformer+").valueReference")
		}
	}
	places := answerPlaces(authorRole, respRole, perfRole)
	if authorRole != nil && respRole != nil {
		d.author = addCancelAgentPerson(c, holder, authorRole, authorPath, places[0])
		// No responsibleParty was sent when the extension says so and the
		// prescriber is the cancel requester.
		if d.noResponsible = sub("responsibleParty") == absent && respRole == authorRole; !d.noResponsible {
			d.responsible = addCancelAgentPerson(c, holder, respRole, respPath, places[1])
		}
	}
	if perfRole != nil {
		d.performer = addCancelAgentPerson(c, holder, perfRole, perfPath, places[2])
		d.performerTime = sub("performerTime")
	}
	return d
}

// onlyMedicationRequest returns the bundle's only MedicationRequest.
func onlyMedicationRequest(c *core.BundleContext) (*fhir.MedicationRequest, string) {
	var found *fhir.MedicationRequest
	var path string
	for i, e := range c.Bundle.Entry {
		if mr, ok := e.Resource.(*fhir.MedicationRequest); ok {
			if found != nil {
				c.Fail(core.Indexed("Bundle.entry", i)+".resource", "more than one MedicationRequest: a cancel response answers for one line item")
				return nil, ""
			}
			found, path = mr, core.Indexed("Bundle.entry", i)+".resource"
		}
	}
	if found == nil {
		c.Fail("Bundle.entry", "no MedicationRequest")
	}
	return found, path
}

// resolveRole resolves a reference that must point at a PractitionerRole.
func resolveRole(c *core.BundleContext, ref *fhir.Reference, path string) (*fhir.PractitionerRole, string) {
	r := c.Resolve(ref, path)
	role, ok := r.(*fhir.PractitionerRole)
	if !ok {
		if r != nil {
			c.Fail(path, "does not reference a PractitionerRole")
		}
		return nil, path
	}
	return role, c.Path(role)
}

// cancelCodeOf returns the cancellation response code of a
// MedicationRequest's status history extension (the R-code as its …17.19
// code; the coding's display, else the table's, as displayName).
func cancelCodeOf(c *core.BundleContext, mr *fhir.MedicationRequest, mrPath string) core.SpineCode {
	url := ExtensionPrescriptionStatusHistory
	ext := c.Extension(mr.Extension, url, mrPath+".extension")
	if ext == nil {
		url = ExtensionPrescriptionTaskStatusReason
		ext = c.Extension(mr.Extension, url, mrPath+".extension")
	}
	path := mrPath + ".extension(" + url + ")"
	if ext == nil {
		c.Fail(mrPath+".extension", "missing mandatory extension %s", ExtensionPrescriptionStatusHistory)
		return core.SpineCode{}
	}
	st := fhir.FindExtension(ext.Extension, "status")
	if st == nil || st.ValueCoding == nil || st.ValueCoding.Code == "" {
		c.Fail(path+".extension(status)", "missing mandatory valueCoding")
		return core.SpineCode{}
	}
	cd := st.ValueCoding
	if cd.System != fhir.CodeSystemStatusHistory {
		c.Fail(path+".extension(status).valueCoding.system", "system %q, want %s", cd.System, fhir.CodeSystemStatusHistory)
		return core.SpineCode{}
	}
	canc, err := core.CancellationFromFHIR(cd.Code, cd.Display)
	if err != nil {
		c.Fail(path+".extension(status).valueCoding.code", "%v", err)
		return core.SpineCode{}
	}
	code := canc.V3
	if cd.Display != "" {
		code.Display = cd.Display
	}
	return code
}

// cancelResponseFromOutcome writes back the cancel response an error
// outcome of CancelResponseToFHIR carries. An outcome without it (the EPS
// API's own) says nothing of the request it answers: CancelResponseFromEPS
// makes the response from the request and the outcome.
func cancelResponseFromOutcome(oo *fhir.OperationOutcome, interaction string) ([]byte, error) {
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, interaction)
	el := core.CarriedPart(c, oo.Extension, partCancelResponse, "OperationOutcome")
	if err := c.Err(); err != nil {
		return nil, err
	}
	if el == nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "OperationOutcome.extension",
			Msg: "an error outcome without the carried cancel response (" + core.ExtensionV3Original + "): answer an EPS outcome with CancelResponseFromEPS, which knows the request"}
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(el)
	return v3.Bytes(doc), nil
}
