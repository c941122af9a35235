package mapping

import v3 "github.com/porxgate/porxgate/v3"

// FHIR extension URLs and code systems of EPS prescribing messages.
const (
	ExtensionResponsiblePractitioner = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ResponsiblePractitioner"
	ExtensionUKCoreRepeatInformation = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-MedicationRepeatInformation"
	ExtensionEPSRepeatInformation    = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation"
	ExtensionPrescriptionEndorsement = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionEndorsement"
	ExtensionControlledDrug          = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-ControlledDrug"

	CodeSystemMedicationRequestCategory = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
	CodeSystemCourseOfTherapy           = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
	// CodeSystemCourseOfTherapyNHS holds the code HL7's system lacks,
	// continuous-repeat-dispensing, as the EPS FHIR API writes it.
	CodeSystemCourseOfTherapyNHS       = "https://fhir.nhs.uk/CodeSystem/medicationrequest-course-of-therapy"
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

// OIDs of the v3 code systems of a prescription that v3/oids.go leaves out.
const (
	oidEndorsement = "2.16.840.1.113883.2.1.3.2.4.16.32"
)

// Fixed v3 values of a ParentPrescription (PORX_MT132004UK31).
const (
	ppTypeID           = "PORX_MT132004UK31"
	codePrescription   = "163501000000109"
	namePrescription   = "Prescription - FocusActOrEvent (record artifact)"
	codeAdministration = "225426007"
	nameAdministration = "Administration of therapeutic substance (procedure)"
	codeDispensing     = "373784005"
	nameDispensing     = "Dispensing medication (procedure)"
	codeCareRecord     = "185361000000102"
	nameCareRecord     = "Medication - care record element (record artifact)"
	tplPertinentInfo   = "CSAB_RM-NPfITUK10.pertinentInformation"
	tplPertinentInfo1  = "CSAB_RM-NPfITUK10.pertinentInformation1"
	tplSourceOf2       = "CSAB_RM-NPfITUK10.sourceOf2"
)

// treatmentTypeFromCourse maps a course of therapy code to a treatment type.
func treatmentTypeFromCourse(course string) (string, bool) {
	switch course {
	case CourseAcute:
		return TreatmentAcute, true
	case CourseContinuous:
		return TreatmentRepeat, true
	case CourseContinuousRepeatDispense:
		return TreatmentRepeatDispensed, true
	}
	return "", false
}

// courseFromTreatmentType maps a v3 treatment type to the course of therapy
// coding the EPS API uses.
func courseFromTreatmentType(tt string) (code, display string, ok bool) {
	switch tt {
	case TreatmentAcute:
		return CourseAcute, "Short course (acute) therapy", true
	case TreatmentRepeat:
		return CourseContinuous, "Continuous long term therapy", true
	case TreatmentRepeatDispensed:
		return CourseContinuousRepeatDispense, "Continuous long term (repeat dispensing)", true
	}
	return "", "", false
}

// v3SNOMED is the SNOMED CT (dm+d) code system OID.
const v3SNOMED = v3.OIDSNOMED
