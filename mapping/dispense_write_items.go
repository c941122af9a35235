package mapping

import (
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Notification, FHIR → v3: the supplied line items and their
// supplies.

// dnWriteLineItem writes one pertinentSuppliedLineItem for a group of
// MedicationDispenses sharing a dispense item number.
func dnWriteLineItem(c *BundleContext, sh *etree.Element, g dnGroup) {
	first := g.mds[0]
	mr := dnRequest(c, first)
	if mr == nil {
		return
	}
	mrPath := first.path + ".authorizingPrescription"
	px := pxGet(first.md.Extension, pxSuppliedLineItem)
	rel := v3.Add(sh, "pertinentInformation1", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	dspAddTemplate(rel, tplSourceOf2)
	li := v3.Add(rel, "pertinentSuppliedLineItem", "classCode", "SBADM", "moodCode", "PRMS")
	v3.AddII(li, "id", upperUUID(g.itemID), "")
	v3.AddCV(li, "code", codeAdministration, v3SNOMED, nameAdministration)
	v3.Add(li, "effectiveTime", "nullFlavor", dspNullNA)
	if low, high, ok := dnItemRepeat(c, first, mr); ok {
		dspAddInterval(li, "repeatNumber", low, high)
	}
	mat := v3.Add(v3.Add(v3.Add(li, "consumable", "contextControlCode", "OP", "typeCode", "CSM"), "requestedManufacturedProduct", "classCode", "MANU"),
		"manufacturedRequestedMaterial", "classCode", "MMAT", "determinerCode", "KIND")
	dspAddCV(mat, "code", dspSNOMED(c, mr.MedicationCodeableConcept, mrPath+".medicationCodeableConcept"), v3SNOMED)
	for _, d := range g.mds {
		if d.md.Quantity != nil {
			dnWriteSupply(c, li, d)
		}
	}
	var dr fhir.DispenseRequest
	if mr.DispenseRequest != nil {
		dr = *mr.DispenseRequest
	}
	req := dspQuantityFromFHIR(c, dr.Quantity, mrPath+".dispenseRequest.quantity")
	c1 := v3.Add(li, "component1", "typeCode", "COMP")
	v3.AddValue(c1, "seperatableInd", "false")
	srq := v3.Add(c1, "supplyRequest", "classCode", "SPLY", "moodCode", "RQO")
	code := fhir.Coding{Code: req.Code, Display: req.Unit}
	if subs := pxSub(px, "supplyRequestCode"); len(subs) > 0 && subs[0].ValueCoding != nil {
		code = *subs[0].ValueCoding
	}
	dspAddCV(srq, "code", code, v3SNOMED)
	dspAddQuantity(srq, req)
	if rt := pxSub(px, "runningTotal"); len(rt) > 0 {
		dspWriteObservation(li, "pertinentInformation1", "pertinentRunningTotal", rt[0])
	}
	if sr := first.md.StatusReasonCodeableConcept; sr != nil {
		if cd := c.Coding([]fhir.CodeableConcept{*sr}, CodeSystemDispenseStatusReason, first.path+".statusReasonCodeableConcept.coding"); cd != nil {
			dspAddCV(addAnnotation(li, "pertinentInformation2", "false", "pertinentNonDispensingReason", "NDR"), "value", *cd, oidNonDispensingReason)
		}
	}
	var status *fhir.Coding
	if first.md.Type != nil {
		status = c.Coding([]fhir.CodeableConcept{*first.md.Type}, fhir.CodeSystemMedicationDispenseType, first.path+".type.coding")
	}
	if status == nil {
		c.Fail(first.path+".type", "missing mandatory item status (%s)", fhir.CodeSystemMedicationDispenseType)
		return
	}
	dspAddCV(addAnnotation(li, "pertinentInformation3", "false", "pertinentItemStatus", "IS"), "value", *status, v3.OIDItemStatus)
	for _, ia := range pxSub(px, "intendedAdministration") {
		dspAddRef(li, "inFulfillmentOf1", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", dspTplSourceOf1,
			"priorIntendedMedicationAdministrationRef", "SBADM", pxString(&ia, "moodCode"), pxString(&ia, "id"))
	}
	itemRef := c.RequireIdentifier(mr.Identifier, fhir.SystemLineItemID, mrPath+".identifier")
	dspAddRef(li, "inFulfillmentOf", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", dspTplSourceOf1,
		"priorOriginalItemRef", "SBADM", "RQO", itemRef)
	if v := pxString(px, "predecessor"); v != "" {
		dspAddRef(li, "predecessor", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "SUCC"}, "false", dspTplSourceOf1,
			"priorSuppliedLineItemRef", "SBADM", "PRMS", v)
	}
}

// dnWriteSupply writes one component/suppliedLineItemQuantity.
func dnWriteSupply(c *BundleContext, li *etree.Element, d dnDispense) {
	comp := v3.Add(li, "component", "typeCode", "COMP")
	v3.AddValue(comp, "seperatableInd", "false")
	q := v3.Add(comp, "suppliedLineItemQuantity", "classCode", "SPLY", "moodCode", "EVN")
	v3.AddCV(q, "code", codeDispensing, v3SNOMED, nameDispensing)
	dspAddQuantity(q, dspQuantityFromFHIR(c, d.md.Quantity, d.path+".quantity"))
	mat := v3.Add(v3.Add(v3.Add(q, "product", "contextControlCode", "OP", "typeCode", "PRD"), "suppliedManufacturedProduct", "classCode", "MANU"),
		"manufacturedSuppliedMaterial", "classCode", "MMAT", "determinerCode", "INSTANCE")
	dspAddCV(mat, "code", dspSNOMED(c, d.md.MedicationCodeableConcept, d.path+".medicationCodeableConcept"), v3SNOMED)
	px := pxGet(d.md.Extension, pxSuppliedQuantity)
	if ai := pxSub(px, "additionalInstructions"); len(ai) > 0 {
		dspWriteObservation(q, "pertinentInformation2", "pertinentAdditionalInstructions", ai[0])
	}
	text := dosageText(c, d.md.DosageInstruction, d.path+".dosageInstruction")
	si := addAnnotation(q, "pertinentInformation1", "false", "pertinentSupplyInstructions", "SI")
	v3.AddText(si, "value", text)
	for _, more := range pxSub(px, "supplyInstruction") {
		if more.ValueString != nil {
			v3.AddText(addAnnotation(q, "pertinentInformation1", "false", "pertinentSupplyInstructions", "SI"), "value", *more.ValueString)
		}
	}
}

// dnItemRepeat returns a supplied line item's repeatNumber as the EPS API
// writes it: whenever the contained MedicationRequest carries the UKCore
// numberOfPrescriptionsIssued, low is that number and high
// dispenseRequest.numberOfRepeatsAllowed + 1 (docs/mappings/conventions.md).
func dnItemRepeat(c *BundleContext, d dnDispense, mr *fhir.MedicationRequest) (low, high string, ok bool) {
	ext := fhir.FindExtension(mr.Extension, ExtensionUKCoreRepeatInformation)
	if ext == nil || mr.DispenseRequest == nil || mr.DispenseRequest.NumberOfRepeatsAllowed == nil {
		return "", "", false
	}
	issued := fhir.FindExtension(ext.Extension, "numberOfPrescriptionsIssued")
	if issued == nil {
		return "", "", false
	}
	num := issued.ValueUnsignedInt
	if num == nil {
		num = issued.ValueInteger
	}
	if num == nil {
		c.Fail(d.path+".authorizingPrescription.extension", "numberOfPrescriptionsIssued has no value")
		return "", "", false
	}
	allowed, err := strconv.Atoi(string(*mr.DispenseRequest.NumberOfRepeatsAllowed))
	if err != nil || allowed < 0 {
		c.Fail(d.path+".authorizingPrescription.dispenseRequest.numberOfRepeatsAllowed", "%q is not a whole number", *mr.DispenseRequest.NumberOfRepeatsAllowed)
		return "", "", false
	}
	return string(*num), strconv.Itoa(allowed + 1), true
}

// dspWriteObservation writes a porxgate-kept <rel typeCode=PERT
// contextConductionInd=true><seperatableInd value=false/><act OBS EVN><code/>
// <value/></act></rel> from its extension (code: valueCoding with the code
// system in Coding.system; value: valueString as text or valueQuantity as a
// PQ).
func dspWriteObservation(parent *etree.Element, tag, act string, ext fhir.Extension) {
	rel := v3.Add(parent, tag, "contextConductionInd", "true", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	a := v3.Add(rel, act, "classCode", "OBS", "moodCode", "EVN")
	if cs := pxSub(&ext, "code"); len(cs) > 0 && cs[0].ValueCoding != nil {
		v3.AddCV(a, "code", cs[0].ValueCoding.Code, cs[0].ValueCoding.System, cs[0].ValueCoding.Display)
	}
	for _, v := range pxSub(&ext, "value") {
		switch {
		case v.ValueString != nil:
			v3.AddText(a, "value", *v.ValueString)
		case v.ValueQuantity != nil:
			el := v3.Add(a, "value", "value", string(v.ValueQuantity.Value))
			if v.ValueQuantity.Unit != "" {
				el.CreateAttr("unit", v.ValueQuantity.Unit)
			}
		}
	}
}
