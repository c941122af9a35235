package v3

// Namespace is the HL7 v3 XML namespace every PORX payload is written in.
const Namespace = "urn:hl7-org:v3"

// Object identifiers (OIDs) of the identifier and code systems PORX messages use.
const (
	OIDInteraction        = "2.16.840.1.113883.2.1.3.2.4.12"
	OIDASID               = "1.2.826.0.1285.0.2.0.107"
	OIDNHSNumber          = "2.16.840.1.113883.2.1.4.1"
	OIDODS                = "1.2.826.0.1285.0.1.10"
	OIDSDSUser            = "1.2.826.0.1285.0.2.0.65"
	OIDSDSRoleProfile     = "1.2.826.0.1285.0.2.0.67"
	OIDSDSJobRole         = "1.2.826.0.1285.0.2.1.104"
	OIDProfessionalCode   = "1.2.826.0.1285.0.2.1.54"
	OIDShortFormID        = "2.16.840.1.113883.2.1.3.2.4.18.8"
	OIDSNOMED             = "2.16.840.1.113883.2.1.3.2.4.15"
	OIDPrescriptionStatus = "2.16.840.1.113883.2.1.3.2.4.16.35"
	OIDItemStatus         = "2.16.840.1.113883.2.1.3.2.4.17.23"
	OIDTypeID             = "2.16.840.1.113883.2.1.3.2.4.18.7"
	OIDTemplateID         = "2.16.840.1.113883.2.1.3.2.4.18.2"
	OIDPertinentCode      = "2.16.840.1.113883.2.1.3.2.4.17.30"
	OIDGender             = "2.16.840.1.113883.2.1.3.2.4.16.25"
	OIDOrganizationType   = "2.16.840.1.113883.2.1.3.2.4.17.94"
	OIDPrescribeErrorCode = "2.16.840.1.113883.2.1.3.2.4.17.22"
	OIDDispenseErrorCode  = "2.16.840.1.113883.2.1.3.2.4.16.34"
	OIDAckDetailCode      = "2.16.840.1.113883.2.1.3.2.4.17.32"
	OIDCancellationCode   = "2.16.840.1.113883.2.1.3.2.4.17.19"
	OIDPrescriptionType   = "2.16.840.1.113883.2.1.3.2.4.17.25"
	OIDTreatmentType      = "2.16.840.1.113883.2.1.3.2.4.16.36"
	OIDDispensingSitePref = "2.16.840.1.113883.2.1.3.2.4.17.21"
	OIDCareProvisionType  = "2.16.840.1.113883.2.1.3.2.4.17.37"
	OIDVersionCodeV42     = "V3NPfIT4.2.00"
	OIDVersionCodeV30     = "V3NPfIT3.0"
)

// TS layouts (time.Format) of a v3 timestamp to the second and of a date.
const (
	TimeLayout = "20060102150405"
	DateLayout = "20060102"
)
