package claim

import (
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// Dispense Claim, v3 → FHIR: building the Claim from what was read.

// buildClaim builds the EPS-shaped Claim.
func buildClaim(m *claimMessage, newID func() string) *fhir.Claim {
	claim := &fhir.Claim{
		Base:       fhir.Base{ResourceType: "Claim", ID: core.FreshID(newID)},
		Identifier: []fhir.Identifier{{System: fhir.SystemRFC4122, Value: core.LowerUUID(m.id)}},
		Status:     "active",
		Type:       &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemClaimType, Code: "pharmacy", Display: "Pharmacy"}}},
		Use:        "claim",
		Patient: &fhir.Reference{Extension: []fhir.Extension{{URL: core.ExtensionDataAbsentReason, ValueCode: core.StringPtr("not-applicable")}},
			Display: "the v3 claim names no patient"},
		Provider: &fhir.Reference{Reference: "#performer"},
		Priority: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemProcessPriority, Code: "normal"}}},
		Prescription: &fhir.Reference{Extension: []fhir.Extension{{URL: core.ExtensionGroupIdentifier, Extension: []fhir.Extension{
			{URL: "shortForm", ValueIdentifier: &fhir.Identifier{System: fhir.SystemShortFormID, Value: m.shortID}},
			{URL: "UUID", ValueIdentifier: &fhir.Identifier{System: fhir.SystemLongFormID, Value: core.LowerUUID(m.longID)}},
		}}}},
		Payee: &fhir.ClaimPayee{
			Type:  &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemPayeeType, Code: "provider", Display: "Provider"}}},
			Party: &fhir.Reference{Reference: "#organization"},
		},
		Insurance: []fhir.ClaimInsurance{{Sequence: 1, Focal: true, Coverage: fhir.Reference{
			Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: m.recipient}, Display: m.recipientName}}},
	}
	if created, err := core.FHIRDateTimeFromV3(m.effective); err == nil {
		claim.Created = created
	}
	if m.agent != nil && m.agent.Organization != nil {
		org := m.agent.Organization
		org.ID = "organization"
		m.agent.Role.Organization = &fhir.Reference{Reference: "#organization"}
		claim.Contained = fhir.ResourceList{m.agent.Role}
		claim.Contained = append(claim.Contained, org)
		if p := m.agent.Parent; p != nil {
			p.ID = "parentOrganization"
			org.PartOf = &fhir.Reference{Reference: "#parentOrganization"}
			claim.Contained = append(claim.Contained, p)
		}
	}
	if m.replacementOf != "" {
		claim.Extension = append(claim.Extension, fhir.Extension{URL: core.ExtensionReplacementOf,
			ValueIdentifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: core.LowerUUID(m.replacementOf)}})
	}
	px := core.ExtensionBuilder{Name: pxDispenseClaim}
	if m.shID != m.id {
		px.ID("supplyHeaderId", m.shID)
	}
	if m.laTime != m.effective {
		if t, err := core.FHIRDateTimeFromV3(m.laTime); err == nil {
			px.DateTime("legalAuthenticatorTime", t)
		}
	}
	if m.recipientCode != core.OrganizationTypeNotSpecified {
		px.String("recipientTypeCode", m.recipientCode)
	}
	if m.receiver != nil {
		px.Nested("receiver", m.receiver.Extension)
	}
	px.ID("predecessor", m.predecessor)
	px.ID("claimRejectRef", m.rejectRef)
	if core.UpperUUID(m.releaseEvent) != core.ClaimReleasePlaceholder {
		px.ID("releaseEventId", m.releaseEvent)
	}
	claim.Extension = px.AppendTo(claim.Extension)

	item := fhir.ClaimItem{
		Sequence:         1,
		ProductOrService: fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.SystemSNOMED, Code: claimCodeProduct, Display: claimNameProduct}}},
	}
	item.Extension = append(item.Extension, fhir.Extension{URL: core.ExtensionTaskBusinessStatus,
		ValueCoding: &fhir.Coding{System: fhir.CodeSystemTaskBusinessStatus, Code: m.status.Code, Display: m.status.Display}})
	if m.ndr != nil {
		cd := core.Coding(core.CodeSystemDispenseStatusReason, *m.ndr)
		item.Extension = append(item.Extension, fhir.Extension{URL: core.ExtensionTaskBusinessStatusReason, ValueCoding: &cd})
	}
	if m.repeatLow != "" {
		if ext, ok := core.RepeatExtension(m.repeatLow, m.repeatHigh); ok {
			item.Extension = append(item.Extension, ext)
		}
	}
	if m.exemption != nil {
		item.ProgramCode = append(item.ProgramCode, *core.Concept(core.CodeSystemChargeExemption, *m.exemption))
	}
	if m.evidenceSeen != nil {
		cd := fhir.Coding{System: core.CodeSystemExemptionEvidence, Code: "no-evidence-seen", Display: "No Evidence Seen"}
		if *m.evidenceSeen {
			cd = fhir.Coding{System: core.CodeSystemExemptionEvidence, Code: "evidence-seen", Display: "Evidence Seen"}
		}
		item.ProgramCode = append(item.ProgramCode, fhir.CodeableConcept{Coding: []fhir.Coding{cd}})
	}
	for i, it := range m.items {
		item.Detail = append(item.Detail, buildClaimDetail(it, i, m.repeatLow != ""))
	}
	claim.Item = []fhir.ClaimItem{item}
	return claim
}

// buildClaimDetail builds the Claim.item.detail of a supplied line item.
// headerRepeat says whether the supply header has a repeatNumber: without
// one, the EPS API takes a line item's repeat from its first subDetail (the
// older location, dispense-claim.ts), so it goes there, and a line item
// without supplies keeps it in porxgate's extension.
func buildClaimDetail(it claimItem, i int, headerRepeat bool) fhir.ClaimDetail {
	d := fhir.ClaimDetail{
		Sequence: i + 1,
		Modifier: []fhir.CodeableConcept{*core.Concept(fhir.CodeSystemMedicationDispenseType, it.status)},
	}
	d.Extension = append(d.Extension,
		fhir.Extension{URL: core.ExtensionClaimSequenceIdentifier, ValueIdentifier: &fhir.Identifier{System: core.SystemClaimSequence, Value: core.LowerUUID(it.id)}},
		fhir.Extension{URL: core.ExtensionClaimMedicationRequest, ValueReference: &fhir.Reference{
			Identifier: &fhir.Identifier{System: fhir.SystemLineItemID, Value: core.LowerUUID(it.origItem)}}},
	)
	if it.ndr != nil {
		cd := core.Coding(core.CodeSystemDispenseStatusReason, *it.ndr)
		d.Extension = append(d.Extension, fhir.Extension{URL: core.ExtensionTaskBusinessStatusReason, ValueCoding: &cd})
	}
	lineRepeat, hasLineRepeat := fhir.Extension{}, false
	if it.repeatLow != "" {
		lineRepeat, hasLineRepeat = core.RepeatExtension(it.repeatLow, it.repeatHigh)
	}
	if hasLineRepeat && headerRepeat {
		d.Extension = append(d.Extension, lineRepeat)
	}
	px := core.ExtensionBuilder{Name: pxClaimLineItem}
	if hasLineRepeat && !headerRepeat && len(it.supplies) == 0 {
		px.Nested("repeatInformation", lineRepeat.Extension)
	}
	if it.runningTotal != nil {
		px.Nested("runningTotal", it.runningTotal.Extension)
	}
	px.ID("predecessor", it.predecessor)
	d.Extension = px.AppendTo(d.Extension)
	if len(it.supplies) == 0 {
		d.ProductOrService = fhir.CodeableConcept{Extension: []fhir.Extension{{URL: core.ExtensionDataAbsentReason, ValueCode: core.StringPtr("not-applicable")}}}
		// As the EPS API's own claims give a detail without subDetails: no
		// charge paid and no dispenser endorsement. Neither reaches v3 (the
		// EPS API writes both per supply), but its claim validator refuses
		// a Claim in which no detail names an endorsement.
		d.ProgramCode = []fhir.CodeableConcept{
			{Coding: []fhir.Coding{{System: core.CodeSystemPrescriptionCharge, Code: "not-paid", Display: "Not Paid"}}},
			{Coding: []fhir.Coding{{System: core.CodeSystemDispenseEndorsement, Code: claimNoEndorsement, Display: claimNameNoEndorsement}}},
		}
		return d
	}
	first := it.supplies[0]
	d.ProductOrService = *core.Concept(fhir.SystemSNOMED, first.product)
	for _, e := range first.ends {
		cc := fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemDispenseEndorsement, Code: e.code}}, Text: e.text}
		d.ProgramCode = append(d.ProgramCode, cc)
	}
	charge := fhir.Coding{System: core.CodeSystemPrescriptionCharge, Code: "not-paid", Display: "Not Paid"}
	if first.charge {
		charge = fhir.Coding{System: core.CodeSystemPrescriptionCharge, Code: "paid-once", Display: "Paid Once"}
	}
	d.ProgramCode = append(d.ProgramCode, fhir.CodeableConcept{Coding: []fhir.Coding{charge}})
	for k, s := range it.supplies {
		sd := fhir.ClaimSubDetail{
			Sequence:         k + 1,
			ProductOrService: *core.Concept(fhir.SystemSNOMED, s.product),
			Quantity:         core.AltQuantityToFHIR(s.qty),
		}
		if k == 0 && hasLineRepeat && !headerRepeat {
			sd.Extension = append(sd.Extension, lineRepeat)
		}
		spx := core.ExtensionBuilder{Name: pxClaimSupply}
		if s.charge != first.charge {
			spx.String("chargePaid", dspBoolString(s.charge))
		}
		if !sameEndorsements(s.ends, first.ends) {
			for _, e := range s.ends {
				var eb core.ExtensionBuilder
				eb.String("code", e.code)
				eb.String("text", e.text)
				spx.Nested("endorsement", eb.Subs)
			}
		}
		sd.Extension = spx.AppendTo(sd.Extension)
		d.SubDetail = append(d.SubDetail, sd)
	}
	return d
}

// sameEndorsements reports whether two endorsement lists are equal.
func sameEndorsements(a, b []claimEndorsement) bool {
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
