package core

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// ExtensionV3Severity, on an issue's details, keeps the v3 qualifier or
// detail typeCode (valueCode ER, WG or IF) of the code where the issue's
// severity does not give it back (SeverityToV3): the EPS API writes every
// issue it makes from Spine's codes as an error (NO_MORE_PRESCRIPTIONS as
// information), whatever Spine's qualifier, and porxgate writes the same.
const ExtensionV3Severity = PorxgateExtensionBase + "Extension-Porxgate-V3Severity"

// OutcomeIssueFromV3 turns one v3 error code into the OperationOutcome issue
// the EPS FHIR API makes of it (spine-response-handler.ts
// getErrorCodeInformation): its EPS-IssueCode or Spine-ErrorOrWarningCode
// coding and issue type for …17.22 and …16.34 codes (ERROR with the
// displayName for a code without a row), and for a code of any other system
// (…17.32 detail codes, …17.19 cancellation codes, anything else) the code
// itself as a Spine-ErrorOrWarningCode with issue type invalid. The severity
// is the EPS API's: error, or information for an informational code (…16.34
// 0006). A second coding, urn:oid:<system>, keeps the v3 code and
// displayName as written, and ExtensionV3Severity the qualifier where the
// severity does not give it back, so V3ErrorFromOutcome gives the very same
// code back.
func OutcomeIssueFromV3(c SpineCode) fhir.Issue {
	iss := fhir.Issue{Severity: "error", Code: "invalid"}
	eps := fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: c.Code, Display: c.Display}
	var table []spineErrorEntry
	switch c.System {
	case v3.OIDPrescribeErrorCode:
		table = prescribeErrors[:]
	case v3.OIDDispenseErrorCode:
		table = DispenseErrors[:]
	}
	if table != nil {
		if e := FindByV3Code(table, c.Code); e != nil {
			eps = fhir.Coding{System: e.system, Code: e.code, Display: FirstNonEmpty(e.Display, c.Display)}
			iss.Code = e.issueType
		} else {
			eps = fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: "ERROR", Display: c.Display}
		}
	}
	if iss.Code == "informational" {
		iss.Severity = "information"
	}
	iss.Details = &fhir.CodeableConcept{Coding: []fhir.Coding{
		eps,
		{System: oidSystem(c.System), Code: c.Code, Display: c.Display},
	}}
	if c.Severity != "" && c.Severity != SeverityToV3(iss.Severity) {
		sev := c.Severity
		iss.Details.Extension = fhir.ExtensionList{{URL: ExtensionV3Severity, ValueCode: &sev}}
	}
	return iss
}

// V3SeverityOf returns the v3 qualifier of an issue: its
// ExtensionV3Severity when it has one, else SeverityToV3 of its severity.
func V3SeverityOf(iss fhir.Issue) string {
	if iss.Details != nil {
		if e := fhir.FindExtension(iss.Details.Extension, ExtensionV3Severity); e != nil && e.ValueCode != nil {
			switch s := *e.ValueCode; s {
			case AckSeverityError, AckSeverityWarning, AckSeverityInformation:
				return s
			}
		}
	}
	return SeverityToV3(iss.Severity)
}

// Cancellation is a cancellation response code (…17.19) in both forms.
type Cancellation struct {
	// V3 is the pertinentResponse value: the …17.19 code and displayName.
	V3 SpineCode
	// FHIR is the medicationrequest-status-history coding (R-0001…R-5888).
	FHIR fhir.Coding
	// MedicationRequestStatus is the MedicationRequest.status the EPS API
	// gives a cancellation that is not an error (cancelled, active,
	// completed, stopped, unknown); empty for an error.
	MedicationRequestStatus string
	// IssueType is the OperationOutcome issue code of an error (not-found,
	// not-supported, processing, invalid); empty otherwise.
	IssueType string
}

// CancellationFromV3 maps a v3 cancellation response code and displayName
// (0001–0010, 5000, 5888) to its FHIR form; 5000 keeps its displayName, the
// others take the text Spine and the EPS API both use.
func CancellationFromV3(code, display string) (Cancellation, error) {
	e := findCancelByV3(code)
	if e == nil {
		return Cancellation{}, fmt.Errorf("cancellation response code %q (%s): not one of 0001–0010, 5000, 5888", code, v3.OIDCancellationCode)
	}
	return e.cancellation(display), nil
}

// CancellationFromFHIR maps a medicationrequest-status-history code (R-0001…
// R-0010, R-5000, R-5888) and its display to the v3 cancellation response.
func CancellationFromFHIR(code, display string) (Cancellation, error) {
	e := findCancelByFHIR(code)
	if e == nil {
		return Cancellation{}, fmt.Errorf("medicationrequest-status-history code %q: not one of R-0001…R-0010, R-5000, R-5888", code)
	}
	return e.cancellation(display), nil
}

func (e *cancelEntry) cancellation(display string) Cancellation {
	d := FirstNonEmpty(e.display, display)
	return Cancellation{
		V3:                      SpineCode{System: v3.OIDCancellationCode, Code: e.v3Code, Display: d},
		FHIR:                    fhir.Coding{System: fhir.CodeSystemStatusHistory, Code: e.fhirCode, Display: d},
		MedicationRequestStatus: e.status,
		IssueType:               e.issueType,
	}
}
