package mapping

import (
	"encoding/json"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Readers of the v3 parts the dispensing messages share.

// dspTypeID checks <typeId root=2.16.840.1.113883.2.1.3.2.4.18.7 extension=ext/>.
func dspTypeID(n v3.Node, ext string) {
	dspAttrs(n, "root", v3.OIDTypeID, "extension", ext)
	expectChildren(n)
	n.Attr("extension")
}

// dspReadRecordTarget reads recordTarget/patient and returns the NHS number.
func dspReadRecordTarget(rt v3.Node) string {
	dspAttrs(rt, "typeCode", "RCT")
	expectChildren(rt, "patient")
	pat := rt.Child("patient")
	dspAttrs(pat, "classCode", "PAT")
	expectChildren(pat, "id")
	id := pat.Child("id")
	dspAttrs(id, "root", v3.OIDNHSNumber, "extension", "*")
	return V3ID(id, v3.OIDNHSNumber)
}

// dspReadRecipient reads primaryInformationRecipient/AgentOrg/
// agentOrganization: its ODS code, type code and (optional) name.
func dspReadRecipient(pir v3.Node, contextControl string) (ods, typeCode, name string) {
	if contextControl != "" {
		dspAttrs(pir, "contextControlCode", contextControl, "typeCode", "PRCP")
	} else {
		dspAttrs(pir, "typeCode", "PRCP")
	}
	expectChildren(pir, "AgentOrg")
	ao := pir.Child("AgentOrg")
	dspAttrs(ao, "classCode", "AGNT")
	expectChildren(ao, "agentOrganization")
	ag := ao.Child("agentOrganization")
	dspAttrs(ag, "classCode", "ORG", "determinerCode", "INSTANCE")
	expectChildren(ag, "id", "code", "name")
	id := ag.Child("id")
	dspAttrs(id, "root", v3.OIDODS, "extension", "*")
	ods = V3ID(id, v3.OIDODS)
	cn := ag.Child("code")
	dspAttrs(cn, "code", "*", "codeSystem", v3.OIDOrganizationType)
	typeCode = V3Code(cn, v3.OIDOrganizationType)
	if nm := ag.Opt("name"); nm.Exists() {
		dspAttrs(nm)
		expectChildren(nm)
		name = nm.Text()
	}
	return ods, typeCode, name
}

// dspReadNDR reads an optional non-dispensing reason relationship.
func dspReadNDR(rel v3.Node, contextConduction string) *fhir.Coding {
	if !rel.Exists() {
		return nil
	}
	a := dspAnnotation(rel, "false", "pertinentNonDispensingReason", "NDR", "contextConductionInd", contextConduction+"|true|false", "typeCode", "PERT")
	expectChildren(a, "code", "value")
	cd := dspCV(a.Child("value"), oidNonDispensingReason)
	return &cd
}

// dspReadStatus reads a prescription or item status relationship.
func dspReadStatus(rel v3.Node, act, code, system string) fhir.Coding {
	a := dspAnnotation(rel, "false", act, code, "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(a, "code", "value")
	return dspCV(a.Child("value"), system)
}

// dspReadPrescriptionID reads a short-form prescription id relationship.
func dspReadPrescriptionID(rel v3.Node, act, code string, relAttrs ...string) string {
	if len(relAttrs) == 0 {
		relAttrs = []string{"contextConductionInd", "true", "typeCode", "PERT"}
	}
	a := dspAnnotation(rel, "false", act, code, relAttrs...)
	expectChildren(a, "code", "value")
	v := a.Child("value")
	dspAttrs(v, "root", v3.OIDShortFormID, "extension", "*")
	expectChildren(v)
	id := V3ID(v, v3.OIDShortFormID)
	if id != "" {
		// The shape is checked; the check character is Spine's to judge
		// (see CheckShortFormID).
		if err := CheckShortFormID(id); err != nil {
			at := v
			at.Path += "/@extension"
			at.Fail("%v", err)
		}
	}
	return id
}

// dspReadRef reads an act reference relationship (inFulfillmentOf,
// predecessor): <rel typeCode inversionInd negationInd><seperatableInd/>
// <templateId/><ref classCode moodCode><id root/></ref></rel>.
func dspReadRef(rel v3.Node, separatable, tpl, refTag, classCode, moodCode, typeCode string) string {
	dspRel(rel, separatable, "inversionInd", "false", "negationInd", "false", "typeCode", typeCode)
	expectChildren(rel, "seperatableInd", "templateId", refTag)
	dspTemplate(rel.Child("templateId"), tpl)
	ref := rel.Child(refTag)
	dspAttrs(ref, "classCode", classCode, "moodCode", moodCode)
	expectChildren(ref, "id")
	return dspRoot(ref.Child("id"))
}

// dspReadMessageRef reads <rel typeCode><ref classCode=INFO moodCode><id/>
// </ref></rel> (replacementOf, sequelTo).
func dspReadMessageRef(rel v3.Node, typeCode, refTag, moodCode string) string {
	dspAttrs(rel, "typeCode", typeCode)
	expectChildren(rel, refTag)
	ref := rel.Child(refTag)
	dspAttrs(ref, "classCode", "INFO", "moodCode", moodCode)
	expectChildren(ref, "id")
	return dspRoot(ref.Child("id"))
}

// dspReadProduct reads product/suppliedManufacturedProduct/
// manufacturedSuppliedMaterial/code.
func dspReadProduct(prod v3.Node, determiner string) fhir.Coding {
	dspAttrs(prod, "contextControlCode", "OP", "typeCode", "PRD")
	expectChildren(prod, "suppliedManufacturedProduct")
	smp := prod.Child("suppliedManufacturedProduct")
	dspAttrs(smp, "classCode", "MANU")
	expectChildren(smp, "manufacturedSuppliedMaterial")
	mat := smp.Child("manufacturedSuppliedMaterial")
	dspAttrs(mat, "classCode", "MMAT", "determinerCode", determiner)
	expectChildren(mat, "code")
	return dspCV(mat.Child("code"), v3SNOMED)
}

// dspReadObservation keeps an observation relationship EPS FHIR has no
// element for (running total, additional instructions) as a porxgate
// extension: code (valueCoding, the code system in system) and value
// (valueQuantity for a PQ, valueString for text). The caller sets the URL.
func dspReadObservation(rel v3.Node, act string) fhir.Extension {
	dspRel(rel, "false", "contextConductionInd", "true", "typeCode", "PERT")
	expectChildren(rel, "seperatableInd", act)
	a := rel.Child(act)
	dspAttrs(a, "classCode", "OBS", "moodCode", "EVN")
	expectChildren(a, "code", "value")
	cn := a.Child("code")
	dspAttrs(cn, "code", "*", "codeSystem", "*", "displayName", "*")
	expectChildren(cn)
	var b pxBuilder
	b.coding("code", fhir.Coding{System: cn.Attr("codeSystem"), Code: cn.Attr("code"), Display: cn.OptAttr("displayName")})
	v := a.Child("value")
	expectChildren(v)
	if v.HasAttr("value") {
		dspAttrs(v, "value", "*", "unit", "*")
		num, err := Decimal(v.Value())
		if err != nil {
			v.Fail("%v", err)
		}
		b.subs = append(b.subs, fhir.Extension{URL: "value", ValueQuantity: &fhir.Quantity{Value: json.Number(num), Unit: v.OptAttr("unit")}})
	} else {
		dspAttrs(v)
		b.str("value", v.Text())
	}
	return fhir.Extension{Extension: b.subs}
}
