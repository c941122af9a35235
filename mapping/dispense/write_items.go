package dispense

import (
	"strconv"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Notification, FHIR → v3: the supplied line items and their
// supplies.

// dnWriteLineItem writes one pertinentSuppliedLineItem for a group of
// MedicationDispenses sharing a dispense item number.
func dnWriteLineItem(c *core.BundleContext, sh *etree.Element, g dnGroup) {
	first := g.mds[0]
	mr := dnRequest(c, first)
	if mr == nil {
		return
	}
	mrPath := first.path + ".authorizingPrescription"
	px := core.PorxgateExtension(first.md.Extension, pxSuppliedLineItem)
	rel := v3.Add(sh, "pertinentInformation1", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	core.AddTemplate(rel, core.TemplateSourceOf2)
	li := v3.Add(rel, "pertinentSuppliedLineItem", "classCode", "SBADM", "moodCode", "PRMS")
	v3.AddII(li, "id", c.UpperUUID(g.itemID), "")
	v3.AddCV(li, "code", core.CodeAdministration, core.V3SNOMED, core.NameAdministration)
	v3.Add(li, "effectiveTime", "nullFlavor", core.NullNA)
	if low, high, ok := dnItemRepeat(c, first, mr); ok {
		core.AddInterval(li, "repeatNumber", low, high)
	}
	mat := v3.Add(v3.Add(v3.Add(li, "consumable", "contextControlCode", "OP", "typeCode", "CSM"), "requestedManufacturedProduct", "classCode", "MANU"),
		"manufacturedRequestedMaterial", "classCode", "MMAT", "determinerCode", "KIND")
	core.AddCV(mat, "code", core.MedicationSNOMED(c, mr.MedicationCodeableConcept, mr.MedicationReference, mrPath), core.V3SNOMED)
	for _, d := range g.mds {
		if d.md.Quantity != nil {
			dnWriteSupply(c, li, d)
		}
	}
	var dr fhir.DispenseRequest
	if mr.DispenseRequest != nil {
		dr = *mr.DispenseRequest
	}
	req := core.AltQuantityFromFHIRAt(c, dr.Quantity, mrPath, ".dispenseRequest.quantity")
	c1 := v3.Add(li, "component1", "typeCode", "COMP")
	v3.AddValue(c1, "seperatableInd", "false")
	srq := v3.Add(c1, "supplyRequest", "classCode", "SPLY", "moodCode", "RQO")
	code := fhir.Coding{Code: req.Code, Display: req.Unit}
	if subs := core.SubExtensions(px, "supplyRequestCode"); len(subs) > 0 && subs[0].ValueCoding != nil {
		code = *subs[0].ValueCoding
	}
	if code.Code == "" { // a unit without a code: none, as the EPS API writes it
		v3.Add(srq, "code", "codeSystem", core.V3SNOMED, "displayName", code.Display)
	} else {
		core.AddCV(srq, "code", code, core.V3SNOMED)
	}
	core.AddAltQuantity(srq, req)
	if rt := core.SubExtensions(px, "runningTotal"); len(rt) > 0 {
		WriteObservation(li, "pertinentInformation1", "pertinentRunningTotal", rt[0])
	}
	if sr := first.md.StatusReasonCodeableConcept; sr != nil {
		if cd := c.CodingAt(unsafe.Slice(sr, 1), core.CodeSystemDispenseStatusReason, first.path, ".statusReasonCodeableConcept.coding"); cd != nil {
			core.AddCV(core.AddAnnotation(li, "pertinentInformation2", "false", "pertinentNonDispensingReason", "NDR"), "value", *cd, core.OIDNonDispensingReason)
		}
	}
	var status *fhir.Coding
	if first.md.Type != nil {
		status = c.CodingAt(unsafe.Slice(first.md.Type, 1), fhir.CodeSystemMedicationDispenseType, first.path, ".type.coding")
	}
	if status == nil {
		c.Fail(first.path+".type", "missing mandatory item status (%s)", fhir.CodeSystemMedicationDispenseType)
		return
	}
	core.AddCV(core.AddAnnotation(li, "pertinentInformation3", "false", "pertinentItemStatus", "IS"), "value", *status, v3.OIDItemStatus)
	for _, ia := range core.SubExtensions(px, "intendedAdministration") {
		core.AddRef(li, "inFulfillmentOf1", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", core.TemplateSourceOf1,
			"priorIntendedMedicationAdministrationRef", "SBADM", core.SubExtensionString(&ia, "moodCode"), core.SubExtensionString(&ia, "id"))
	}
	itemRef := c.RequireIdentifierAt(mr.Identifier, fhir.SystemLineItemID, mrPath, ".identifier")
	core.AddRef(li, "inFulfillmentOf", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", core.TemplateSourceOf1,
		"priorOriginalItemRef", "SBADM", "RQO", itemRef)
	if v := core.SubExtensionString(px, "predecessor"); v != "" {
		core.AddRef(li, "predecessor", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "SUCC"}, "false", core.TemplateSourceOf1,
			"priorSuppliedLineItemRef", "SBADM", "PRMS", v)
	}
}

// dnWriteSupply writes one component/suppliedLineItemQuantity.
func dnWriteSupply(c *core.BundleContext, li *etree.Element, d dnDispense) {
	comp := v3.Add(li, "component", "typeCode", "COMP")
	v3.AddValue(comp, "seperatableInd", "false")
	q := v3.Add(comp, "suppliedLineItemQuantity", "classCode", "SPLY", "moodCode", "EVN")
	v3.AddCV(q, "code", core.CodeDispensing, core.V3SNOMED, core.NameDispensing)
	core.AddAltQuantity(q, core.AltQuantityFromFHIRAt(c, d.md.Quantity, d.path, ".quantity"))
	mat := v3.Add(v3.Add(v3.Add(q, "product", "contextControlCode", "OP", "typeCode", "PRD"), "suppliedManufacturedProduct", "classCode", "MANU"),
		"manufacturedSuppliedMaterial", "classCode", "MMAT", "determinerCode", "INSTANCE")
	core.AddCV(mat, "code", core.MedicationSNOMED(c, d.md.MedicationCodeableConcept, d.md.MedicationReference, d.path), core.V3SNOMED)
	px := core.PorxgateExtension(d.md.Extension, pxSuppliedQuantity)
	if ai := core.SubExtensions(px, "additionalInstructions"); len(ai) > 0 {
		WriteObservation(q, "pertinentInformation2", "pertinentAdditionalInstructions", ai[0])
	}
	text := core.DosageTextAt(c, d.md.DosageInstruction, d.path, ".dosageInstruction")
	si := core.AddAnnotation(q, "pertinentInformation1", "false", "pertinentSupplyInstructions", "SI")
	v3.AddText(si, "value", text)
	for _, more := range core.SubExtensions(px, "supplyInstruction") {
		if more.ValueString != nil {
			v3.AddText(core.AddAnnotation(q, "pertinentInformation1", "false", "pertinentSupplyInstructions", "SI"), "value", *more.ValueString)
		}
	}
}

// dnItemRepeat returns a supplied line item's repeatNumber as the EPS API
// writes it: whenever the contained MedicationRequest carries the UKCore
// numberOfPrescriptionsIssued, low is that number and high
// dispenseRequest.numberOfRepeatsAllowed + 1 (docs/mappings/conventions.md).
func dnItemRepeat(c *core.BundleContext, d dnDispense, mr *fhir.MedicationRequest) (low, high string, ok bool) {
	ext := fhir.FindExtension(mr.Extension, core.ExtensionUKCoreRepeatInformation)
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

// WriteObservation writes a porxgate-kept <rel typeCode=PERT
// contextConductionInd=true><seperatableInd value=false/><act OBS EVN><code/>
// <value/></act></rel> from its extension (code: valueCoding with the code
// system in Coding.system; value: valueString as text or valueQuantity as a
// PQ).
func WriteObservation(parent *etree.Element, tag, act string, ext fhir.Extension) {
	rel := v3.Add(parent, tag, "contextConductionInd", "true", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	a := v3.Add(rel, act, "classCode", "OBS", "moodCode", "EVN")
	if cs := core.SubExtensions(&ext, "code"); len(cs) > 0 && cs[0].ValueCoding != nil {
		v3.AddCV(a, "code", cs[0].ValueCoding.Code, cs[0].ValueCoding.System, cs[0].ValueCoding.Display)
	}
	for _, v := range core.SubExtensions(&ext, "value") {
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
