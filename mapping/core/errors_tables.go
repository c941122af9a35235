package core

import (
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// The code tables between Spine's v3 error codes and the EPS FHIR API's
// OperationOutcome codes. The facts are those of the EPS API's own
// translator (NHSDigital/electronic-prescription-service-api,
// packages/coordinator/src/services/translation/response/
// spine-response-handler.ts and cancellation/cancellation-medication-request.ts):
// the v3 → FHIR direction is theirs; porxgate reads the tables backwards for
// FHIR → v3. The tables are read-only.

// spineErrorEntry is one row: a v3 code and the FHIR issue the EPS API makes
// of it.
type spineErrorEntry struct {
	V3Code string
	// system and code are the FHIR coding (EPS-IssueCode or
	// Spine-ErrorOrWarningCode).
	system, code string
	// issueType is OperationOutcome.issue.code.
	issueType string
	// display is the EPS API's fixed display; empty means the v3
	// displayName is passed through.
	Display string
}

const (
	sysEPS   = fhir.CodeSystemEPSIssueCode
	sysSpine = fhir.CodeSystemSpineErrorOrWarning
)

// prescribeErrors is the table of 2.16.840.1.113883.2.1.3.2.4.17.22 (Spine's
// prescribing and claim application errors). 7002 reads as INVALID_MESSAGE
// like 0009; INVALID_MESSAGE is written back as 0009.
var prescribeErrors = [...]spineErrorEntry{
	{"0001", sysEPS, "PATIENT_DECEASED", "business-rule", "Patient is recorded as dead"},
	{"0002", sysEPS, "DUPLICATE_PRESCRIPTION_ID", "duplicate", "Duplicate prescription ID exists"},
	{"0003", sysEPS, "MISSING_DIGITAL_SIGNATURE", "business-rule", "Digital signature not found"},
	{"0005", sysEPS, "PRESCRIPTION_NOT_FOUND", "not-found", "Prescription can not be found. Contact prescriber"},
	{"0007", sysSpine, "INVALID_RESOURCE_ID", "code-invalid", "The resource ID was not valid. For example a NHS Number is presented which is not a valid NHS Number."},
	{"0008", sysSpine, "MISSING_VALUE", "value", ""},
	{"0009", sysEPS, "INVALID_MESSAGE", "structure", "Invalid Message"},
	{"7002", sysEPS, "INVALID_MESSAGE", "structure", "Invalid Message"},
	{"0010", sysEPS, "INVALID_NUMBER_MEDICATIONREQUESTS", "business-rule", "Number of items on a prescription should be between 1 and 4"},
	{"0012", sysEPS, "PRESCRIPTION_INVALID_STATE_TRANSITION", "business-rule", "Invalid State Transition for Prescription"},
	{"0013", sysEPS, "MEDICATIONREQUEST_INVALID_STATE_TRANSITION", "business-rule", "Invalid State Transition for Prescription Item"},
	{"0014", sysEPS, "MEDICATIONREQUEST_NOT_FOUND", "not-found", "Prescription Item Not found"},
	{"0015", sysEPS, "CLAIM_INVALID_NOT_DISPENSED", "business-rule", "Invalid Claim. Prescription is not Dispensed"},
	{"0018", sysEPS, "MISMATCH_AUTHORISED_REPEAT_COUNT", "business-rule", "Mismatch in authorised repeat counts"},
	{"0019", sysEPS, "INVALID_REPEAT_COUNT", "business-rule", "Repeat count should be between 1 and 99"},
	{"0021", sysEPS, "DISPENSE_AMEND_IDENTIFIER_MISMATCH", "business-rule", "Dispense Amendment/Cancellation Request does not pertain to Last Dispense"},
	{"0099", sysSpine, "RESOURCE_VERSION_MISMATCH", "conflict", "Resource version mismatch"},
	{"0100", sysSpine, "CLAIM_AMEND_PERIOD_ISSUE", "business-rule", "Claim amendment is not permitted outside of the claim period"},
	{"5008", sysEPS, "DUPLICATE_MEDICATIONREQUEST_ID", "duplicate", "Duplicate item ID exists"},
	{"5009", sysEPS, "INVALID_CHECK_DIGIT", "value", "Error in check digit"},
	{"9006", sysEPS, "INVALID_DATE_FORMAT", "value", "Format of date passed is invalid"},
	{"9999", sysSpine, "FAILURE_TO_PROCESS_MESSAGE", "processing", ""},
}

// DispenseErrors is the table of 2.16.840.1.113883.2.1.3.2.4.16.34 (Spine's
// dispensing errors, which are also the release rejection reasons of
// PORX_IN110101UK30).
var DispenseErrors = [...]spineErrorEntry{
	{"0001", sysEPS, "PRESCRIPTION_CANCELLED", "business-rule", "Prescription has been cancelled"},
	{"0002", sysEPS, "PRESCRIPTION_EXPIRED", "business-rule", "Prescription has expired"},
	{"0003", sysSpine, "RESOURCE_NOT_FOUND", "not-found", "Resource not found"},
	{"0004", sysEPS, "PRESCRIPTION_WITH_ANOTHER_DISPENSER", "business-rule", "Prescription is with another dispenser"},
	{"0005", sysEPS, "PRESCRIPTION_DISPENSED", "business-rule", "Prescription has been dispensed"},
	{"0006", sysEPS, "NO_MORE_PRESCRIPTIONS", "informational", "No more prescriptions available"},
	{"0007", sysEPS, "SERVICE_DISABLED", "exception", "Functionality disabled in spine"},
	{"0099", sysSpine, "RESOURCE_VERSION_MISMATCH", "conflict", "Resource version mismatch"},
	{"5000", sysSpine, "FAILURE_TO_PROCESS_MESSAGE", "processing", ""},
	{"5888", sysEPS, "INVALID_MESSAGE", "invalid", "Invalid message"},
	{"9006", sysEPS, "INVALID_DATE_FORMAT", "value", "Format of date passed is invalid"},
}

// cancelEntry is one row of the cancellation response table
// (2.16.840.1.113883.2.1.3.2.4.17.19 ↔ medicationrequest-status-history).
type cancelEntry struct {
	v3Code, fhirCode string
	// display is the EPS API's display (and Spine's displayName); empty
	// passes the v3 displayName through.
	display string
	// status is the MedicationRequest.status of a cancellation that is not
	// an error; issueType the OperationOutcome issue code of one that is.
	status, issueType string
}

var cancelCodes = [...]cancelEntry{
	{"0001", "R-0001", "Prescription/item was cancelled", "cancelled", ""},
	{"0002", "R-0002", "Prescription/item was not cancelled. With dispenser. Marked for cancellation", "active", ""},
	{"0003", "R-0003", "Prescription/item was not cancelled. With dispenser active. Marked for cancellation", "active", ""},
	{"0004", "R-0004", "Prescription/item was not cancelled. Prescription has been dispensed.", "completed", ""},
	{"0005", "R-0005", "Prescription/item has expired", "stopped", ""},
	{"0006", "R-0006", "Prescription/item had already been cancelled", "cancelled", ""},
	{"0007", "R-0007", "Prescription/item cancellation requested by another prescriber", "unknown", ""},
	{"0008", "R-0008", "Prescription/item not found", "", "not-found"},
	{"0009", "R-0009", "Cancellation functionality disabled in SPINE", "", "not-supported"},
	{"0010", "R-0010", "Prescription/item was not cancelled. Prescription has been not dispensed.", "stopped", ""},
	{"5000", "R-5000", "", "", "processing"},
	{"5888", "R-5888", "Invalid Message.", "", "invalid"},
}

// ackDetailCodes are the acknowledgementDetail codes
// (2.16.840.1.113883.2.1.3.2.4.17.32) whose Spine displayName is known. The
// EPS API passes every such code through as a Spine-ErrorOrWarningCode
// coding with the v3 code and displayName, so any numeric code maps.
var ackDetailCodes = [...]struct{ code, display string }{
	{"202", "Duplicate HL7 ID Error"},
}

// epsOnlyCodes are the Spine-ErrorOrWarningCode / EPS-IssueCode codes the
// EPS FHIR API makes itself (request validation, its own access checks,
// ERROR for a Spine code it has no row for, its own answers when Spine does
// not answer or cannot be asked, the tracker's INVALID). No Spine code has
// their meaning; each maps to the family's code for its kind with the
// issue's text (packages/models/errors/*.ts; packages/coordinator/src/
// services/communication/common.ts: INTERACTION_NOT_SUPPORTED, sent with
// HTTP 400 and severity information, and TIMEOUT; response/tracker/
// translation.ts: INVALID). refusal marks a code EPS answers with HTTP 4xx
// under a non-error severity: its v3 code is an error (ER) all the same.
var epsOnlyCodes = [...]epsOnlyEntry{
	{"ERROR", KindGeneric, false},
	{"INVALID_VALUE", KindGeneric, false},
	{"MISSING_FIELD", KindGeneric, false},
	{"TOO_FEW_VALUES_SUBMITTED", KindGeneric, false},
	{"TOO_MANY_VALUES_SUBMITTED", KindGeneric, false},
	{"CONFLICTING_VALUES", KindGeneric, false},
	{"ACCESS_DENIED", KindGeneric, false},
	{"MISSING_OR_INVALID_HEADER", KindGeneric, false},
	{"INTERACTION_NOT_SUPPORTED", kindNotSupported, true},
	{"TIMEOUT", KindGeneric, false},
	{"INVALID", KindGeneric, false},
}

// epsOnlyEntry is one row of epsOnlyCodes.
type epsOnlyEntry struct {
	code    string
	kind    issueKind
	refusal bool
}

// issueKind is what an issue means for the choice of a family's code when
// only its FHIR issue type is known.
type issueKind int

const (
	kindNone         issueKind = iota // not an error (informational)
	KindGeneric                       // unable to process the message
	kindNotFound                      // the prescription or item was not found
	kindNotSupported                  // the function is disabled
	kindInvalid                       // the message is invalid
)

// issueTypeKinds is every code of the FHIR R4 IssueType value set.
var issueTypeKinds = [...]struct {
	issueType string
	kind      issueKind
}{
	{"invalid", KindGeneric}, {"structure", KindGeneric}, {"required", KindGeneric},
	{"value", KindGeneric}, {"invariant", KindGeneric}, {"security", KindGeneric},
	{"login", KindGeneric}, {"unknown", KindGeneric}, {"expired", KindGeneric},
	{"forbidden", KindGeneric}, {"suppressed", KindGeneric}, {"processing", KindGeneric},
	{"not-supported", kindNotSupported}, {"duplicate", KindGeneric},
	{"multiple-matches", KindGeneric}, {"not-found", kindNotFound}, {"deleted", kindNotFound},
	{"too-long", KindGeneric}, {"code-invalid", KindGeneric}, {"extension", KindGeneric},
	{"too-costly", KindGeneric}, {"business-rule", KindGeneric}, {"conflict", KindGeneric},
	{"transient", KindGeneric}, {"lock-error", KindGeneric}, {"no-store", KindGeneric},
	{"exception", KindGeneric}, {"timeout", KindGeneric}, {"incomplete", KindGeneric},
	{"throttled", KindGeneric}, {"informational", kindNone},
}

// FamilyCode returns the family's code for an issue kind: the OID and the
// v3 code (with its display, when fixed).
func FamilyCode(f ErrorFamily, k issueKind) (system, code, display string) {
	switch f {
	case ErrorFamilyCancel:
		switch k {
		case kindNotFound:
			return v3.OIDCancellationCode, "0008", "Prescription/item not found"
		case kindNotSupported:
			return v3.OIDCancellationCode, "0009", "Cancellation functionality disabled in SPINE"
		case kindInvalid:
			return v3.OIDCancellationCode, "5888", "Invalid Message."
		}
		return v3.OIDCancellationCode, "5000", ""
	case ErrorFamilyPrescribe:
		switch k {
		case kindNotFound:
			return v3.OIDPrescribeErrorCode, "0005", "Prescription can not be found. Contact prescriber"
		case kindInvalid:
			return v3.OIDPrescribeErrorCode, "0009", "Invalid Message"
		}
		return v3.OIDPrescribeErrorCode, "9999", ""
	}
	switch k {
	case kindNotFound:
		return v3.OIDDispenseErrorCode, "0003", "Resource not found"
	case kindNotSupported:
		return v3.OIDDispenseErrorCode, "0007", "Functionality disabled in spine"
	case kindInvalid:
		return v3.OIDDispenseErrorCode, "5888", "Invalid message"
	}
	return v3.OIDDispenseErrorCode, "5000", ""
}
