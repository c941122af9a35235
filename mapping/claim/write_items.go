package claim

import (
	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
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
// subDetail (the older EPS location; for a line item without supplies,
// from porxgate's extension).
func claimWriteLineItem(c *core.BundleContext, sh *etree.Element, d *fhir.ClaimDetail, path string, deprecated bool) {
	px := core.PorxgateExtension(d.Extension, pxClaimLineItem)
	rel := v3.Add(sh, "pertinentInformation1", "contextConductionInd", "true", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", "false")
	core.AddTemplate(rel, core.TemplateSourceOf2)
	li := v3.Add(rel, "pertinentSuppliedLineItem", "classCode", "SBADM", "moodCode", "PRMS")
	seq := c.Extension(d.Extension, core.ExtensionClaimSequenceIdentifier, path+".extension")
	if seq == nil || seq.ValueIdentifier == nil || seq.ValueIdentifier.Value == "" {
		c.Fail(path+".extension", "missing mandatory extension %s", core.ExtensionClaimSequenceIdentifier)
		return
	}
	v3.AddII(li, "id", core.UpperUUID(seq.ValueIdentifier.Value), "")
	v3.AddCV(li, "code", core.CodeAdministration, core.V3SNOMED, core.NameAdministration)
	v3.Add(li, "effectiveTime", "nullFlavor", core.NullNA)
	if deprecated {
		if len(d.SubDetail) > 0 {
			if ext := fhir.FindExtension(d.SubDetail[0].Extension, core.ExtensionEPSRepeatInformation); ext != nil {
				claimAddRepeat(c, li, ext, path+".subDetail[0].extension")
			}
		} else if subs := core.SubExtensions(px, "repeatInformation"); len(subs) > 0 {
			claimAddRepeat(c, li, &subs[0], path+".extension")
		}
	} else if ext := c.Extension(d.Extension, core.ExtensionEPSRepeatInformation, path+".extension"); ext != nil {
		claimAddRepeat(c, li, ext, path+".extension")
	}
	if len(d.SubDetail) > 0 {
		charge, chargeOK := claimChargePaid(c, d.ProgramCode, path+".programCode")
		ends := claimEndorsements(d.ProgramCode)
		if len(ends) == 0 && core.PorxgateExtension(d.SubDetail[0].Extension, pxClaimSupply) == nil {
			c.Fail(path+".programCode", "missing mandatory dispensing endorsement (%s)", core.CodeSystemDispenseEndorsement)
		}
		for i := range d.SubDetail {
			sd := &d.SubDetail[i]
			claimWriteSupply(c, li, sd, core.Indexed(path+".subDetail", i), charge, chargeOK, ends)
		}
	}
	if rt := core.SubExtensions(px, "runningTotal"); len(rt) > 0 {
		dispense.WriteObservation(li, "pertinentInformation1", "pertinentRunningTotal", rt[0])
	}
	if ndr := core.ExtCoding(c, d.Extension, core.ExtensionTaskBusinessStatusReason, path+".extension"); ndr != nil {
		core.AddCV(core.AddAnnotation(li, "pertinentInformation2", "false", "pertinentNonDispensingReason", "NDR"), "value", *ndr, core.OIDNonDispensingReason)
	}
	status := c.Coding(d.Modifier, fhir.CodeSystemMedicationDispenseType, path+".modifier")
	if status == nil {
		c.Fail(path+".modifier", "missing mandatory item status (%s)", fhir.CodeSystemMedicationDispenseType)
		return
	}
	core.AddCV(core.AddAnnotation(li, "pertinentInformation3", "false", "pertinentItemStatus", "IS"), "value", *status, v3.OIDItemStatus)
	ref := c.Extension(d.Extension, core.ExtensionClaimMedicationRequest, path+".extension")
	if ref == nil || ref.ValueReference == nil || ref.ValueReference.Identifier == nil || ref.ValueReference.Identifier.Value == "" {
		c.Fail(path+".extension", "missing mandatory extension %s", core.ExtensionClaimMedicationRequest)
		return
	}
	core.AddRef(li, "inFulfillmentOf", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "FLFS"}, "true", core.TemplateSourceOf1,
		"priorOriginalItemRef", "SBADM", "RQO", ref.ValueReference.Identifier.Value)
	if v := core.SubExtensionString(px, "predecessor"); v != "" {
		core.AddRef(li, "predecessor", []string{"inversionInd", "false", "negationInd", "false", "typeCode", "SUCC"}, "false", core.TemplateSourceOf1,
			"priorSuppliedLineItemRef", "SBADM", "PRMS", v)
	}
}

// claimWriteSupply writes one component/suppliedLineItemQuantity: the
// supplied product and quantity, whether the charge was paid and the
// dispensing endorsements (the detail's, unless porxgate kept the supply's
// own).
func claimWriteSupply(c *core.BundleContext, li *etree.Element, sd *fhir.ClaimSubDetail, path string, charge, chargeOK bool, ends []claimEndorsement) {
	if px := core.PorxgateExtension(sd.Extension, pxClaimSupply); px != nil {
		if v := core.SubExtensionString(px, "chargePaid"); v != "" {
			charge, chargeOK = v == "true", true
		}
		if subs := core.SubExtensions(px, "endorsement"); len(subs) > 0 {
			ends = ends[:0:0]
			for i := range subs {
				ends = append(ends, claimEndorsement{code: core.SubExtensionString(&subs[i], "code"), text: core.SubExtensionString(&subs[i], "text")})
			}
		}
	}
	comp := v3.Add(li, "component", "typeCode", "COMP")
	v3.AddValue(comp, "seperatableInd", "false")
	q := v3.Add(comp, "suppliedLineItemQuantity", "classCode", "SPLY", "moodCode", "EVN")
	v3.AddCV(q, "code", core.CodeDispensing, core.V3SNOMED, core.NameDispensing)
	core.AddAltQuantity(q, core.AltQuantityFromFHIR(c, sd.Quantity, path+".quantity"))
	mat := v3.Add(v3.Add(v3.Add(q, "product", "contextControlCode", "OP", "typeCode", "PRD"), "suppliedManufacturedProduct", "classCode", "MANU"),
		"manufacturedSuppliedMaterial", "classCode", "MMAT", "determinerCode", "KIND")
	pc := sd.ProductOrService
	core.AddCV(mat, "code", core.SNOMED(c, &pc, path+".productOrService"), core.V3SNOMED)
	if chargeOK {
		v3.AddValue(core.AddAnnotation(q, "pertinentInformation1", "false", "pertinentChargePayment", "CP"), "value", dspBoolString(charge))
	}
	for _, e := range ends {
		a := core.AddAnnotation(q, "pertinentInformation2", "true", "pertinentDispensingEndorsement", "DE")
		if e.text != "" {
			v3.AddText(a, "text", e.text)
		}
		v3.AddCV(a, "value", e.code, core.OIDDispenseEndorsement, "")
	}
}

// claimChargePaid reads the detail's DM-prescription-charge coding: paid
// once or twice is a paid charge, not paid is not.
func claimChargePaid(c *core.BundleContext, pcs []fhir.CodeableConcept, path string) (paid, ok bool) {
	cd := c.Coding(pcs, core.CodeSystemPrescriptionCharge, path)
	if cd == nil {
		c.Fail(path, "missing mandatory prescription charge (%s)", core.CodeSystemPrescriptionCharge)
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
			if cd.System == core.CodeSystemDispenseEndorsement {
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
