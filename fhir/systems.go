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
