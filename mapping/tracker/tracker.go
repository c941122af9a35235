package tracker

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// The EPS Tracker REST API family: Spine's JSON prescription tracker, which
// healthcare workers' systems call to search a patient's prescriptions
// (summary) or to retrieve one prescription (detail), and its FHIR twin, the
// EPS tracker (GET /Task?... answering a searchset Bundle of Tasks, or an
// OperationOutcome).
//
// The legacy JSON is the shape Spine's tracker answers in (the corpus's
// tracker-responses): a summary is {statusCode, reason, version,
// prescriptions: {id: {...}}}; a detail has the prescription keyed by its id
// beside statusCode, reason and version; a detail error comes wrapped as
// {"spineResponse": {...}, "error": {}}. Every value is a string.
//
// FHIR side, each prescription is one Task shaped as the EPS API's tracker
// translation writes it (businessStatus, focus = short-form id, for = NHS
// number, Extension-EPS-Prescription courseOfTherapyType,
// Extension-EPS-RepeatInformation, one input per line item with
// Extension-EPS-DispensingInformation, one output per line item with
// Extension-EPS-DispensingReleaseInformation, requester and owner). What the
// EPS profile has no place for travels in porxgate's extensions (see
// ExtensionTrackerPrescription, ExtensionTrackerLineItem) and contained
// Organizations, so that legacy JSON → FHIR → legacy JSON is exact.

// TrackerKind says which tracker answer a legacy JSON body is.
type TrackerKind int

// Tracker answer kinds.
const (
	// TrackerSummary answers a search: prescriptions with their line items'
	// descriptions.
	TrackerSummary TrackerKind = iota + 1
	// TrackerDetail answers a retrieve: one prescription with its
	// organisations and line item details.
	TrackerDetail
)

// String names the kind.
func (k TrackerKind) String() string {
	switch k {
	case TrackerSummary:
		return "summary"
	case TrackerDetail:
		return "detail"
	}
	return fmt.Sprintf("TrackerKind(%d)", int(k))
}

// TrackerVersion is the legacy tracker's response version porxgate answers
// with (the only one Spine documents).
const TrackerVersion = "1"

// Spine tracker status codes (statusCode), as Spine's tracker
// documentation (nhsconnect/spine-eps-tracker, "Error Handling") lists them;
// 6 and 8 are the NHS111 paths' own not-found codes.
const (
	TrackerStatusOK                  = "0"
	TrackerStatusNoMatch             = "1" // Not found (NHS111: No prescriptions found matching search criteria)
	TrackerStatusNotUnique           = "2" // No unique prescription
	TrackerStatusIssueNotFound       = "3" // Issue not found
	TrackerStatusUnparseable         = "4" // Failed to parse prescription
	TrackerStatusUnexpected          = "5" // Unexpected exception
	TrackerStatusPrescriptionMissing = "6" // NHS111: Prescription ID not found
	TrackerStatusInstanceMissing     = "8" // NHS111: Prescription repeat instance not found
	TrackerStatusNoParameters        = "50"
	TrackerStatusBadPrescriptionID   = "51"
	TrackerStatusBadASID             = "52"
	TrackerStatusBadVersion          = "53"
	TrackerStatusBadTraceID          = "54"
	TrackerStatusBadUserID           = "55"
	TrackerStatusBadRoleProfileID    = "56"
	TrackerStatusBadDate             = "57"
	TrackerStatusBadState            = "59"
	TrackerStatusBadRxVersion        = "60"
	TrackerStatusBadNHSNumber        = "61"
)

// Reasons of the status codes above, as Spine writes them.
const (
	TrackerReasonNotFound            = "Not found"
	TrackerReasonNotUnique           = "No unique prescription"
	TrackerReasonIssueNotFound       = "Issue not found"
	TrackerReasonUnparseable         = "Failed to parse prescription"
	TrackerReasonNoMatch             = "No prescriptions found matching search criteria"
	TrackerReasonUnexpected          = "Unexpected exception"
	TrackerReasonPrescriptionMissing = "Prescription ID not found"
	TrackerReasonInstanceMissing     = "Prescription repeat instance not found"
	TrackerReasonNoParameters        = "Query parameters have not been provided"
	TrackerReasonBadPrescriptionID   = "Invalid prescription id"
	TrackerReasonBadASID             = "Invalid or missing asid"
	TrackerReasonBadVersion          = "Invalid version"
	TrackerReasonBadTraceID          = "Invalid traceId"
	TrackerReasonBadUserID           = "Invalid userId"
	TrackerReasonBadRoleProfileID    = "Invalid roleProfileId"
	TrackerReasonBadDate             = "Invalid search date"
	TrackerReasonBadState            = "Invalid search prescription state"
	TrackerReasonBadRxVersion        = "Invalid search prescription version"
	TrackerReasonBadNHSNumber        = "Invalid or missing NHS number"
)

// FHIR extension URLs and code systems of the tracker family.
const (
	// ExtensionEPSPrescription carries courseOfTherapyType on a tracker Task.
	ExtensionEPSPrescription = fhir.ExtensionEPSPrescription
	// ExtensionDispensingReleaseInformation carries a prescription's
	// download, claim and previous-issue dispense dates on each Task output.
	ExtensionDispensingReleaseInformation = fhir.ExtensionDispensingReleaseInformation
	// ExtensionTrackerPrescription is porxgate's extension on a tracker Task
	// for what the EPS profile cannot hold: sub-extensions epsVersion
	// (valueString, only when not R2), pendingCancellations (valueBoolean,
	// only when true), treatmentTypeText (valueString, only when Spine's
	// wording is not the usual one for the code), prescriptionType
	// (valueCoding, Spine's prescription type code and text), daysSupply
	// (valueString), signingDate (valueDateTime, only when not the issue
	// date), appliedCancellations (valueBoolean, only when it says other
	// than the line items do), and prescriber, nominatedPharmacy,
	// dispensingPharmacy (valueReference to a contained Organization).
	ExtensionTrackerPrescription = core.PorxgateExtensionBase + "Extension-Porxgate-TrackerPrescription"
	// ExtensionTrackerLineItem is porxgate's extension on a tracker Task input
	// for a line item's detail: medication (valueCoding, SNOMED code with the
	// description as display), quantity (valueQuantity: value and unit of
	// measure) and dosage (valueString).
	ExtensionTrackerLineItem = core.PorxgateExtensionBase + "Extension-Porxgate-TrackerLineItem"
	// CodeSystemTrackerStatus holds Spine tracker statusCodes, so that a
	// tracker error keeps its code in an OperationOutcome.
	CodeSystemTrackerStatus = "https://fhir.porxgate.dev/CodeSystem/eps-tracker-status-code"
	// CodeSystemPrescriptionType is the FHIR code system of Spine's
	// prescription types (where the prescription comes from: GP, nurse,
	// hospital, dental...).
	CodeSystemPrescriptionType = fhir.CodeSystemPrescriptionType
)

// TrackerResponse is a legacy tracker answer.
type TrackerResponse struct {
	// Kind is the answer's shape.
	Kind TrackerKind
	// StatusCode is "0" on success, otherwise a Spine error code.
	StatusCode string
	// Reason is "" on success, otherwise what went wrong.
	Reason string
	// Version is the response version (TrackerVersion).
	Version string
	// Prescriptions are the prescriptions found, in answer order.
	Prescriptions []TrackerPrescription
}

// OK reports whether the answer is a success (statusCode 0).
func (r *TrackerResponse) OK() bool { return r.StatusCode == TrackerStatusOK }

// TrackerPrescription is one prescription of a tracker answer. The fields
// from PrescriptionDownloadDate on appear in detail answers only.
type TrackerPrescription struct {
	// ID is the prescription id (short form for EPS R2).
	ID                        string
	PatientNHSNumber          string
	PrescriptionStatus        string
	PrescriptionIssueDate     string
	LastEventDate             string
	EPSVersion                string
	PendingCancellations      string
	PrescriptionTreatmentType string
	RepeatInstance            *TrackerRepeatInstance

	PrescriptionDownloadDate           string
	PrescriptionDispensedDate          string
	PrescriptionClaimedDate            string
	PrescriptionLastIssueDispensedDate string
	Prescriber                         *TrackerOrganisation
	NominatedPharmacy                  *TrackerOrganisation
	DispensingPharmacy                 *TrackerOrganisation

	// The fields below are the documented tracker's (format trace) only;
	// the EPS tracker has no place for them, so they travel in
	// ExtensionTrackerPrescription and are empty when EPS answered.

	// PrescriptionTypeCode and PrescriptionTypeText are Spine's
	// prescription type (e.g. 0001, GENERAL PRACTITIONER PRESCRIBING).
	PrescriptionTypeCode, PrescriptionTypeText string
	// DaysSupply is the prescription's days of supply.
	DaysSupply string
	// SigningDate is when the prescription was signed; "" means the issue
	// date.
	SigningDate string
	// AppliedCancellations is "True" or "False" when Spine said so; ""
	// means: as the line items' statuses say.
	AppliedCancellations string

	// LineItems are in answer order; in a summary only ID and Description
	// are set.
	LineItems []TrackerLineItem
}

// TrackerRepeatInstance is the issue a prescription is at.
type TrackerRepeatInstance struct {
	CurrentIssue    string
	TotalAuthorised string
}

// TrackerOrganisation is a prescriber or pharmacy of a detail answer.
type TrackerOrganisation struct {
	Name    string
	Address string
	Phone   string
	ODS     string
}

// empty reports whether every field is empty.
func (o *TrackerOrganisation) empty() bool {
	return o == nil || *o == TrackerOrganisation{}
}

// TrackerLineItem is one line item of a tracker answer.
type TrackerLineItem struct {
	ID          string
	Description string
	Quantity    string
	UOM         string
	Dosage      string
	ItemStatus  string
	Code        string
}

// TrackerError is a refusal in the tracker's terms: a Spine statusCode and
// its reason.
type TrackerError struct {
	StatusCode string
	Reason     string
}

// Error implements error.
func (e *TrackerError) Error() string {
	return "tracker status " + e.StatusCode + ": " + e.Reason
}

// Response returns the legacy answer of kind k that reports e.
func (e *TrackerError) Response(k TrackerKind) *TrackerResponse {
	return &TrackerResponse{Kind: k, StatusCode: e.StatusCode, Reason: e.Reason, Version: TrackerVersion}
}

// trackerErr makes a TrackerError whose reason is Spine's reason, followed by
// a detail when there is one.
func trackerErr(code, reason, detailFormat string, args ...any) *TrackerError {
	if detailFormat != "" {
		reason += ": " + fmt.Sprintf(detailFormat, args...)
	}
	return &TrackerError{StatusCode: code, Reason: reason}
}
