package dispense

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
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
		ID:           core.FreshID(newID),
		Identifier:   &fhir.Identifier{System: fhir.SystemRFC4122, Value: core.LowerUUID(m.id)},
		Type:         "message",
	}
	mh := &fhir.MessageHeader{Base: fhir.Base{ResourceType: "MessageHeader", ID: core.FreshID(newID)}}
	b.Add(core.FullURL(mh.ID), mh)
	if m.agent == nil || m.agent.Organization == nil {
		return b
	}
	org := m.agent.Organization
	org.ResourceType = "Organization"
	org.Extension = append(org.Extension, fhir.Extension{URL: core.ExtensionOrganisationRelations, Extension: []fhir.Extension{{
		URL: "reimbursementAuthority", ValueIdentifier: &fhir.Identifier{System: fhir.SystemODS, Value: m.recipient},
	}}})
	role := m.agent.Role
	role.Organization = &fhir.Reference{Reference: core.FullURL(org.ID)}

	var focus []fhir.Reference
	var mds []*fhir.MedicationDispense
	var derived []string
	mrs := make([]*fhir.MedicationRequest, len(m.items))
	for i, it := range m.items {
		mrs[i] = buildDNRequest(m, it)
	}
	for _, s := range dnSupplyOrder(m.items, m.careRecord) {
		it := m.items[s.item]
		derived = append(derived, s.id)
		md := buildDNDispense(m, it, mrs[s.item], s.supply)
		if s.id != it.id {
			md.Identifier = []fhir.Identifier{{System: fhir.SystemDispenseItemID, Value: core.LowerUUID(s.id)}}
		}
		md.ID = core.FreshID(newID)
		mds = append(mds, md)
		focus = append(focus, fhir.Reference{Reference: core.FullURL(md.ID)})
	}
	for _, md := range mds {
		b.Add(core.FullURL(md.ID), md)
	}
	b.Add(core.FullURL(org.ID), org)
	if m.agent.Parent != nil {
		b.Add(core.FullURL(m.agent.Parent.ID), m.agent.Parent)
	}

	orgODS := fhir.FindIdentifier(org.Identifier, fhir.SystemODS)
	mh.EventCoding = fhir.Coding{System: fhir.CodeSystemMessageEvent, Code: fhir.EventDispenseNotification, Display: "Dispense Notification"}
	dest := fhir.MessageDestination{}
	if m.recipient != "" {
		dest.Endpoint = core.DirectoryOrganizationURL + m.recipient
		dest.Receiver = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: m.recipient}, Display: m.recipientNm}
	}
	mh.Destination = []fhir.MessageDestination{dest}
	mh.Sender = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: orgODS}, Display: org.Name}
	mh.Source = &fhir.MessageSource{Name: org.Name, Endpoint: core.DirectoryOrganizationURL + orgODS}
	mh.Response = &fhir.MessageHeaderResponse{Identifier: core.LowerUUID(m.releaseEvent), Code: "ok"}
	mh.Focus = focus
	if m.replacementOf != "" {
		mh.Extension = append(mh.Extension, fhir.Extension{URL: core.ExtensionReplacementOf,
			ValueIdentifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: core.LowerUUID(m.replacementOf)}})
	}
	// The supply header's author time (when the pharmacy made the
	// notification) travels in Bundle.timestamp, the R4 element for when the
	// message was assembled, rather than in an extension of porxgate's own;
	// EPS itself writes its send time there in the v3 it makes.
	// Bundle.timestamp is an instant: a time of lower precision (a v3 TS
	// may be a date) stays in porxgate's extension.
	px := core.ExtensionBuilder{Name: pxDispenseNotification}
	if strings.Contains(m.authorTime, "T") {
		b.Timestamp = m.authorTime
	} else {
		px.DateTime("authorTime", m.authorTime)
	}
	if m.shID != m.id {
		px.ID("supplyHeaderId", m.shID)
	}
	if m.recipientCode != core.OrganizationTypeNotSpecified {
		px.String("recipientTypeCode", m.recipientCode)
	}
	px.String("recipientName", m.recipientNm)
	if !dspSameStrings(derived, m.careRecord) {
		for _, id := range m.careRecord {
			px.Subs = append(px.Subs, fhir.Extension{URL: "careRecordElement", ValueIdentifier: &fhir.Identifier{Value: id}})
		}
	}
	px.ID("predecessor", m.predecessor)
	mh.Extension = px.AppendTo(mh.Extension)
	return b
}

// dnSlot is one MedicationDispense to build: a supplied line item's
// supply (index into its supplies; 0 for one without), under a dispense
// item number.
type dnSlot struct {
	item, supply int
	id           string
}

// dnSupplyOrder orders the MedicationDispenses of the supplied line items.
// By default each item's supplies in turn, each under the item's id. When
// the care record list names one element per supply and reads as the EPS
// API writes it (one per MedicationDispense, in Bundle order: an item's
// first supply under the item's id, in the items' order, its further ones
// anywhere after under ids of their own), the MedicationDispenses follow
// that list and take its ids, so the EPS API gives the very message back;
// several items with supplies left take the further ids in item order.
func dnSupplyOrder(items []dnItem, care []string) []dnSlot {
	var def []dnSlot
	for i, it := range items {
		n := max(len(it.supplies), 1)
		for k := 0; k < n; k++ {
			def = append(def, dnSlot{item: i, supply: k, id: it.id})
		}
	}
	if len(care) != len(def) {
		return def
	}
	out := make([]dnSlot, 0, len(care))
	used := make([]int, len(items))
	started := 0
	for _, id := range care {
		if started < len(items) && strings.EqualFold(id, items[started].id) {
			out = append(out, dnSlot{item: started, supply: 0, id: items[started].id})
			used[started] = 1
			started++
			continue
		}
		i := 0
		for i < started && used[i] >= max(len(items[i].supplies), 1) {
			i++
		}
		if i == started {
			return def
		}
		out = append(out, dnSlot{item: i, supply: used[i], id: id})
		used[i]++
	}
	if started != len(items) {
		return def
	}
	return out
}

// buildDNRequest builds the contained MedicationRequest of a line item.
func buildDNRequest(m *dnMessage, it dnItem) *fhir.MedicationRequest {
	mr := &fhir.MedicationRequest{
		Base:                      fhir.Base{ResourceType: "MedicationRequest", ID: "m1"},
		Identifier:                []fhir.Identifier{{System: fhir.SystemLineItemID, Value: core.LowerUUID(it.origItem)}},
		Status:                    "active",
		Intent:                    "order",
		MedicationCodeableConcept: core.Concept(fhir.SystemSNOMED, it.requested),
		Subject:                   &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: m.nhs}},
		GroupIdentifier: &fhir.Identifier{
			Extension: []fhir.Extension{{URL: fhir.ExtensionPrescriptionID,
				ValueIdentifier: &fhir.Identifier{System: fhir.SystemLongFormID, Value: core.LowerUUID(m.longID)}}},
			System: fhir.SystemShortFormID,
			Value:  m.shortID,
		},
		DispenseRequest: &fhir.DispenseRequest{Quantity: core.AltQuantityToFHIR(it.request)},
	}
	if m.repeatLow != "" {
		mr.BasedOn = []fhir.Reference{{Extension: []fhir.Extension{dnRepeatExtension(m)}}}
	}
	if it.repeatLow != "" {
		issued := json.Number(it.repeatLow)
		mr.Extension = append(mr.Extension, fhir.Extension{URL: core.ExtensionUKCoreRepeatInformation, Extension: []fhir.Extension{
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
	ext, _ := core.RepeatExtension(m.repeatLow, m.repeatHigh)
	return ext
}

// buildDNDispense builds the MedicationDispense of supply k of a line item
// (k = 0 for an item without supplies).
func buildDNDispense(m *dnMessage, it dnItem, mr *fhir.MedicationRequest, k int) *fhir.MedicationDispense {
	md := &fhir.MedicationDispense{
		Base:                    fhir.Base{ResourceType: "MedicationDispense"},
		Identifier:              []fhir.Identifier{{System: fhir.SystemDispenseItemID, Value: core.LowerUUID(it.id)}},
		Status:                  dnDispenseStatus(it.status.Code),
		Subject:                 &fhir.Reference{Type: "Patient", Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: m.nhs}},
		AuthorizingPrescription: []fhir.Reference{{Reference: "#m1"}},
		Type:                    core.Concept(fhir.CodeSystemMedicationDispenseType, it.status),
		WhenHandedOver:          m.effective,
	}
	if t, err := core.FHIRDateTimeFromV3(m.effective); err == nil {
		md.WhenHandedOver = t
	}
	md.Contained = fhir.ResourceList{m.agent.Role, mr}
	md.Extension = append(md.Extension, fhir.Extension{URL: core.ExtensionTaskBusinessStatus,
		ValueCoding: &fhir.Coding{System: fhir.CodeSystemTaskBusinessStatus, Code: m.status.Code, Display: m.status.Display}})
	if m.ndr != nil {
		cd := core.Coding(core.CodeSystemDispenseStatusReason, *m.ndr)
		md.Extension = append(md.Extension, fhir.Extension{URL: core.ExtensionNonDispensingReason, ValueCoding: &cd})
	}
	if m.repeatLow != "" {
		md.Extension = append(md.Extension, dnRepeatExtension(m))
	}
	if it.ndr != nil {
		md.StatusReasonCodeableConcept = core.Concept(core.CodeSystemDispenseStatusReason, *it.ndr)
	}
	if k == 0 {
		px := core.ExtensionBuilder{Name: pxSuppliedLineItem}
		if it.requestCode.Code != it.request.Code || it.requestCode.Display != it.request.Unit {
			px.Coding("supplyRequestCode", it.requestCode)
		}
		if it.runningTotal != nil {
			px.Nested("runningTotal", it.runningTotal.Extension)
		}
		for _, ia := range it.intended {
			px.Nested("intendedAdministration", ia.Extension)
		}
		px.ID("predecessor", it.predecessor)
		md.Extension = px.AppendTo(md.Extension)
	}
	if len(it.supplies) == 0 {
		md.MedicationCodeableConcept = core.Concept(fhir.SystemSNOMED, it.requested)
		// EPS requires every MedicationDispense to name its performer
		// (bundle-validator.ts, verifyDispenseBundle), a supply-less one too.
		md.Performer = []fhir.DispensePerformer{{Actor: fhir.Reference{Reference: "#performer"}}}
		return md
	}
	s := it.supplies[k]
	md.MedicationCodeableConcept = core.Concept(fhir.SystemSNOMED, s.product)
	md.Performer = []fhir.DispensePerformer{{Actor: fhir.Reference{Reference: "#performer"}}}
	md.Quantity = core.AltQuantityToFHIR(s.qty)
	if len(s.instructions) > 0 {
		md.DosageInstruction = []fhir.Dosage{{Text: s.instructions[0]}}
	}
	px := core.ExtensionBuilder{Name: pxSuppliedQuantity}
	if s.additional != nil {
		px.Nested("additionalInstructions", s.additional.Extension)
	}
	for _, more := range s.instructions[min(1, len(s.instructions)):] {
		px.String("supplyInstruction", more)
	}
	md.Extension = px.AppendTo(md.Extension)
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
