package core

import (
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestErrorTablesBothWays takes every row of the …17.22 and …16.34 tables
// from v3 to the EPS API's FHIR issue (without porxgate's urn:oid coding,
// as the EPS API sends it) and back: each comes back as the same code of
// the family's table (7002 as 0009, its twin).
func TestErrorTablesBothWays(t *testing.T) {
	tables := []struct {
		oid    string
		family ErrorFamily
		rows   []spineErrorEntry
	}{
		{v3.OIDPrescribeErrorCode, ErrorFamilyPrescribe, prescribeErrors[:]},
		{v3.OIDDispenseErrorCode, ErrorFamilyDispense, DispenseErrors[:]},
		{v3.OIDDispenseErrorCode, ErrorFamilyRelease, DispenseErrors[:]},
	}
	for _, tb := range tables {
		for _, row := range tb.rows {
			t.Run(string(tb.family)+"/"+row.V3Code, func(t *testing.T) {
				in := SpineCode{System: tb.oid, Code: row.V3Code, Display: "Spine text " + row.V3Code, Severity: AckSeverityError}
				iss := OutcomeIssueFromV3(in)
				eps := iss.Details.Coding[0]
				if eps.System != row.system || eps.Code != row.code || iss.Code != row.issueType {
					t.Fatalf("v3 %s → %s|%s (%s), want %s|%s (%s)", row.V3Code, eps.System, eps.Code, iss.Code, row.system, row.code, row.issueType)
				}
				wantDisplay := row.Display
				if wantDisplay == "" {
					wantDisplay = in.Display
				}
				if eps.Display != wantDisplay {
					t.Errorf("display = %q, want %q", eps.Display, wantDisplay)
				}
				// As the EPS API sends it: its one coding, no porxgate extension.
				iss.Details.Coding = iss.Details.Coding[:1]
				iss.Details.Extension = nil
				ve, err := V3ErrorFromOutcome(&fhir.OperationOutcome{Issue: []fhir.Issue{iss}}, 400, tb.family)
				if err != nil {
					t.Fatal(err)
				}
				wantCode := row.V3Code
				if wantCode == "7002" {
					wantCode = "0009"
				}
				// The EPS API writes NO_MORE_PRESCRIPTIONS as information,
				// every other row as an error.
				wantSeverity := AckSeverityError
				if row.issueType == "informational" {
					wantSeverity = AckSeverityInformation
				}
				want := SpineCode{System: tb.oid, Code: wantCode, Display: wantDisplay, Severity: wantSeverity}
				if len(ve.Codes) != 1 || ve.Codes[0] != want || len(ve.Unmapped) != 0 || ve.TypeCode != AckError {
					t.Errorf("back to v3 = %+v, want %+v", ve, want)
				}
			})
		}
	}
}

// TestOutcomeIssueFromV3Exact checks that porxgate's own outcomes (with the
// urn:oid coding) map back to exactly the v3 code, whatever the family.
func TestOutcomeIssueFromV3Exact(t *testing.T) {
	codes := []SpineCode{
		{System: v3.OIDDispenseErrorCode, Code: "5000", Display: "Unable to process message. Information missing or invalid - x", Severity: AckSeverityError},
		{System: v3.OIDPrescribeErrorCode, Code: "7002", Display: "odd", Severity: AckSeverityWarning},
		{System: v3.OIDPrescribeErrorCode, Code: "4242", Display: "no row", Severity: AckSeverityError},
		{System: v3.OIDAckDetailCode, Code: "202", Severity: AckSeverityInformation},
		{System: v3.OIDCancellationCode, Code: "0004", Display: "Prescription/item was not cancelled. Prescription has been dispensed.", Severity: AckSeverityError},
		{System: "1.2.3.4", Code: "Z", Display: "unknown system", Severity: AckSeverityError},
	}
	for _, c := range codes {
		for _, f := range []ErrorFamily{ErrorFamilyPrescribe, ErrorFamilyDispense, ErrorFamilyCancel} {
			ve, err := V3ErrorFromOutcome(&fhir.OperationOutcome{Issue: []fhir.Issue{OutcomeIssueFromV3(c)}}, 400, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ve.Codes) != 1 || ve.Codes[0] != c {
				t.Errorf("%s: %+v → %+v, want the same code", f, c, ve.Codes)
			}
		}
	}
	// A code without a row is the EPS API's ERROR with the displayName.
	iss := OutcomeIssueFromV3(codes[2])
	if want := (fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: "ERROR", Display: "no row"}); iss.Details.Coding[0] != want || iss.Code != "invalid" {
		t.Errorf("unknown 17.22 code → %+v, want %+v", iss, want)
	}
}

func TestV3ErrorFromOutcome(t *testing.T) {
	const (
		eps   = fhir.CodeSystemEPSIssueCode
		spine = fhir.CodeSystemSpineErrorOrWarning
		r4    = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
		hist  = fhir.CodeSystemStatusHistory
		p     = v3.OIDPrescribeErrorCode
		d     = v3.OIDDispenseErrorCode
		c     = v3.OIDCancellationCode
		a     = v3.OIDAckDetailCode
	)
	tests := []struct {
		name         string
		issues       []fhir.Issue
		status       int
		family       ErrorFamily
		wantType     string
		want         []SpineCode
		wantUnmapped bool
	}{
		{"patient deceased", []fhir.Issue{maptest.Issue("error", "business-rule", eps, "PATIENT_DECEASED", "Patient is recorded as dead", "")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "0001", "Patient is recorded as dead", "ER"}}, false},
		{"duplicate prescription id", []fhir.Issue{maptest.Issue("error", "duplicate", eps, "DUPLICATE_PRESCRIPTION_ID", "Duplicate prescription ID exists", "")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "0002", "Duplicate prescription ID exists", "ER"}}, false},
		{"with another dispenser (release)", []fhir.Issue{maptest.Issue("error", "business-rule", eps, "PRESCRIPTION_WITH_ANOTHER_DISPENSER", "Prescription is with another dispenser", "")}, 400, ErrorFamilyRelease,
			AckError, []SpineCode{{d, "0004", "Prescription is with another dispenser", "ER"}}, false},
		{"with another dispenser from the other table", []fhir.Issue{maptest.Issue("error", "business-rule", eps, "PRESCRIPTION_WITH_ANOTHER_DISPENSER", "", "")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{d, "0004", "Prescription is with another dispenser", "ER"}}, false},
		{"claim error of 17.22 answering a dispenser", []fhir.Issue{maptest.Issue("error", "business-rule", eps, "CLAIM_INVALID_NOT_DISPENSED", "Invalid Claim. Prescription is not Dispensed", "")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{p, "0015", "Invalid Claim. Prescription is not Dispensed", "ER"}}, false},
		{"failure to process (prescribe)", []fhir.Issue{maptest.Issue("error", "processing", spine, "FAILURE_TO_PROCESS_MESSAGE", "Unable to process message. Information missing or invalid - x", "")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "9999", "Unable to process message. Information missing or invalid - x", "ER"}}, false},
		{"failure to process (dispense)", []fhir.Issue{maptest.Issue("error", "processing", spine, "FAILURE_TO_PROCESS_MESSAGE", "Unable to process message. Information missing or invalid - x", "")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "5000", "Unable to process message. Information missing or invalid - x", "ER"}}, false},
		{"missing value passes its text", []fhir.Issue{maptest.Issue("error", "value", spine, "MISSING_VALUE", "", "NHS number missing")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "0008", "NHS number missing", "ER"}}, false},
		{"EPS validation code", []fhir.Issue{maptest.Issue("error", "invalid", spine, "INVALID_VALUE", "", "Expected all MedicationDispenses to agree.")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "5000", "Unable to process message. Information missing or invalid - Expected all MedicationDispenses to agree.", "ER"}}, false},
		{"EPS validation code, R4 system, fatal", []fhir.Issue{maptest.Issue("fatal", "invalid", r4, "INVALID_VALUE", "Course of therapy mixed.", "")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "9999", "Unable to process message. Information missing or invalid - Course of therapy mixed.", "ER"}}, false},
		{"numeric Spine code is a rejection", []fhir.Issue{maptest.Issue("error", "invalid", "", "202", "Duplicate HL7 ID Error", "")}, 400, ErrorFamilyPrescribe,
			AckRejected, []SpineCode{{a, "202", "Duplicate HL7 ID Error", "ER"}}, false},
		{"numeric Spine code without display", []fhir.Issue{maptest.Issue("error", "invalid", spine, "202", "", "")}, 400, ErrorFamilyCancel,
			AckRejected, []SpineCode{{a, "202", "Duplicate HL7 ID Error", "ER"}}, false},
		{"rejection and business error together", []fhir.Issue{maptest.Issue("error", "invalid", spine, "202", "dup", ""), maptest.Issue("error", "business-rule", eps, "PATIENT_DECEASED", "", "")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{a, "202", "dup", "ER"}, {p, "0001", "Patient is recorded as dead", "ER"}}, false},
		{"CR LF line ends become line feeds", []fhir.Issue{maptest.Issue("error", "value", "", "", "", "one\r\ntwo\rthree")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "9999", "Unable to process message. Information missing or invalid - one\ntwo\nthree", "ER"}}, false},
		{"issue type only", []fhir.Issue{maptest.Issue("error", "value", "", "", "", "MedicationRequest.intent must be order.")}, 400, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "9999", "Unable to process message. Information missing or invalid - MedicationRequest.intent must be order.", "ER"}}, false},
		{"not found by issue type (prescribe)", []fhir.Issue{maptest.Issue("error", "not-found", "", "", "", "")}, 404, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "0005", "Prescription can not be found. Contact prescriber", "ER"}}, false},
		{"not found by issue type (release)", []fhir.Issue{maptest.Issue("error", "not-found", "", "", "", "")}, 404, ErrorFamilyRelease,
			AckError, []SpineCode{{d, "0003", "Resource not found", "ER"}}, false},
		{"disabled (release)", []fhir.Issue{maptest.Issue("fatal", "not-supported", "", "", "", "Release functionality is disabled.")}, 400, ErrorFamilyRelease,
			AckError, []SpineCode{{d, "0007", "Functionality disabled in spine", "ER"}}, false},
		{"no more prescriptions (information)", []fhir.Issue{maptest.Issue("information", "informational", eps, "NO_MORE_PRESCRIPTIONS", "No more prescriptions available", "")}, 200, ErrorFamilyRelease,
			AckError, []SpineCode{{d, "0006", "No more prescriptions available", "IF"}}, false},
		{"warning without coding is no error", []fhir.Issue{maptest.Issue("warning", "value", "", "", "", "x"), maptest.Issue("error", "business-rule", eps, "PRESCRIPTION_EXPIRED", "", "")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "0002", "Prescription has expired", "ER"}}, false},
		{"unknown named code", []fhir.Issue{maptest.Issue("error", "invalid", eps, "SOMETHING_NEW", "Something new", "")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "5000", "Unable to process message. Information missing or invalid - Something new", "ER"}}, true},
		{"unknown issue type", []fhir.Issue{maptest.Issue("error", "made-up", "", "", "", "why")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "5000", "Unable to process message. Information missing or invalid - why", "ER"}}, true},
		{"other coding systems are skipped", []fhir.Issue{{Severity: "error", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: "http://example.org", Code: "X"}, {System: eps, Code: "PRESCRIPTION_DISPENSED"}}}}}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "0005", "Prescription has been dispensed", "ER"}}, false},
		{"cancel: R-code", []fhir.Issue{maptest.Issue("error", "not-found", hist, "R-0008", "Prescription/item not found", "")}, 400, ErrorFamilyCancel,
			AckError, []SpineCode{{c, "0008", "Prescription/item not found", "ER"}}, false},
		{"cancel: R-5000 keeps its text", []fhir.Issue{maptest.Issue("error", "processing", hist, "R-5000", "Unable to process message. Information missing or invalid - y", "")}, 400, ErrorFamilyCancel,
			AckError, []SpineCode{{c, "5000", "Unable to process message. Information missing or invalid - y", "ER"}}, false},
		{"cancel: validation error", []fhir.Issue{maptest.Issue("error", "invalid", spine, "INVALID_VALUE", "", "bad statusReason")}, 400, ErrorFamilyCancel,
			AckError, []SpineCode{{c, "5000", "Unable to process message. Information missing or invalid - bad statusReason", "ER"}}, false},
		{"cancel: invalid message", []fhir.Issue{maptest.Issue("error", "invalid", eps, "INVALID_MESSAGE", "", "")}, 400, ErrorFamilyCancel,
			AckError, []SpineCode{{c, "5888", "Invalid Message.", "ER"}}, false},
		{"cancel: already dispensed", []fhir.Issue{maptest.Issue("error", "business-rule", eps, "PRESCRIPTION_DISPENSED", "", "")}, 400, ErrorFamilyCancel,
			AckError, []SpineCode{{c, "0004", "Prescription/item was not cancelled. Prescription has been dispensed.", "ER"}}, false},
		{"cancel: not found by issue type", []fhir.Issue{maptest.Issue("error", "not-found", "", "", "", "")}, 404, ErrorFamilyCancel,
			AckError, []SpineCode{{c, "0008", "Prescription/item not found", "ER"}}, false},
		{"R-5888 outside cancel", []fhir.Issue{maptest.Issue("error", "invalid", hist, "R-5888", "Invalid Message.", "")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "5888", "Invalid message", "ER"}}, false},
		{"R-0001 outside cancel has no meaning", []fhir.Issue{maptest.Issue("error", "invalid", hist, "R-0001", "Prescription/item was cancelled", "")}, 400, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "5000", "Unable to process message. Information missing or invalid - Prescription/item was cancelled", "ER"}}, true},
		{"no issue, 404", nil, 404, ErrorFamilyDispense,
			AckError, []SpineCode{{d, "0003", "Resource not found", "ER"}}, true},
		{"no issue, 500", nil, 500, ErrorFamilyPrescribe,
			AckError, []SpineCode{{p, "9999", "Unable to process message. Information missing or invalid - EPS answered HTTP 500 without an error issue", "ER"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var oo *fhir.OperationOutcome
			if tt.issues != nil {
				oo = &fhir.OperationOutcome{Issue: tt.issues}
			}
			ve, err := V3ErrorFromOutcome(oo, tt.status, tt.family)
			if err != nil {
				t.Fatalf("V3ErrorFromOutcome: %v", err)
			}
			if ve.TypeCode != tt.wantType || !reflect.DeepEqual(ve.Codes, tt.want) {
				t.Errorf("V3ErrorFromOutcome = %s %+v\nwant %s %+v", ve.TypeCode, ve.Codes, tt.wantType, tt.want)
			}
			if (len(ve.Unmapped) > 0) != tt.wantUnmapped {
				t.Errorf("Unmapped = %v, want some: %v", ve.Unmapped, tt.wantUnmapped)
			}
			if ve.Family != tt.family {
				t.Errorf("Family = %s", ve.Family)
			}
		})
	}
}

func TestV3ErrorFromOutcomeRefuses(t *testing.T) {
	success := &fhir.OperationOutcome{Issue: []fhir.Issue{{Severity: "information", Code: "informational"}}}
	if _, err := V3ErrorFromOutcome(success, 200, ErrorFamilyPrescribe); err == nil || !strings.Contains(err.Error(), "not an error answer") {
		t.Errorf("success outcome: err = %v, want 'not an error answer'", err)
	}
	if _, err := V3ErrorFromOutcome(success, 400, "claims"); err == nil || !strings.Contains(err.Error(), "unknown error family") {
		t.Errorf("bad family: err = %v", err)
	}
}

func TestV3ErrorSplit(t *testing.T) {
	ve := V3Error{Codes: []SpineCode{{System: v3.OIDAckDetailCode, Code: "202"}, {System: v3.OIDPrescribeErrorCode, Code: "0001"}, {System: v3.OIDAckDetailCode, Code: "203"}}}
	if got := ve.Details(); len(got) != 2 || got[0].Code != "202" || got[1].Code != "203" {
		t.Errorf("Details = %+v", got)
	}
	if got := ve.Reasons(); len(got) != 1 || got[0].Code != "0001" {
		t.Errorf("Reasons = %+v", got)
	}
}

func TestCancellationCodes(t *testing.T) {
	for _, row := range cancelCodes {
		t.Run(row.v3Code, func(t *testing.T) {
			fromV3, err := CancellationFromV3(row.v3Code, "Spine text")
			if err != nil {
				t.Fatal(err)
			}
			if fromV3.FHIR.Code != row.fhirCode || fromV3.FHIR.System != fhir.CodeSystemStatusHistory {
				t.Errorf("FHIR = %+v, want %s", fromV3.FHIR, row.fhirCode)
			}
			if (fromV3.IssueType == "") == (fromV3.MedicationRequestStatus == "") {
				t.Errorf("want exactly one of issue type and status: %+v", fromV3)
			}
			back, err := CancellationFromFHIR(fromV3.FHIR.Code, fromV3.FHIR.Display)
			if err != nil {
				t.Fatal(err)
			}
			if back != fromV3 || back.V3.System != v3.OIDCancellationCode {
				t.Errorf("FHIR → v3 = %+v, want %+v", back, fromV3)
			}
			// The cancel family reads the R-code of an outcome as the same code.
			ve, err := V3ErrorFromOutcome(&fhir.OperationOutcome{Issue: []fhir.Issue{{Severity: "error", Code: "invalid", Details: &fhir.CodeableConcept{Coding: []fhir.Coding{fromV3.FHIR}}}}}, 400, ErrorFamilyCancel)
			if err != nil || len(ve.Codes) != 1 || ve.Codes[0].Code != row.v3Code || ve.Codes[0].System != v3.OIDCancellationCode {
				t.Errorf("V3ErrorFromOutcome = %+v, %v", ve, err)
			}
		})
	}
	if d := mustCancel(t, "5000", "Unable to process message. Information missing or invalid - z").V3.Display; d != "Unable to process message. Information missing or invalid - z" {
		t.Errorf("5000 display = %q, want the Spine text kept", d)
	}
	if d := mustCancel(t, "0001", "whatever").V3.Display; d != "Prescription/item was cancelled" {
		t.Errorf("0001 display = %q", d)
	}
	if _, err := CancellationFromV3("0011", ""); err == nil {
		t.Error("0011 accepted")
	}
	if _, err := CancellationFromFHIR("R-9999", ""); err == nil {
		t.Error("R-9999 accepted")
	}
}

func mustCancel(t *testing.T, code, display string) Cancellation {
	t.Helper()
	c, err := CancellationFromV3(code, display)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorFamilyOf(t *testing.T) {
	tests := []struct {
		interaction string
		want        ErrorFamily
		wantErr     bool
	}{
		{v3.ParentPrescription, ErrorFamilyPrescribe, false},
		{"PORX_IN020102SM31", ErrorFamilyPrescribe, false},
		{v3.CancelRequest, ErrorFamilyCancel, false},
		{v3.NominatedReleaseRequest, ErrorFamilyRelease, false},
		{v3.PatientReleaseRequest, ErrorFamilyRelease, false},
		{v3.DispenseNotification, ErrorFamilyDispense, false},
		{v3.DispenseClaimInformation, ErrorFamilyDispense, false},
		{v3.DispenseReimbursementClaim, ErrorFamilyDispense, false},
		{v3.DispenseNoClaimNotification, ErrorFamilyDispense, false},
		{v3.DispenserWithdraw, ErrorFamilyDispense, false},
		{v3.DispenseProposalReturn, ErrorFamilyDispense, false},
		{v3.RebuildDispenseHistory, ErrorFamilyDispense, false},
		{v3.NominatedReleaseResponse, "", true},
		{"nonsense", "", true},
	}
	for _, tt := range tests {
		got, err := ErrorFamilyOf(tt.interaction)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ErrorFamilyOf(%s) = %q, %v; want %q (error %v)", tt.interaction, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestIssueTypeTableIsComplete(t *testing.T) {
	// The FHIR R4 IssueType value set has 31 codes; each has a row.
	if len(issueTypeKinds) != 31 {
		t.Errorf("issue type rows = %d, want 31", len(issueTypeKinds))
	}
	seen := map[string]bool{}
	for _, r := range issueTypeKinds {
		if seen[r.issueType] {
			t.Errorf("duplicate row %s", r.issueType)
		}
		seen[r.issueType] = true
	}
}

// TestOutcomeIssueFromV3MatchesEPS checks the part of the issue the EPS API
// writes (severity, issue type and its one coding) against
// spine-response-handler.ts of NHSDigital/electronic-prescription-service-api
// (getErrorCodeInformation): every issue is severity "error" whatever the
// qualifier or detail typeCode, except NO_MORE_PRESCRIPTIONS (…16.34 0006),
// which is "information"; a code of any system other than …17.22 and …16.34
// (…17.32 details, …17.19 cancellation codes, anything else) is passed
// through as a Spine-ErrorOrWarningCode coding with issue type invalid.
func TestOutcomeIssueFromV3MatchesEPS(t *testing.T) {
	const (
		eps   = fhir.CodeSystemEPSIssueCode
		spine = fhir.CodeSystemSpineErrorOrWarning
	)
	tests := []struct {
		name           string
		in             SpineCode
		severity, code string
		coding         fhir.Coding
	}{
		{"0006 no more prescriptions is information", SpineCode{v3.OIDDispenseErrorCode, "0006", "none left", AckSeverityError},
			"information", "informational", fhir.Coding{System: eps, Code: "NO_MORE_PRESCRIPTIONS", Display: "No more prescriptions available"}},
		{"warning qualifier is still an error", SpineCode{v3.OIDPrescribeErrorCode, "0002", "dup", AckSeverityWarning},
			"error", "duplicate", fhir.Coding{System: eps, Code: "DUPLICATE_PRESCRIPTION_ID", Display: "Duplicate prescription ID exists"}},
		{"information qualifier is still an error", SpineCode{v3.OIDDispenseErrorCode, "5000", "Unable to process message. Information missing or invalid - x", AckSeverityInformation},
			"error", "processing", fhir.Coding{System: spine, Code: "FAILURE_TO_PROCESS_MESSAGE", Display: "Unable to process message. Information missing or invalid - x"}},
		{"warning detail is an error", SpineCode{v3.OIDAckDetailCode, "203", "Some warning", AckSeverityWarning},
			"error", "invalid", fhir.Coding{System: spine, Code: "203", Display: "Some warning"}},
		{"cancellation code in an acknowledgement passes through", SpineCode{v3.OIDCancellationCode, "0008", "Prescription/item not found", AckSeverityError},
			"error", "invalid", fhir.Coding{System: spine, Code: "0008", Display: "Prescription/item not found"}},
		{"other system passes through", SpineCode{"1.2.3.4", "X1", "other", AckSeverityInformation},
			"error", "invalid", fhir.Coding{System: spine, Code: "X1", Display: "other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := OutcomeIssueFromV3(tt.in)
			if iss.Severity != tt.severity || iss.Code != tt.code || iss.Details == nil || iss.Details.Coding[0] != tt.coding {
				t.Fatalf("OutcomeIssueFromV3(%+v) = %s %s %+v\nwant %s %s %+v", tt.in, iss.Severity, iss.Code, iss.Details, tt.severity, tt.code, tt.coding)
			}
			// porxgate's own outcome still gives back exactly the v3 code,
			// qualifier included.
			ve, err := V3ErrorFromOutcome(&fhir.OperationOutcome{Issue: []fhir.Issue{iss}}, 400, ErrorFamilyDispense)
			if err != nil || len(ve.Codes) != 1 || ve.Codes[0] != tt.in {
				t.Errorf("back to v3 = %+v, %v; want %+v", ve.Codes, err, tt.in)
			}
		})
	}
}

// TestEPSOwnCodes maps the codes the EPS API makes itself rather than from
// Spine (packages/coordinator/src/services/communication/common.ts,
// response/tracker/translation.ts): each has a documented Spine code and is
// not reported as unmapped.
func TestEPSOwnCodes(t *testing.T) {
	const (
		r4    = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
		spine = fhir.CodeSystemSpineErrorOrWarning
		p     = v3.OIDPrescribeErrorCode
		d     = v3.OIDDispenseErrorCode
		c     = v3.OIDCancellationCode
	)
	notSupported := maptest.Issue("information", "informational", r4, "INTERACTION_NOT_SUPPORTED", "Interaction not supported", "")
	tests := []struct {
		name   string
		issue  fhir.Issue
		family ErrorFamily
		want   SpineCode
	}{
		{"interaction not supported (dispense)", notSupported, ErrorFamilyDispense, SpineCode{d, "0007", "Functionality disabled in spine", AckSeverityError}},
		{"interaction not supported (release)", notSupported, ErrorFamilyRelease, SpineCode{d, "0007", "Functionality disabled in spine", AckSeverityError}},
		{"interaction not supported (cancel)", notSupported, ErrorFamilyCancel, SpineCode{c, "0009", "Cancellation functionality disabled in SPINE", AckSeverityError}},
		{"interaction not supported (prescribe)", notSupported, ErrorFamilyPrescribe, SpineCode{p, "9999", "Unable to process message. Information missing or invalid - Interaction not supported", AckSeverityError}},
		{"timeout", maptest.Issue("error", "exception", r4, "TIMEOUT", "Timeout waiting for response", ""), ErrorFamilyDispense,
			SpineCode{d, "5000", "Unable to process message. Information missing or invalid - Timeout waiting for response", AckSeverityError}},
		{"tracker INVALID", maptest.Issue("error", "invalid", spine, "INVALID", "Prescription not found", ""), ErrorFamilyDispense,
			SpineCode{d, "5000", "Unable to process message. Information missing or invalid - Prescription not found", AckSeverityError}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ve, err := V3ErrorFromOutcome(&fhir.OperationOutcome{Issue: []fhir.Issue{tt.issue}}, 400, tt.family)
			if err != nil {
				t.Fatal(err)
			}
			if len(ve.Codes) != 1 || ve.Codes[0] != tt.want || ve.TypeCode != AckError {
				t.Errorf("V3ErrorFromOutcome = %s %+v, want AE %+v", ve.TypeCode, ve.Codes, tt.want)
			}
			if len(ve.Unmapped) != 0 {
				t.Errorf("Unmapped = %v, want none", ve.Unmapped)
			}
		})
	}
}
