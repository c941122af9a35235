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
	rel := v3.AddFixed(sh, fixedLineItemRel)
	v3.AddFixed(rel, core.FixedNotSeparatable)
	v3.AddFixed(rel, core.FixedLineItemTemplate)
	li := v3.AddFixed(rel, fixedSuppliedLineItem)
	v3.AddII(li, "id", c.UpperUUID(g.itemID), "")
	v3.AddFixed(li, core.FixedAdministrationCode)
	v3.AddFixed(li, core.FixedEffectiveTimeNA)
	if low, high, ok := dnItemRepeat(c, first, mr); ok {
		core.AddInterval(li, "repeatNumber", low, high)
	}
	mat := v3.AddFixed(v3.AddFixed(v3.AddFixed(li, fixedConsumable), fixedRequestedProduct), core.FixedRequestedMaterial)
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
	c1 := v3.AddFixed(li, core.FixedComponent1)
	v3.AddFixed(c1, core.FixedNotSeparatable)
	srq := v3.AddFixed(c1, fixedSupplyRequest)
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
			core.AddCV(core.AddFixedAnnotation(li, annotationNonDispensing), "value", *cd, core.OIDNonDispensingReason)
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
	core.AddCV(core.AddFixedAnnotation(li, annotationItemStatus), "value", *status, v3.OIDItemStatus)
	for _, ia := range core.SubExtensions(px, "intendedAdministration") {
		core.AddRef(li, "inFulfillmentOf1", fulfils, "true", core.TemplateSourceOf1,
			"priorIntendedMedicationAdministrationRef", "SBADM", core.SubExtensionString(&ia, "moodCode"), core.SubExtensionString(&ia, "id"))
	}
	itemRef := c.RequireIdentifierAt(mr.Identifier, fhir.SystemLineItemID, mrPath, ".identifier")
	core.AddFixedRef(li, refOriginalItem, itemRef)
	if v := core.SubExtensionString(px, "predecessor"); v != "" {
		core.AddFixedRef(li, refPriorSuppliedLineItem, v)
	}
}

// The supplied line items' and supplies' elements whose names and
// attributes are fixed (see v3.Fixed).
var (
	fixedLineItemRel      = v3.NewFixed("pertinentInformation1", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	fixedSuppliedLineItem = v3.NewFixed("pertinentSuppliedLineItem", "classCode", "SBADM", "moodCode", "PRMS")
	fixedConsumable       = v3.NewFixed("consumable", "contextControlCode", "OP", "typeCode", "CSM")
	fixedRequestedProduct = v3.NewFixed("requestedManufacturedProduct", "classCode", "MANU")
	fixedSupplyRequest    = v3.NewFixed("supplyRequest", "classCode", "SPLY", "moodCode", "RQO")
	fixedSuppliedQuantity = v3.NewFixed("suppliedLineItemQuantity", "classCode", "SPLY", "moodCode", "EVN")
	fixedSuppliedProduct  = v3.NewFixed("suppliedManufacturedProduct", "classCode", "MANU")
	fixedSuppliedMaterial = v3.NewFixed("manufacturedSuppliedMaterial", "classCode", "MMAT", "determinerCode", "INSTANCE")

	// annotationNonDispensing is the non-dispensing reason, of the
	// prescription (write.go) and of a line item alike.
	annotationNonDispensing      = core.NewFixedAnnotation("pertinentInformation2", "false", "pertinentNonDispensingReason", "NDR")
	annotationItemStatus         = core.NewFixedAnnotation("pertinentInformation3", "false", "pertinentItemStatus", "IS")
	annotationSupplyInstructions = core.NewFixedAnnotation("pertinentInformation1", "false", "pertinentSupplyInstructions", "SI")

	refOriginalItem          = core.NewFixedRef("inFulfillmentOf", fulfils, "true", core.TemplateSourceOf1, "priorOriginalItemRef", "SBADM", "RQO")
	refPriorSuppliedLineItem = core.NewFixedRef("predecessor", succeeds, "false", core.TemplateSourceOf1, "priorSuppliedLineItemRef", "SBADM", "PRMS")
)

// dnWriteSupply writes one component/suppliedLineItemQuantity.
func dnWriteSupply(c *core.BundleContext, li *etree.Element, d dnDispense) {
	comp := v3.AddFixed(li, core.FixedComponent)
	v3.AddFixed(comp, core.FixedNotSeparatable)
	q := v3.AddFixed(comp, fixedSuppliedQuantity)
	v3.AddFixed(q, core.FixedDispensingCode)
	core.AddAltQuantity(q, core.AltQuantityFromFHIRAt(c, d.md.Quantity, d.path, ".quantity"))
	mat := v3.AddFixed(v3.AddFixed(v3.AddFixed(q, core.FixedProduct), fixedSuppliedProduct), fixedSuppliedMaterial)
	core.AddCV(mat, "code", core.MedicationSNOMED(c, d.md.MedicationCodeableConcept, d.md.MedicationReference, d.path), core.V3SNOMED)
	px := core.PorxgateExtension(d.md.Extension, pxSuppliedQuantity)
	if ai := core.SubExtensions(px, "additionalInstructions"); len(ai) > 0 {
		WriteObservation(q, "pertinentInformation2", "pertinentAdditionalInstructions", ai[0])
	}
	text := core.DosageTextAt(c, d.md.DosageInstruction, d.path, ".dosageInstruction")
	si := core.AddFixedAnnotation(q, annotationSupplyInstructions)
	v3.AddText(si, "value", text)
	for _, more := range core.SubExtensions(px, "supplyInstruction") {
		if more.ValueString != nil {
			v3.AddText(core.AddFixedAnnotation(q, annotationSupplyInstructions), "value", *more.ValueString)
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
