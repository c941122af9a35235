package core

import (
	"encoding/json"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// ReadRecordTarget reads recordTarget/patient and returns the NHS number.
func ReadRecordTarget(rt v3.Node) string {
	Attrs(rt, "typeCode", "RCT")
	ExpectModel(rt, "patient")
	pat := rt.Child("patient")
	Attrs(pat, "classCode", "PAT")
	ExpectModel(pat, "id")
	id := pat.Child("id")
	Attrs(id, "root", v3.OIDNHSNumber, "extension", "*")
	return V3ID(id, v3.OIDNHSNumber)
}

// ReadPrescriptionID reads a short-form prescription id relationship.
func ReadPrescriptionID(rel v3.Node, act, code string, relAttrs ...string) string {
	if len(relAttrs) == 0 {
		relAttrs = []string{"contextConductionInd", "true", "typeCode", "PERT"}
	}
	a := Annotation(rel, "false", act, code, relAttrs...)
	ExpectModel(a, "code", "value")
	v := a.Child("value")
	Attrs(v, "root", v3.OIDShortFormID, "extension", "*")
	ExpectChildren(v)
	id := V3ID(v, v3.OIDShortFormID)
	if id != "" {
		// The shape is checked; the check character is Spine's to judge
		// (see CheckShortFormID).
		if err := CheckShortFormID(id); err != nil {
			v.FailAttr("extension", "%v", err)
		}
	}
	return id
}

// Readers of the v3 parts the dispensing messages share.

// TypeID checks <typeId root=2.16.840.1.113883.2.1.3.2.4.18.7 extension=ext/>.
func TypeID(n v3.Node, ext string) {
	Attrs(n, "root", v3.OIDTypeID, "extension", ext)
	ExpectChildren(n)
	n.Attr("extension")
}

// ReadRecipient reads primaryInformationRecipient/AgentOrg/
// agentOrganization (or the CMET's other choice, agentOrganizationSDS, by
// its ODS code alone): its ODS code, type code (OrganizationTypeNotSpecified
// when not given: OrganizationType) and (optional) name. The
// AgentOrg's own addresses and telecoms (addr 0..*, telecom 0..* in
// UKCT_MT120401UK02), and its organisation's desc, telecom and addr (0..1
// each), are taken: EPS FHIR names the recipient by its ODS code and name
// alone (MessageHeader.destination, Claim.insurance.coverage), so they are
// read as absent and kept beside the FHIR with Env.KeepV3. Without an id
// the EPS API cannot name the recipient: refused (EPSNeedsRecipientID).
func ReadRecipient(pir v3.Node, contextControl string) (ods, typeCode, name string) {
	if contextControl != "" {
		Attrs(pir, "contextControlCode", contextControl, "typeCode", "PRCP")
	} else {
		Attrs(pir, "typeCode", "PRCP")
	}
	ExpectModel(pir, "AgentOrg")
	ao := pir.Child("AgentOrg")
	Attrs(ao, "classCode", "AGNT")
	ExpectModel(ao, "addr*", "telecom*", "agentOrganization", "agentOrganizationSDS")
	ag := organizationChoice(ao, "agentOrganization", "agentOrganizationSDS")
	Attrs(ag, "classCode", "ORG", "determinerCode", "INSTANCE")
	if ag.Exists() && ag.El.Tag == "agentOrganizationSDS" {
		ExpectModel(ag, "id") // UKCT_MT120401UK02's OrganizationSDS
	}
	ExpectModel(ag, "id", "code", "name", "desc", "telecom", "addr")
	id := SpineRequired(ag, "id", EPSNeedsRecipientID)
	Attrs(id, "root", v3.OIDODS, "extension", "*")
	ods = V3ID(id, v3.OIDODS)
	cn := ag.Opt("code")
	if cn.HasAttr("nullFlavor") {
		Attrs(cn, "nullFlavor", "*")
	} else {
		Attrs(cn, "code", "*", "codeSystem", v3.OIDOrganizationType)
	}
	if typeCode = OrganizationType(cn); typeCode == "" {
		typeCode = OrganizationTypeNotSpecified
	}
	if nm := ag.Opt("name"); nm.Exists() {
		Attrs(nm)
		ExpectChildren(nm)
		name = nm.Text()
	}
	return ods, typeCode, name
}

// ReadNDR reads an optional non-dispensing reason relationship.
func ReadNDR(rel v3.Node, contextConduction string) *fhir.Coding {
	if !rel.Exists() {
		return nil
	}
	a := Annotation(rel, "false", "pertinentNonDispensingReason", "NDR", "contextConductionInd", contextConduction+"|true|false", "typeCode", "PERT")
	ExpectModel(a, "code", "value")
	cd := CV(a.Child("value"), OIDNonDispensingReason)
	return &cd
}

// ReadStatus reads a prescription or item status relationship.
func ReadStatus(rel v3.Node, act, code, system string) fhir.Coding {
	a := Annotation(rel, "false", act, code, "contextConductionInd", "true", "typeCode", "PERT")
	ExpectModel(a, "code", "value")
	return CV(a.Child("value"), system)
}

// ReadRef reads an act reference relationship (inFulfillmentOf,
// predecessor): <rel typeCode inversionInd negationInd><seperatableInd/>
// <templateId/><ref classCode moodCode><id root/></ref></rel>.
func ReadRef(rel v3.Node, separatable, tpl, refTag, classCode, moodCode, typeCode string) string {
	Rel(rel, separatable, "inversionInd", "false", "negationInd", "false", "typeCode", typeCode)
	ExpectModel(rel, "seperatableInd", "templateId", refTag)
	Template(rel.Child("templateId"), tpl)
	ref := rel.Child(refTag)
	Attrs(ref, "classCode", classCode, "moodCode", moodCode)
	ExpectModel(ref, "id")
	return Root(ref.Child("id"))
}

// ReadMessageRef reads <rel typeCode><ref classCode=INFO moodCode><id/>
// </ref></rel> (replacementOf, sequelTo).
func ReadMessageRef(rel v3.Node, typeCode, refTag, moodCode string) string {
	Attrs(rel, "typeCode", typeCode)
	ExpectModel(rel, refTag)
	ref := rel.Child(refTag)
	Attrs(ref, "classCode", "INFO", "moodCode", moodCode)
	ExpectModel(ref, "id")
	return Root(ref.Child("id"))
}

// ReadProduct reads product/suppliedManufacturedProduct/
// manufacturedSuppliedMaterial/code.
func ReadProduct(prod v3.Node, determiner string) fhir.Coding {
	Attrs(prod, "contextControlCode", "OP", "typeCode", "PRD")
	ExpectModel(prod, "suppliedManufacturedProduct")
	smp := prod.Child("suppliedManufacturedProduct")
	Attrs(smp, "classCode", "MANU")
	ExpectModel(smp, "manufacturedSuppliedMaterial")
	mat := smp.Child("manufacturedSuppliedMaterial")
	Attrs(mat, "classCode", "MMAT", "determinerCode", determiner)
	ExpectModel(mat, "code")
	return CV(mat.Child("code"), V3SNOMED)
}

// ReadObservation keeps an observation relationship EPS FHIR has no
// element for (running total, additional instructions) as a porxgate
// extension: code (valueCoding, the code system in system) and value
// (valueQuantity for a PQ, valueString for text). The caller sets the URL.
func ReadObservation(rel v3.Node, act string) fhir.Extension {
	Rel(rel, "false", "contextConductionInd", "true", "typeCode", "PERT")
	ExpectModel(rel, "seperatableInd", act)
	a := rel.Child(act)
	Attrs(a, "classCode", "OBS", "moodCode", "EVN")
	ExpectModel(a, "code", "value")
	cn := a.Child("code")
	Attrs(cn, "code", "*", "codeSystem", "*", "displayName", "*")
	ExpectChildren(cn)
	var b ExtensionBuilder
	b.Coding("code", fhir.Coding{System: cn.Attr("codeSystem"), Code: cn.Attr("code"), Display: cn.OptAttr("displayName")})
	v := a.Child("value")
	ExpectChildren(v)
	if v.HasAttr("value") {
		Attrs(v, "value", "*", "unit", "*")
		num, err := Decimal(v.Value())
		if err != nil {
			v.Fail("%v", err)
		}
		b.Subs = append(b.Subs, fhir.Extension{URL: "value", ValueQuantity: &fhir.Quantity{Value: json.Number(num), Unit: v.OptAttr("unit")}})
	} else {
		Attrs(v, XSIType, "ST")
		b.String("value", v.Text())
	}
	return fhir.Extension{Extension: b.Subs}
}
