package mapping

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// Dispense Notification, v3 → FHIR: building the Bundle from what was read.

// dnDispenseStatus is the MedicationDispense.status an item status takes
// (EPS FHIR does not map it back to v3; the item status travels in type).
func dnDispenseStatus(itemStatus string) string {
	switch itemStatus {
	case "0001":
		return "completed"
	case "0002":
		return "declined"
	case "0003":
		return "in-progress"
	case "0004":
		return "preparation"
	case "0005":
		return "cancelled"
	case "0006":
		return "stopped"
	}
	return "unknown"
}

// buildDNBundle builds the dispense-notification Bundle.
func buildDNBundle(m *dnMessage, newID func() string) *fhir.Bundle {
	b := &fhir.Bundle{
		ResourceType: "Bundle",
		ID:           freshID(newID),
		Identifier:   &fhir.Identifier{System: fhir.SystemRFC4122, Value: dspLowerUUID(m.id)},
		Type:         "message",
	}
	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: freshID(newID)}}
	b.Add(FullURL(mh.ID), mh)
	if m.agent == nil || m.agent.Organization == nil {
		return b
	}
	org := m.agent.Organization
	org.ResourceType = "Organization"
	org.Extension = append(org.Extension, fhir.Extension{URL: ExtensionOrganisationRelations, Extension: []fhir.Extension{{
		URL: "reimbursementAuthority", ValueIdentifier: &fhir.Identifier{System: fhir.SystemODS, Value: m.recipient},
	}}})
	role := m.agent.Role
	role.Organization = &fhir.Reference{Reference: FullURL(org.ID)}

	var focus []fhir.Reference
	var mds []*fhir.MedicationDispense
	var derived []string
	for _, it := range m.items {
		mr := buildDNRequest(m, it)
		n := len(it.supplies)
		if n == 0 {
			n = 1
		}
		for k := 0; k < n; k++ {
			derived = append(derived, it.id)
			md := buildDNDispense(m, it, mr, k)
			md.ID = freshID(newID)
			mds = append(mds, md)
			focus = append(focus, fhir.Reference{Reference: FullURL(md.ID)})
		}
	}
	for _, md := range mds {
		b.Add(FullURL(md.ID), md)
	}
	b.Add(FullURL(org.ID), org)
	if m.agent.Parent != nil {
		b.Add(FullURL(m.agent.Parent.ID), m.agent.Parent)
	}

	orgODS := fhir.FindIdentifier(org.Identifier, fhir.SystemODS)
	mh.EventCoding = fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: fhir.EventDispenseNotification, Display: "Dispense Notification"}
	dest := fhir.MessageDestination{}
	if m.recipient != "" {
		dest.Endpoint = DirectoryOrganizationURL + m.recipient
		dest.Receiver = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: m.recipient}, Display: m.recipientNm}
	}
	mh.Destination = []fhir.MessageDestination{dest}
	mh.Sender = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: orgODS}, Display: org.Name}
	mh.Source = &fhir.MessageSource{Name: org.Name, Endpoint: DirectoryOrganizationURL + orgODS}
	mh.Response = &fhir.MessageHeaderResponse{Identifier: dspLowerUUID(m.releaseEvent), Code: "ok"}
	mh.Focus = focus
	if m.replacementOf != "" {
		mh.Extension = append(mh.Extension, fhir.Extension{URL: ExtensionReplacementOf,
			ValueIdentifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: dspLowerUUID(m.replacementOf)}})
	}
	// The supply header's author time (when the pharmacy made the
	// notification) travels in Bundle.timestamp, the R4 element for when the
	// message was assembled, rather than in an extension of porxgate's own;
	// EPS itself writes its send time there in the v3 it makes.
	// Bundle.timestamp is an instant: a time of lower precision (a v3 TS
	// may be a date) stays in porxgate's extension.
	px := pxBuilder{name: pxDispenseNotification}
	if strings.Contains(m.authorTime, "T") {
		b.Timestamp = m.authorTime
	} else {
		px.dateTime("authorTime", m.authorTime)
	}
	if m.shID != m.id {
		px.id("supplyHeaderId", m.shID)
	}
	if m.recipientCode != organizationTypeNotSpecified {
		px.str("recipientTypeCode", m.recipientCode)
	}
	px.str("recipientName", m.recipientNm)
	if !dspSameStrings(derived, m.careRecord) {
		for _, id := range m.careRecord {
			px.subs = append(px.subs, fhir.Extension{URL: "careRecordElement", ValueIdentifier: &fhir.Identifier{Value: id}})
		}
	}
	px.id("predecessor", m.predecessor)
	mh.Extension = px.appendTo(mh.Extension)
	return b
}

// buildDNRequest builds the contained MedicationRequest of a line item.
func buildDNRequest(m *dnMessage, it dnItem) *fhir.MedicationRequest {
	mr := &fhir.MedicationRequest{
		Base:                      fhir.Base{ResourceType: "MedicationRequest", ID: "m1"},
		Identifier:                []fhir.Identifier{{System: fhir.SystemLineItemID, Value: dspLowerUUID(it.origItem)}},
		Status:                    "active",
		Intent:                    "order",
		MedicationCodeableConcept: dspConcept(fhir.SystemSNOMED, it.requested),
		Subject:                   &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: m.nhs}},
		GroupIdentifier: &fhir.Identifier{
			Extension: []fhir.Extension{{URL: fhir.ExtensionPrescriptionID,
				ValueIdentifier: &fhir.Identifier{System: fhir.SystemLongFormID, Value: dspLowerUUID(m.longID)}}},
			System: fhir.SystemShortFormID,
			Value:  m.shortID,
		},
		DispenseRequest: &fhir.DispenseRequest{Quantity: dspQuantityToFHIR(it.request)},
	}
	if m.repeatLow != "" {
		mr.BasedOn = []fhir.Reference{{Extension: []fhir.Extension{dnRepeatExtension(m)}}}
	}
	if it.repeatLow != "" {
		issued := json.Number(it.repeatLow)
		mr.Extension = append(mr.Extension, fhir.Extension{URL: ExtensionUKCoreRepeatInformation, Extension: []fhir.Extension{
			{URL: "numberOfPrescriptionsIssued", ValueUnsignedInt: &issued},
		}})
		// EPS's convention: the item's repeatNumber high is
		// numberOfRepeatsAllowed + 1 (see dnItemRepeat).
		allowed := json.Number(it.repeatHigh)
		if h, err := strconv.Atoi(it.repeatHigh); err == nil && h >= 1 {
			allowed = json.Number(strconv.Itoa(h - 1))
		}
		mr.DispenseRequest.NumberOfRepeatsAllowed = &allowed
	}
	return mr
}

// dnRepeatExtension is the message's repeatNumber as
// Extension-EPS-RepeatInformation (its validity was checked on reading).
func dnRepeatExtension(m *dnMessage) fhir.Extension {
	ext, _ := dspRepeatExtension(m.repeatLow, m.repeatHigh)
	return ext
}

// buildDNDispense builds the MedicationDispense of supply k of a line item
// (k = 0 for an item without supplies).
func buildDNDispense(m *dnMessage, it dnItem, mr *fhir.MedicationRequest, k int) *fhir.MedicationDispense {
	md := &fhir.MedicationDispense{
		Base:                    fhir.Base{ResourceType: "MedicationDispense"},
		Identifier:              []fhir.Identifier{{System: fhir.SystemDispenseItemID, Value: dspLowerUUID(it.id)}},
		Status:                  dnDispenseStatus(it.status.Code),
		Subject:                 &fhir.Reference{Type: "Patient", Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: m.nhs}},
		AuthorizingPrescription: []fhir.Reference{{Reference: "#m1"}},
		Type:                    dspConcept(fhir.CodeSystemMedicationDispenseType, it.status),
		WhenHandedOver:          m.effective,
	}
	if t, err := FHIRDateTimeFromV3(m.effective); err == nil {
		md.WhenHandedOver = t
	}
	md.Contained = fhir.ResourceList{m.agent.Role}
	if m.agent.Practitioner != nil {
		md.Contained = append(md.Contained, m.agent.Practitioner)
	}
	md.Contained = append(md.Contained, mr)
	md.Extension = append(md.Extension, fhir.Extension{URL: ExtensionTaskBusinessStatus,
		ValueCoding: &fhir.Coding{System: fhir.CodeSystemTaskBusinessStatus, Code: m.status.Code, Display: m.status.Display}})
	if m.ndr != nil {
		cd := dspCoding(CodeSystemDispenseStatusReason, *m.ndr)
		md.Extension = append(md.Extension, fhir.Extension{URL: ExtensionNonDispensingReason, ValueCoding: &cd})
	}
	if m.repeatLow != "" {
		md.Extension = append(md.Extension, dnRepeatExtension(m))
	}
	if it.ndr != nil {
		md.StatusReasonCodeableConcept = dspConcept(CodeSystemDispenseStatusReason, *it.ndr)
	}
	if k == 0 {
		px := pxBuilder{name: pxSuppliedLineItem}
		if it.requestCode.Code != it.request.Code || it.requestCode.Display != it.request.Unit {
			px.coding("supplyRequestCode", it.requestCode)
		}
		if it.runningTotal != nil {
			px.nested("runningTotal", it.runningTotal.Extension)
		}
		for _, ia := range it.intended {
			px.nested("intendedAdministration", ia.Extension)
		}
		px.id("predecessor", it.predecessor)
		md.Extension = px.appendTo(md.Extension)
	}
	if len(it.supplies) == 0 {
		md.MedicationCodeableConcept = dspConcept(fhir.SystemSNOMED, it.requested)
		// EPS requires every MedicationDispense to name its performer
		// (bundle-validator.ts, verifyDispenseBundle), a supply-less one too.
		md.Performer = []fhir.DispensePerformer{{Actor: fhir.Reference{Reference: "#performer"}}}
		return md
	}
	s := it.supplies[k]
	md.MedicationCodeableConcept = dspConcept(fhir.SystemSNOMED, s.product)
	md.Performer = []fhir.DispensePerformer{{Actor: fhir.Reference{Reference: "#performer"}}}
	md.Quantity = dspQuantityToFHIR(s.qty)
	if len(s.instructions) > 0 {
		md.DosageInstruction = []fhir.Dosage{{Text: s.instructions[0]}}
	}
	px := pxBuilder{name: pxSuppliedQuantity}
	if s.additional != nil {
		px.nested("additionalInstructions", s.additional.Extension)
	}
	for _, more := range s.instructions[min(1, len(s.instructions)):] {
		px.str("supplyInstruction", more)
	}
	md.Extension = px.appendTo(md.Extension)
	return md
}

// dspSameStrings reports whether two string slices are equal.
func dspSameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
