package core

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// OutcomeIssueFromV3 turns one v3 error code into the OperationOutcome issue
// the EPS FHIR API makes of it (spine-response-handler.ts): its
// EPS-IssueCode or Spine-ErrorOrWarningCode coding and issue type for
// …17.22 and …16.34 codes (ERROR with the displayName for a code without a
// row), the R-code for …17.19, and the code itself as a
// Spine-ErrorOrWarningCode for any other system (…17.32 detail codes). A
// second coding, urn:oid:<system>, keeps the v3 code and displayName as
// written, so V3ErrorFromOutcome gives the very same code back. The
// severity follows the code's qualifier or detail type (ER error, WG
// warning, IF information).
func OutcomeIssueFromV3(c SpineCode) fhir.Issue {
	iss := fhir.Issue{Severity: severityFromV3(c.Severity), Code: "invalid"}
	eps := fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: c.Code, Display: c.Display}
	var table []spineErrorEntry
	switch c.System {
	case v3.OIDPrescribeErrorCode:
		table = prescribeErrors[:]
	case v3.OIDDispenseErrorCode:
		table = DispenseErrors[:]
	case v3.OIDCancellationCode:
		if e := findCancelByV3(c.Code); e != nil {
			eps = fhir.Coding{System: fhir.CodeSystemStatusHistory, Code: e.fhirCode, Display: FirstNonEmpty(e.display, c.Display)}
			iss.Code = e.issueType
			if iss.Code == "" {
				iss.Code = "informational"
			}
		} else {
			eps = fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: "ERROR", Display: c.Display}
		}
	}
	if table != nil {
		if e := FindByV3Code(table, c.Code); e != nil {
			eps = fhir.Coding{System: e.system, Code: e.code, Display: FirstNonEmpty(e.Display, c.Display)}
			iss.Code = e.issueType
		} else {
			eps = fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: "ERROR", Display: c.Display}
		}
	}
	iss.Details = &fhir.CodeableConcept{Coding: []fhir.Coding{
		eps,
		{System: oidSystem(c.System), Code: c.Code, Display: c.Display},
	}}
	return iss
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
