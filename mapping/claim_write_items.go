package mapping

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Dispense Claim, FHIR → v3: supplied line items (Claim.item.detail) and
// their supplies (detail.subDetail).

// claimEndorsement is one dispensing endorsement: code and supporting text.
type claimEndorsement struct {
	code, text string
}

// claimWriteLineItem writes one pertinentSuppliedLineItem for a detail.
// deprecated takes the line item's repeat information from its first
// subDetail (the older EPS location).
func claimWriteLineItem(c *BundleContext, sh *etree.Element, d *fhir.ClaimDetail, path string, deprecated bool) {
	px := pxGet(d.Extension, pxClaimLineItem)
	rel := v3.Add(sh, "pertinentInformation1", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	dspAddTemplate(rel, tplSourceOf2)
	li := v3.Add(rel, "pertinentSuppliedLineItem", "classCode", "SBADM", "moodCode", "PRMS")
	seq := c.Extension(d.Extension, ExtensionClaimSequenceIdentifier, path+".extension")
	if seq == nil || seq.ValueIdentifier == nil || seq.ValueIdentifier.Value == "" {
		c.Fail(path+".extension", "missing mandatory extension %s", ExtensionClaimSequenceIdentifier)
		return
	}
	v3.AddII(li, "id", upperUUID(seq.ValueIdentifier.Value), "")
	v3.AddCV(li, "code", codeAdministration, v3SNOMED, nameAdministration)
	v3.Add(li, "effectiveTime", "nullFlavor", dspNullNA)
	if deprecated {
		if len(d.SubDetail) > 0 {
			if ext := fhir.FindExtension(d.SubDetail[0].Extension, ExtensionEPSRepeatInformation); ext != nil {
				claimAddRepeat(c, li, ext, path+".subDetail[0].extension")
			}
		}
	} else if ext := c.Extension(d.Extension, ExtensionEPSRepeatInformation, path+".extension"); ext != nil {
		claimAddRepeat(c, li, ext, path+".extension")
	}
	if len(d.SubDetail) > 0 {
		charge, chargeOK := claimChargePaid(c, d.ProgramCode, path+".programCode")
		ends := claimEndorsements(d.ProgramCode)
		if len(ends) == 0 && pxGet(d.SubDetail[0].Extension, pxClaimSupply) == nil {
			c.Fail(path+".programCode", "missing mandatory dispensing endorsement (%s)", CodeSystemDispenseEndorsement)
		}
		for i := range d.SubDetail {
			sd := &d.SubDetail[i]
			claimWriteSupply(c, li, sd, indexed(path+".subDetail", i), charge, chargeOK, ends)
		}
	}
	if rt := pxSub(px, "runningTotal"); len(rt) > 0 {
		dspWriteObservation(li, "pertinentInformation1", "pertinentRunningTotal", rt[0])
	}
	if ndr := dspExtCoding(c, d.Extension, ExtensionTaskBusinessStatusReason, path+".extension"); ndr != nil {
		dspAddCV(addAnnotation(li, "pertinentInformation2", "false", "pertinentNonDispensingReason", "NDR"), "value", *ndr, oidNonDispensingReason)
	}
	status := c.Coding(d.Modifier, fhir.CodeSystemMedicationDispenseType, path+".modifier")
	if status == nil {
		c.Fail(path+".modifier", "missing mandatory item status (%s)", fhir.CodeSystemMedicationDispenseType)
		return
	}
	dspAddCV(addAnnotation(li, "pertinentInformation3", "false", "pertinentItemStatus", "IS"), "value", *status, v3.OIDItemStatus)
	ref := c.Extension(d.Extension, ExtensionClaimMedicationRequest, path+".extension")
	if ref == nil || ref.ValueReference == nil || ref.ValueReference.Identifier == nil || ref.ValueReference.Identifier.Value == "" {
		c.Fail(path+".extension", "missing mandatory extension %s", ExtensionClaimMedicationRequest)
		return
	}
	dspAddRef(li, "inFulfillmentOf", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", dspTplSourceOf1,
		"priorOriginalItemRef", "SBADM", "RQO", ref.ValueReference.Identifier.Value)
	if v := pxString(px, "predecessor"); v != "" {
		dspAddRef(li, "predecessor", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "SUCC"}, "false", dspTplSourceOf1,
			"priorSuppliedLineItemRef", "SBADM", "PRMS", v)
	}
}

// claimWriteSupply writes one component/suppliedLineItemQuantity: the
// supplied product and quantity, whether the charge was paid and the
// dispensing endorsements (the detail's, unless porxgate kept the supply's
// own).
func claimWriteSupply(c *BundleContext, li *etree.Element, sd *fhir.ClaimSubDetail, path string, charge, chargeOK bool, ends []claimEndorsement) {
	if px := pxGet(sd.Extension, pxClaimSupply); px != nil {
		if v := pxString(px, "chargePaid"); v != "" {
			charge, chargeOK = v == "true", true
		}
		if subs := pxSub(px, "endorsement"); len(subs) > 0 {
			ends = ends[:0:0]
			for i := range subs {
				ends = append(ends, claimEndorsement{code: pxString(&subs[i], "code"), text: pxString(&subs[i], "text")})
			}
		}
	}
	comp := v3.Add(li, "component", "typeCode", "COMP")
	v3.AddValue(comp, "seperatableInd", "false")
	q := v3.Add(comp, "suppliedLineItemQuantity", "classCode", "SPLY", "moodCode", "EVN")
	v3.AddCV(q, "code", codeDispensing, v3SNOMED, nameDispensing)
	dspAddQuantity(q, dspQuantityFromFHIR(c, sd.Quantity, path+".quantity"))
	mat := v3.Add(v3.Add(v3.Add(q, "product", "contextControlCode", "OP", "typeCode", "PRD"), "suppliedManufacturedProduct", "classCode", "MANU"),
		"manufacturedSuppliedMaterial", "classCode", "MMAT", "determinerCode", "KIND")
	pc := sd.ProductOrService
	dspAddCV(mat, "code", dspSNOMED(c, &pc, path+".productOrService"), v3SNOMED)
	if chargeOK {
		v3.AddValue(addAnnotation(q, "pertinentInformation1", "false", "pertinentChargePayment", "CP"), "value", dspBoolString(charge))
	}
	for _, e := range ends {
		a := addAnnotation(q, "pertinentInformation2", "true", "pertinentDispensingEndorsement", "DE")
		if e.text != "" {
			v3.AddText(a, "text", e.text)
		}
		v3.AddCV(a, "value", e.code, oidDispenseEndorsement, "")
	}
}

// claimChargePaid reads the detail's DM-prescription-charge coding: paid
// once or twice is a paid charge, not paid is not.
func claimChargePaid(c *BundleContext, pcs []fhir.CodeableConcept, path string) (paid, ok bool) {
	cd := c.Coding(pcs, CodeSystemPrescriptionCharge, path)
	if cd == nil {
		c.Fail(path, "missing mandatory prescription charge (%s)", CodeSystemPrescriptionCharge)
		return false, false
	}
	switch cd.Code {
	case "paid-once", "paid-twice":
		return true, true
	case "not-paid":
		return false, true
	}
	c.Fail(path, "unsupported prescription charge code %q", cd.Code)
	return false, false
}

// claimEndorsements returns the detail's dispensing endorsements, each with
// its supporting text (the concept's text).
func claimEndorsements(pcs []fhir.CodeableConcept) []claimEndorsement {
	var out []claimEndorsement
	for _, cc := range pcs {
		for _, cd := range cc.Coding {
			if cd.System == CodeSystemDispenseEndorsement {
				out = append(out, claimEndorsement{code: cd.Code, text: cc.Text})
				break
			}
		}
	}
	return out
}

// dspBoolString formats a BL value.
func dspBoolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
