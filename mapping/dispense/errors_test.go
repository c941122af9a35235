package dispense_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

const dnLI = "/PORX_IN080101UK31/ControlActEvent/subject/DispenseNotification/pertinentInformation1/pertinentSupplyHeader/pertinentInformation1[1]/pertinentSuppliedLineItem"

func TestDispenseV3Malformed(t *testing.T) {
	base := string(maptest.Testdata(t, "dispense/dn-full-two-items.xml"))
	dispensetest.RunV3Errors(t, dispense.DispenseToFHIR, base, []dispensetest.V3ErrorCase{
		{Name: "not xml", Old: "", New: "<PORX_IN080101UK31", Want: []string{"not well-formed"}, All: false},
		{Name: "wrong namespace", Old: `xmlns="urn:hl7-org:v3"`, New: `xmlns="urn:other"`, Want: []string{"namespace"}, All: false},
		{Name: "wrong interaction", Old: "", New: `<?xml version="1.0"?><PORX_IN090101UK31 xmlns="urn:hl7-org:v3"/>`, Want: []string{"PORX_IN090101UK31", "not a Dispense Notification"}, All: false},
		{Name: "missing supply header id", Old: `<id root="A1000000-0000-4000-8000-000000000001" />
            <code code="225426007"`, New: `<code code="225426007"`, Want: []string{"PORX_IN080101UK31", "pertinentSupplyHeader/id", "missing mandatory element"}, All: false},
		{Name: "bad repeat number", Old: `<author contextControlCode="OP" typeCode="AUT">`, New: `<repeatNumber><low value="x"/><high value="2"/></repeatNumber><author contextControlCode="OP" typeCode="AUT">`, Want: []string{"pertinentSupplyHeader/repeatNumber/low", "whole number"}, All: false},
		{Name: "unknown item status code system", Old: `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.23" displayName="Item fully dispensed"`, New: `codeSystem="2.16.840.1.113883.2.1.3.2.4.99" displayName="Item fully dispensed"`, Want: []string{dnLI + "/pertinentInformation3/pertinentItemStatus/value", "codeSystem"}, All: false},
		{Name: "dose quantity not supported", Old: `<consumable`, New: `<doseQuantity value="1"/><consumable`, Want: []string{dnLI + "/doseQuantity", "unexpected element"}, All: false},
		{Name: "wrong typeCode", Old: `<recordTarget typeCode="RCT">`, New: `<recordTarget typeCode="XYZ">`, Want: []string{"recordTarget", "typeCode"}, All: false},
		{Name: "translation differs", Old: `displayName="tablet" value="32" />`, New: `displayName="tablet" value="33" />`, Want: []string{"translation", "differs"}, All: false},
		{Name: "bad effective time", Old: `<effectiveTime value="20240311091500" />`, New: `<effectiveTime value="2024-03-11" />`, Want: []string{"DispenseNotification/effectiveTime", "v3 timestamp"}, All: false},
		{Name: "missing release event", Old: "priorPrescriptionReleaseEventRef", New: "priorReleaseEventRef", Want: []string{"DispenseNotification/sequelTo/priorReleaseEventRef", "unexpected element"}, All: true},
	})
}

func TestRebuildV3Malformed(t *testing.T) {
	dispensetest.RunV3Errors(t, dispense.RebuildToFHIR, string(maptest.Testdata(t, "rebuild/rebuild-540101.xml")), []dispensetest.V3ErrorCase{
		{Name: "no components", Old: "", New: `<PORX_IN540101UK31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN540101UK31>`, Want: []string{"PORX_IN540101UK31", "missing mandatory element"}, All: false},
		{Name: "bad sequence", Old: `<sequenceNumber value="1" />`, New: `<sequenceNumber value="one" />`, Want: []string{"component[1]/sequenceNumber", "whole number"}, All: false},
		{Name: "nested notification error", Old: `<recordTarget typeCode="RCT">`, New: `<recordTarget typeCode="RCX">`, Want: []string{"component[1]/DispenseNotification/recordTarget"}, All: false},
	})
}

// dnRoot is the etree path of a fixture's DispenseNotification.
const dnRoot = "ControlActEvent/subject/DispenseNotification"

// TestDispenseV3RepeatedElements: every element the PORX_MT024001UK31 schema
// allows once is refused when it comes twice, naming the second. Before,
// the reader took the first and dropped the other unsaid (a second item
// status, prescription status, replacementOf, recordTarget...), where the
// schema, and Spine with it, refuses the message.
func TestDispenseV3RepeatedElements(t *testing.T) {
	sh := dnRoot + "/pertinentInformation1/pertinentSupplyHeader"
	li := sh + "/pertinentInformation1/pertinentSuppliedLineItem"
	q := li + "/component/suppliedLineItemQuantity"
	for _, fx := range []struct {
		file  string
		paths []string
	}{
		{"dispense/dn-amend.xml", []string{
			dnRoot + "/id", dnRoot + "/effectiveTime", dnRoot + "/recordTarget", dnRoot + "/primaryInformationRecipient",
			dnRoot + "/pertinentInformation1", dnRoot + "/pertinentInformation2", dnRoot + "/replacementOf", dnRoot + "/sequelTo",
			dnRoot + "/pertinentInformation1/templateId", dnRoot + "/pertinentInformation1/pertinentSupplyHeader",
			sh + "/id", sh + "/author", sh + "/pertinentInformation3", sh + "/pertinentInformation4", sh + "/inFulfillmentOf",
			sh + "/author/time", sh + "/author/AgentPerson",
			sh + "/pertinentInformation1/pertinentSuppliedLineItem", sh + "/pertinentInformation1/templateId",
			li + "/id", li + "/consumable", li + "/component1", li + "/pertinentInformation3", li + "/inFulfillmentOf",
			li + "/consumable/requestedManufacturedProduct", li + "/consumable/requestedManufacturedProduct/manufacturedRequestedMaterial",
			li + "/component1/supplyRequest", li + "/component1/supplyRequest/quantity",
			li + "/component/suppliedLineItemQuantity", q + "/quantity", q + "/product",
			dnRoot + "/pertinentInformation2/pertinentCareRecordElementCategory", dnRoot + "/pertinentInformation2/pertinentCareRecordElementCategory/component/actRef",
		}},
		{"dispense/dn-erd.xml", []string{sh + "/repeatNumber", li + "/repeatNumber"}},
		{"dispense/dn-not-dispensed.xml", []string{sh + "/pertinentInformation2", li + "/pertinentInformation2"}},
		{"dispense/dn-partial-second.xml", []string{sh + "/predecessor", li + "/predecessor", li + "/pertinentInformation1"}},
		{"dispense/dn-extras.xml", []string{q + "/pertinentInformation2", li + "/inFulfillmentOf1/priorIntendedMedicationAdministrationRef"}},
	} {
		t.Run(fx.file, func(t *testing.T) {
			dispensetest.RunV3Repeats(t, dispense.DispenseToFHIR, string(maptest.Testdata(t, fx.file)), fx.paths)
		})
	}
}

// TestDispenseV3RepeatedInnerElements: the same inside the parts the
// dispensing readers share (core: recipient, record target, references,
// annotations, repeat numbers, products, the dispensing AgentPerson).
func TestDispenseV3RepeatedInnerElements(t *testing.T) {
	sh := dnRoot + "/pertinentInformation1/pertinentSupplyHeader"
	li := sh + "/pertinentInformation1/pertinentSuppliedLineItem"
	q := li + "/component/suppliedLineItemQuantity"
	ap := sh + "/author/AgentPerson"
	for _, fx := range []struct {
		file  string
		paths []string
	}{
		{"dispense/dn-amend.xml", []string{
			dnRoot + "/recordTarget/patient", dnRoot + "/recordTarget/patient/id",
			dnRoot + "/primaryInformationRecipient/AgentOrg", dnRoot + "/primaryInformationRecipient/AgentOrg/agentOrganization",
			dnRoot + "/primaryInformationRecipient/AgentOrg/agentOrganization/id",
			dnRoot + "/sequelTo/priorPrescriptionReleaseEventRef", dnRoot + "/sequelTo/priorPrescriptionReleaseEventRef/id",
			dnRoot + "/replacementOf/priorMessageRef", dnRoot + "/replacementOf/priorMessageRef/id",
			sh + "/pertinentInformation3/seperatableInd", sh + "/pertinentInformation3/pertinentPrescriptionStatus",
			sh + "/pertinentInformation3/pertinentPrescriptionStatus/value", sh + "/pertinentInformation4/pertinentPrescriptionID/value",
			sh + "/inFulfillmentOf/templateId", sh + "/inFulfillmentOf/priorOriginalPrescriptionRef", sh + "/inFulfillmentOf/priorOriginalPrescriptionRef/id",
			li + "/pertinentInformation3/pertinentItemStatus/value", li + "/inFulfillmentOf/priorOriginalItemRef/id",
			q + "/product/suppliedManufacturedProduct", q + "/product/suppliedManufacturedProduct/manufacturedSuppliedMaterial",
			q + "/product/suppliedManufacturedProduct/manufacturedSuppliedMaterial/code",
			q + "/pertinentInformation1/pertinentSupplyInstructions/value",
			ap + "/id", ap + "/code", ap + "/agentPerson", ap + "/representedOrganization", ap + "/agentPerson/id", ap + "/agentPerson/name",
		}},
		{"dispense/dn-erd.xml", []string{sh + "/repeatNumber/low", sh + "/repeatNumber/high"}},
		{"dispense/dn-not-dispensed.xml", []string{li + "/pertinentInformation2/pertinentNonDispensingReason", li + "/pertinentInformation2/pertinentNonDispensingReason/value"}},
		{"dispense/dn-partial-second.xml", []string{li + "/pertinentInformation1/pertinentRunningTotal", li + "/pertinentInformation1/pertinentRunningTotal/value"}},
	} {
		t.Run(fx.file, func(t *testing.T) {
			dispensetest.RunV3Repeats(t, dispense.DispenseToFHIR, string(maptest.Testdata(t, fx.file)), fx.paths)
		})
	}
}

// TestRebuildV3RepeatedElements: the rebuild request's once-only elements
// (prescription id, withdraw reason, repeat instance, a component's
// sequence number and notification) are refused when repeated.
func TestRebuildV3RepeatedElements(t *testing.T) {
	const r = "ControlActEvent/subject/RebuildDispenseHistory"
	dispensetest.RunV3Repeats(t, dispense.RebuildToFHIR, string(maptest.Testdata(t, "rebuild/rebuild-540101.xml")), []string{
		r + "/id", r + "/effectiveTime", r + "/pertinentInformation1", r + "/pertinentInformation2", r + "/pertinentInformation3",
		r + "/component/sequenceNumber", r + "/component/templateId", r + "/component/DispenseNotification",
		r + "/component/DispenseNotification/recordTarget",
	})
}

// TestDispenseReplacementOfTarget: an amendment's replacementOf target is a
// 36-character GUID, as Spine's schematron for PORX_IN080101UK31 asserts
// ("replacementOf target must be a 36-character GUID",
// ErrorBase1634.UNABLE_TO_PROCESS). Before, porxgate took any root (an OID,
// a GUID without hyphens or in braces) and sent EPS an amendment of a
// notification no such id names.
func TestDispenseReplacementOfTarget(t *testing.T) {
	const target = `<priorMessageRef classCode="INFO" moodCode="EVN">
            <id root="A1000000-0000-4000-8000-000000000001" />`
	base := string(maptest.Testdata(t, "dispense/dn-amend.xml"))
	var cases []dispensetest.V3ErrorCase
	for name, root := range map[string]string{
		"OID":        "2.16.840.1.113883.2.1.3.2.4.18.8",
		"no hyphens": "A1000000000040008000000000000001",
		"braces":     "{A1000000-0000-4000-8000-000000000001}",
	} {
		cases = append(cases, dispensetest.V3ErrorCase{Name: name, Old: target,
			New:  strings.Replace(target, "A1000000-0000-4000-8000-000000000001", root, 1),
			Want: []string{"PORX_IN080101UK31", "DispenseNotification/replacementOf/priorMessageRef/id/@root", "36-character GUID"}})
	}
	dispensetest.RunV3Errors(t, dispense.DispenseToFHIR, base, cases)
	if _, _, err := dispense.DispenseToFHIR([]byte(strings.Replace(base, "A1000000-0000-4000-8000-000000000001\" />\n          </priorMessageRef>",
		"a1000000-0000-4000-8000-000000000001\" />\n          </priorMessageRef>", 1)), dispensetest.Env()); err != nil {
		t.Errorf("a lower-case GUID target refused: %v", err)
	}
}

// TestRebuildSpineRefusals: what Spine's schematron for PORX_IN540101UK31
// faults (ErrorBase1634.UNABLE_TO_PROCESS), porxgate refuses too, naming
// the element: a component whose sequenceNumber has no value ("Sequence
// Number must be provided for all dispense components") and an amendment
// inside a rebuild ("Amendment is not supported within rebuild dispense
// history"). Before, both were read: the first gave FHIR porxgate could not
// write back, the second a history holding an amendment.
func TestRebuildSpineRefusals(t *testing.T) {
	base := string(maptest.Testdata(t, "rebuild/rebuild-540101.xml"))
	dn := string(maptest.Testdata(t, "dispense/dn-amend.xml"))
	rep := dn[strings.Index(dn, "<replacementOf "):]
	rep = rep[:strings.Index(rep, "</replacementOf>")+len("</replacementOf>")]
	const seq = `<sequenceNumber value="1" />`
	dispensetest.RunV3Errors(t, dispense.RebuildToFHIR, base, []dispensetest.V3ErrorCase{
		{Name: "empty sequence number", Old: seq, New: `<sequenceNumber value="" />`,
			Want: []string{"PORX_IN540101UK31", "component[1]/sequenceNumber", "sequence number"}},
		{Name: "amendment inside", Old: "<sequelTo ", New: rep + "\n            <sequelTo ",
			Want: []string{"PORX_IN540101UK31", "component[1]/DispenseNotification/replacementOf", "amendment"}},
	})
}

// TestDispenseOneLineItemPerPrescriptionItem: a dispense notification whose
// two supplied line items fulfil the same prescription line item
// (inFulfillmentOf/priorOriginalItemRef) is refused, naming the second.
// EPS FHIR gathers the MedicationDispenses of one prescription item into one
// supplied line item (dispense-notification.ts, mapMedicationDispenses), so
// the second line item's id, status, reason and requested quantity would be
// dropped and its supplies added to the first's: before, porxgate accepted
// such a message and EPS (and porxgate's own way back) wrote one line item.
func TestDispenseOneLineItemPerPrescriptionItem(t *testing.T) {
	base := string(maptest.Testdata(t, "dispense/dn-full-two-items.xml"))
	const second = `<id root="6C3D6F0E-2A1B-4E7C-9D55-0B1A2C3D4E12" />
                  </priorOriginalItemRef>`
	dispensetest.RunV3Errors(t, dispense.DispenseToFHIR, base, []dispensetest.V3ErrorCase{
		{Name: "two line items, one prescription item", Old: second, New: strings.Replace(second, "4E12", "4E11", 1),
			Want: []string{"PORX_IN080101UK31", "pertinentSupplyHeader/pertinentInformation1[2]/pertinentSuppliedLineItem/inFulfillmentOf", "6C3D6F0E-2A1B-4E7C-9D55-0B1A2C3D4E11"}},
	})
}

// TestDispenseV3RepeatedOrganisation: the dispenser's organisation
// (UKCT_MT120201UK03) has its id, code, name and desc at most once, and the
// legacy healthCareProviderLicense porxgate takes beyond the CMET comes at
// most once (FHIR's partOf holds one), with its Organization's id, code and
// name once each: a second of any is refused, naming it, as Spine refuses
// it. Before, the reader took the first and dropped the second unsaid (a
// second ODS code, name, licence...). The same reader serves the claim and
// the return.
func TestDispenseV3RepeatedOrganisation(t *testing.T) {
	org := dnRoot + "/pertinentInformation1/pertinentSupplyHeader/author/AgentPerson/representedOrganization"
	base := strings.Replace(string(maptest.Testdata(t, "dispense/dn-amend.xml")), `<name>High Street Chemist</name>`,
		`<name>High Street Chemist</name><desc>Late opening on Thursdays</desc>`, 1)
	base = strings.Replace(base, `</addr>
                </representedOrganization>`, `</addr><healthCareProviderLicense classCode="PROV">`+
		`<Organization classCode="ORG" determinerCode="INSTANCE"><id extension="Y99999" root="1.2.826.0.1285.0.1.10" />`+
		`<code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94" /><name>LEGACY PHARMACY GROUP</name></Organization>`+
		`</healthCareProviderLicense>
                </representedOrganization>`, 1)
	if _, _, err := dispense.DispenseToFHIR([]byte(base), dispensetest.Env()); err != nil {
		t.Fatalf("the organisation with a desc and a licence is refused: %v", err)
	}
	dispensetest.RunV3Repeats(t, dispense.DispenseToFHIR, base, []string{
		org + "/id", org + "/code", org + "/name", org + "/desc", org + "/healthCareProviderLicense",
		org + "/healthCareProviderLicense/Organization", org + "/healthCareProviderLicense/Organization/id",
		org + "/healthCareProviderLicense/Organization/code", org + "/healthCareProviderLicense/Organization/name",
	})
}
