package prescribe

import "github.com/porxgate/porxgate/mapping/core"

// The once-only elements of a ParentPrescription (PORX_MT132004UK31, MIM
// 4.2.00), for core.CheckOnce. The prescription readers take the first of
// an element and carry what the FHIR does not say, so a repeated once-only
// element (two NHS numbers, two treatment types, two dosage instructions
// for one line item...) used to reach EPS as its first and the dispenser as
// both; Spine refuses such a prescription, and so does porxgate now, naming
// the second. Elements the MIM lets repeat (the line items, a line item's
// endorsements, the care record's components, the parties' addresses and
// telecoms, a PQ's translations) are not named; the prescription's two ids
// are checked by readPrescriptionIDs.

// annotationOnce is a pertinentInformation relationship to an annotation
// act (its act's code, value and text once each).
func annotationOnce(act string) *core.Once {
	return &core.Once{Tags: []string{"seperatableInd", act},
		Kids: map[string]*core.Once{act: {Tags: []string{"code", "text", "value"}}}}
}

// refOnce is an act reference relationship (inFulfillmentOf).
func refOnce(ref string) *core.Once {
	return &core.Once{Tags: []string{"seperatableInd", "templateId", ref},
		Kids: map[string]*core.Once{ref: {Tags: []string{"id"}}}}
}

// intervalOnce is an IVL (low, high, width once each).
var intervalOnce = &core.Once{Tags: []string{"low", "high", "width"}}

// participationOnce is an author, legalAuthenticator or responsibleParty.
var participationOnce = &core.Once{Tags: []string{"time", "signatureText", "AgentPerson"},
	Kids: map[string]*core.Once{"AgentPerson": core.AgentPersonOnce()}}

// lineItemOnce is PORX_MT132004UK31.LineItem.
var lineItemOnce = &core.Once{
	Tags: []string{"id", "code", "effectiveTime", "repeatNumber", "doseQuantity", "rateQuantity", "product", "component",
		"pertinentInformation1", "pertinentInformation2", "inFulfillmentOf2", "inFulfillmentOf1"},
	Kids: map[string]*core.Once{
		"repeatNumber": intervalOnce,
		"product": {Tags: []string{"manufacturedProduct"}, Kids: map[string]*core.Once{
			"manufacturedProduct": {Tags: []string{"manufacturedRequestedMaterial"}, Kids: map[string]*core.Once{
				"manufacturedRequestedMaterial": {Tags: []string{"code"}}}}}},
		"component": {Tags: []string{"seperatableInd", "lineItemQuantity"}, Kids: map[string]*core.Once{
			"lineItemQuantity": {Tags: []string{"code", "quantity"}}}},
		"pertinentInformation1": annotationOnce("pertinentAdditionalInstructions"),
		"pertinentInformation2": annotationOnce("pertinentDosageInstructions"),
		"pertinentInformation3": annotationOnce("pertinentPrescriberEndorsement"),
		"inFulfillmentOf2":      refOnce("priorOriginalItemRef"),
		"inFulfillmentOf1":      refOnce("priorIntendedMedicationAdministrationRef"),
	},
}

// prescriptionOnce is PORX_MT132004UK31.Prescription.
var prescriptionOnce = &core.Once{
	Tags: []string{"code", "effectiveTime", "repeatNumber", "performer", "author", "legalAuthenticator", "responsibleParty",
		"component1", "pertinentInformation7", "pertinentInformation5", "pertinentInformation6", "pertinentInformation1",
		"pertinentInformation8", "pertinentInformation3", "pertinentInformation4", "inFulfillmentOf"},
	Kids: map[string]*core.Once{
		"repeatNumber": intervalOnce,
		"performer": {Tags: []string{"AgentOrgSDS"}, Kids: map[string]*core.Once{
			"AgentOrgSDS": {Tags: []string{"agentOrganizationSDS"}, Kids: map[string]*core.Once{
				"agentOrganizationSDS": {Tags: []string{"id"}}}}}},
		"author":             participationOnce,
		"legalAuthenticator": participationOnce,
		"responsibleParty":   participationOnce,
		"component1": {Tags: []string{"seperatableInd", "daysSupply"}, Kids: map[string]*core.Once{
			"daysSupply": {Tags: []string{"code", "effectiveTime", "expectedUseTime"}, Kids: map[string]*core.Once{
				"effectiveTime": intervalOnce, "expectedUseTime": intervalOnce}}}},
		"pertinentInformation7": annotationOnce("pertinentReviewDate"),
		"pertinentInformation5": annotationOnce("pertinentPrescriptionTreatmentType"),
		"pertinentInformation6": {Tags: []string{"seperatableInd", "templateId", "pertinentCareEventRef"},
			Kids: map[string]*core.Once{"pertinentCareEventRef": {Tags: []string{"id"}}}},
		"pertinentInformation1": annotationOnce("pertinentDispensingSitePreference"),
		"pertinentInformation2": {Tags: []string{"seperatableInd", "templateId", "pertinentLineItem"},
			Kids: map[string]*core.Once{"pertinentLineItem": lineItemOnce}},
		"pertinentInformation8": annotationOnce("pertinentTokenIssued"),
		"pertinentInformation3": {Tags: []string{"seperatableInd", "pertinentTemporaryExemptionInfo"},
			Kids: map[string]*core.Once{"pertinentTemporaryExemptionInfo": {Tags: []string{"code", "effectiveTime", "value"}}}},
		"pertinentInformation4": annotationOnce("pertinentPrescriptionType"),
		"inFulfillmentOf":       refOnce("priorOriginalPrescriptionRef"),
	},
}

// parentPrescriptionOnce is PORX_MT132004UK31.ParentPrescription.
var parentPrescriptionOnce = &core.Once{
	Tags: []string{"id", "code", "effectiveTime", "typeId", "recordTarget", "pertinentInformation1", "pertinentInformation2"},
	Kids: map[string]*core.Once{
		"recordTarget": {Tags: []string{"Patient"}, Kids: map[string]*core.Once{"Patient": core.PatientOnce()}},
		"pertinentInformation1": {Tags: []string{"templateId", "pertinentPrescription"},
			Kids: map[string]*core.Once{"pertinentPrescription": prescriptionOnce}},
		"pertinentInformation2": {Tags: []string{"templateId", "pertinentCareRecordElementCategory"},
			Kids: map[string]*core.Once{"pertinentCareRecordElementCategory": {Tags: []string{"code"},
				Kids: map[string]*core.Once{"component": {Tags: []string{"actRef"},
					Kids: map[string]*core.Once{"actRef": {Tags: []string{"id"}}}}}}}},
	},
}
