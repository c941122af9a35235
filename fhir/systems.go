package fhir

// Identifier systems EPS FHIR uses.
const (
	SystemNHSNumber        = "https://fhir.nhs.uk/Id/nhs-number"
	SystemODS              = "https://fhir.nhs.uk/Id/ods-organization-code"
	SystemSDSUser          = "https://fhir.nhs.uk/Id/sds-user-id"
	SystemSDSRoleProfile   = "https://fhir.nhs.uk/Id/sds-role-profile-id"
	SystemShortFormID      = "https://fhir.nhs.uk/Id/prescription-order-number"
	SystemLongFormID       = "https://fhir.nhs.uk/Id/prescription"
	SystemLineItemID       = "https://fhir.nhs.uk/Id/prescription-order-item-number"
	SystemDispenseItemID   = "https://fhir.nhs.uk/Id/prescription-dispense-item-number"
	SystemRFC4122          = "https://tools.ietf.org/html/rfc4122"
	SystemGMC              = "https://fhir.hl7.org.uk/Id/gmc-number"
	SystemGMP              = "https://fhir.hl7.org.uk/Id/gmp-number"
	SystemNMC              = "https://fhir.hl7.org.uk/Id/nmc-number"
	SystemGPhC             = "https://fhir.hl7.org.uk/Id/gphc-number"
	SystemHCPC             = "https://fhir.hl7.org.uk/Id/hcpc-number"
	SystemDIN              = "https://fhir.hl7.org.uk/Id/din-number"
	SystemProfessionalCode = "https://fhir.hl7.org.uk/Id/professional-code"
	SystemSNOMED           = "http://snomed.info/sct"
	SystemUCUM             = "http://unitsofmeasure.org"
)

// Code systems and extension URLs EPS FHIR uses.
const (
	CodeSystemMessageEvent           = "https://fhir.nhs.uk/CodeSystem/message-event"
	CodeSystemPrescriptionType       = "https://fhir.nhs.uk/CodeSystem/prescription-type"
	CodeSystemTaskBusinessStatus     = "https://fhir.nhs.uk/CodeSystem/EPS-task-business-status"
	CodeSystemMedicationDispenseType = "https://fhir.nhs.uk/CodeSystem/medicationdispense-type"
	CodeSystemStatusHistory          = "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history"
	CodeSystemSpineErrorOrWarning    = "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode"
	CodeSystemEPSIssueCode           = "https://fhir.nhs.uk/CodeSystem/EPS-IssueCode"
	CodeSystemJobRole                = "https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode"
	ExtensionPrescriptionID          = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionId"
	ExtensionPrescriptionType        = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType"
	ExtensionPerformerSiteType       = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PerformerSiteType"
)

// Message events of EPS FHIR message Bundles.
const (
	EventPrescriptionOrder       = "prescription-order"
	EventPrescriptionOrderUpdate = "prescription-order-update"
	EventDispenseNotification    = "dispense-notification"
)

// Extension URLs and code systems EPS FHIR uses in requests and answers
// beyond those above: message and claim amendments, cancellation
// outcomes, release refusals, repeat dispensing and the tracker's Tasks.
const (
	// ExtensionReplacementOf names the message or Claim an amendment replaces.
	ExtensionReplacementOf = "https://fhir.nhs.uk/StructureDefinition/Extension-replacementOf"
	// ExtensionGroupIdentifier carries a prescription's short-form and
	// long-form ids where no groupIdentifier element exists (Claim.prescription).
	ExtensionGroupIdentifier = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-GroupIdentifier"
	// ExtensionPrescriptionStatusHistory carries a cancellation's outcome on
	// each MedicationRequest of a prescription-order-response.
	ExtensionPrescriptionStatusHistory = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory"
	// ExtensionMessageHeaderMessageID carries a response MessageHeader's own message id.
	ExtensionMessageHeaderMessageID = "https://fhir.nhs.uk/StructureDefinition/Extension-MessageHeader-messageId"
	// ExtensionSpineSupportingInfo points an OperationOutcome at a contained
	// resource that explains it (the pharmacy holding a prescription).
	ExtensionSpineSupportingInfo = "https://fhir.nhs.uk/StructureDefinition/Extension-Spine-supportingInfo"
	// ExtensionDispensingInformation carries a line item's dispense status
	// and last dispense time.
	ExtensionDispensingInformation = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation"
	// ExtensionEPSPrescription carries a tracker Task's treatment type.
	ExtensionEPSPrescription = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-Prescription"
	// ExtensionRepeatInformation carries the issues a repeat prescription
	// allows and has had.
	ExtensionRepeatInformation = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation"
	// ExtensionDispensingReleaseInformation carries a prescription's
	// download, last-issue-dispensed and claim dates.
	ExtensionDispensingReleaseInformation = "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingReleaseInformation"
	// CodeSystemCourseOfTherapy is HL7's course of therapy system (acute,
	// continuous).
	CodeSystemCourseOfTherapy = "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy"
	// CodeSystemCourseOfTherapyNHS holds continuous-repeat-dispensing, which
	// HL7's system lacks.
	CodeSystemCourseOfTherapyNHS = "https://fhir.nhs.uk/CodeSystem/medicationrequest-course-of-therapy"
	// EventPrescriptionOrderResponse is the event of the answer to a
	// prescription-order-update.
	EventPrescriptionOrderResponse = "prescription-order-response"
)
