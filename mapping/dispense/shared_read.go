package dispense

import (
	"encoding/json"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Readers of the v3 parts the dispensing messages share.

// TypeID checks <typeId root=2.16.840.1.113883.2.1.3.2.4.18.7 extension=ext/>.
func TypeID(n v3.Node, ext string) {
	core.Attrs(n, "root", v3.OIDTypeID, "extension", ext)
	core.ExpectChildren(n)
	n.Attr("extension")
}

// ReadRecipient reads primaryInformationRecipient/AgentOrg/
// agentOrganization: its ODS code, type code and (optional) name.
func ReadRecipient(pir v3.Node, contextControl string) (ods, typeCode, name string) {
	if contextControl != "" {
		core.Attrs(pir, "contextControlCode", contextControl, "typeCode", "PRCP")
	} else {
		core.Attrs(pir, "typeCode", "PRCP")
	}
	core.ExpectChildren(pir, "AgentOrg")
	ao := pir.Child("AgentOrg")
	core.Attrs(ao, "classCode", "AGNT")
	core.ExpectChildren(ao, "agentOrganization")
	ag := ao.Child("agentOrganization")
	core.Attrs(ag, "classCode", "ORG", "determinerCode", "INSTANCE")
	core.ExpectChildren(ag, "id", "code", "name")
	id := ag.Child("id")
	core.Attrs(id, "root", v3.OIDODS, "extension", "*")
	ods = core.V3ID(id, v3.OIDODS)
	cn := ag.Child("code")
	core.Attrs(cn, "code", "*", "codeSystem", v3.OIDOrganizationType)
	typeCode = core.V3Code(cn, v3.OIDOrganizationType)
	if nm := ag.Opt("name"); nm.Exists() {
		core.Attrs(nm)
		core.ExpectChildren(nm)
		name = nm.Text()
	}
	return ods, typeCode, name
}

// ReadNDR reads an optional non-dispensing reason relationship.
func ReadNDR(rel v3.Node, contextConduction string) *fhir.Coding {
	if !rel.Exists() {
		return nil
	}
	a := core.Annotation(rel, "false", "pertinentNonDispensingReason", "NDR", "contextConductionInd", contextConduction+"|true|false", "typeCode", "PERT")
	core.ExpectChildren(a, "code", "value")
	cd := core.CV(a.Child("value"), core.OIDNonDispensingReason)
	return &cd
}

// ReadStatus reads a prescription or item status relationship.
func ReadStatus(rel v3.Node, act, code, system string) fhir.Coding {
	a := core.Annotation(rel, "false", act, code, "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectChildren(a, "code", "value")
	return core.CV(a.Child("value"), system)
}

// ReadRef reads an act reference relationship (inFulfillmentOf,
// predecessor): <rel typeCode inversionInd negationInd><seperatableInd/>
// <templateId/><ref classCode moodCode><id root/></ref></rel>.
func ReadRef(rel v3.Node, separatable, tpl, refTag, classCode, moodCode, typeCode string) string {
	core.Rel(rel, separatable, "inversionInd", "false", "negationInd", "false", "typeCode", typeCode)
	core.ExpectChildren(rel, "seperatableInd", "templateId", refTag)
	Template(rel.Child("templateId"), tpl)
	ref := rel.Child(refTag)
	core.Attrs(ref, "classCode", classCode, "moodCode", moodCode)
	core.ExpectChildren(ref, "id")
	return core.Root(ref.Child("id"))
}

// ReadMessageRef reads <rel typeCode><ref classCode=INFO moodCode><id/>
// </ref></rel> (replacementOf, sequelTo).
func ReadMessageRef(rel v3.Node, typeCode, refTag, moodCode string) string {
	core.Attrs(rel, "typeCode", typeCode)
	core.ExpectChildren(rel, refTag)
	ref := rel.Child(refTag)
	core.Attrs(ref, "classCode", "INFO", "moodCode", moodCode)
	core.ExpectChildren(ref, "id")
	return core.Root(ref.Child("id"))
}

// ReadProduct reads product/suppliedManufacturedProduct/
// manufacturedSuppliedMaterial/code.
func ReadProduct(prod v3.Node, determiner string) fhir.Coding {
	core.Attrs(prod, "contextControlCode", "OP", "typeCode", "PRD")
	core.ExpectChildren(prod, "suppliedManufacturedProduct")
	smp := prod.Child("suppliedManufacturedProduct")
	core.Attrs(smp, "classCode", "MANU")
	core.ExpectChildren(smp, "manufacturedSuppliedMaterial")
	mat := smp.Child("manufacturedSuppliedMaterial")
	core.Attrs(mat, "classCode", "MMAT", "determinerCode", determiner)
	core.ExpectChildren(mat, "code")
	return core.CV(mat.Child("code"), core.V3SNOMED)
}

// ReadObservation keeps an observation relationship EPS FHIR has no
// element for (running total, additional instructions) as a porxgate
// extension: code (valueCoding, the code system in system) and value
// (valueQuantity for a PQ, valueString for text). The caller sets the URL.
func ReadObservation(rel v3.Node, act string) fhir.Extension {
	core.Rel(rel, "false", "contextConductionInd", "true", "typeCode", "PERT")
	core.ExpectChildren(rel, "seperatableInd", act)
	a := rel.Child(act)
	core.Attrs(a, "classCode", "OBS", "moodCode", "EVN")
	core.ExpectChildren(a, "code", "value")
	cn := a.Child("code")
	core.Attrs(cn, "code", "*", "codeSystem", "*", "displayName", "*")
	core.ExpectChildren(cn)
	var b core.ExtensionBuilder
	b.Coding("code", fhir.Coding{System: cn.Attr("codeSystem"), Code: cn.Attr("code"), Display: cn.OptAttr("displayName")})
	v := a.Child("value")
	core.ExpectChildren(v)
	if v.HasAttr("value") {
		core.Attrs(v, "value", "*", "unit", "*")
		num, err := core.Decimal(v.Value())
		if err != nil {
			v.Fail("%v", err)
		}
		b.Subs = append(b.Subs, fhir.Extension{URL: "value", ValueQuantity: &fhir.Quantity{Value: json.Number(num), Unit: v.OptAttr("unit")}})
	} else {
		core.Attrs(v)
		b.String("value", v.Text())
	}
	return fhir.Extension{Extension: b.Subs}
}
