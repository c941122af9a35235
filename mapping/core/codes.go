package core

import (
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// FHIR extension URLs and code systems of EPS prescribing messages.
const (
	ExtensionResponsiblePractitioner = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner"
	ExtensionUKCoreRepeatInformation = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation"
	ExtensionEPSRepeatInformation    = fhir.ExtensionRepeatInformation
	ExtensionPrescriptionEndorsement = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionEndorsement"
	ExtensionControlledDrug          = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ControlledDrug"

	CodeSystemMedicationRequestCategory = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
	CodeSystemCourseOfTherapy           = fhir.CodeSystemCourseOfTherapy
	// CodeSystemCourseOfTherapyNHS holds the code HL7's system lacks,
	// continuous-repeat-dispensing, as the EPS FHIR API writes it.
	CodeSystemCourseOfTherapyNHS       = fhir.CodeSystemCourseOfTherapyNHS
	CodeSystemDispensingSitePreference = "https://fhir.nhs.uk/CodeSystem/dispensing-site-preference"
	CodeSystemEndorsement              = "https://fhir.nhs.uk/CodeSystem/medicationrequest-endorsement"
	CodeSystemSignatureType            = "urn:iso-astm:E1762-95:2013"
)

// Course of therapy codes (FHIR) and the v3 prescription treatment types
// (2.16.840.1.113883.2.1.3.2.4.16.36) they map to.
const (
	CourseAcute                    = "acute"
	CourseContinuous               = "continuous"
	CourseContinuousRepeatDispense = "continuous-repeat-dispensing"

	TreatmentAcute           = "0001"
	TreatmentRepeat          = "0002"
	TreatmentRepeatDispensed = "0003"
)

// CourseOfTherapySystem returns the code system of a course of therapy code
// as EPS writes it: NHS England's for continuous-repeat-dispensing (HL7's
// system has no such code), HL7's for the others.
func CourseOfTherapySystem(code string) string {
	if code == CourseContinuousRepeatDispense {
		return CodeSystemCourseOfTherapyNHS
	}
	return CodeSystemCourseOfTherapy
}

// Fixed v3 values of a ParentPrescription (PORX_MT132004UK31).
const (
	ParentPrescriptionTypeID = "PORX_MT132004UK31"
	CodePrescription         = "163501000000109"
	NamePrescription         = "Prescription - FocusActOrEvent (record artifact)"
	CodeAdministration       = "225426007"
	NameAdministration       = "Administration of therapeutic substance (procedure)"
	CodeDispensing           = "373784005"
	NameDispensing           = "Dispensing medication (procedure)"
	CodeCareRecord           = "185361000000102"
	NameCareRecord           = "Medication - care record element (record artifact)"
	TemplatePertinentInfo    = "CSAB_RM-NPfITUK10.pertinentInformation"
	TemplatePertinentInfo1   = "CSAB_RM-NPfITUK10.pertinentInformation1"
	TemplateSourceOf2        = "CSAB_RM-NPfITUK10.sourceOf2"
)

// V3SNOMED is the SNOMED CT (dm+d) code system OID.
const V3SNOMED = v3.OIDSNOMED
