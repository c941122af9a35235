package core

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// ErrorFamily names the kind of request an error answers, which chooses the
// Spine code table the legacy side expects: prescribing errors
// (2.16.840.1.113883.2.1.3.2.4.17.22), dispensing errors and release
// rejection reasons (…16.34), or cancellation response codes (…17.19).
type ErrorFamily string

// The error families.
const (
	// ErrorFamilyPrescribe answers Parent Prescriptions: MCCI AE with …17.22 codes.
	ErrorFamilyPrescribe ErrorFamily = "prescribe"
	// ErrorFamilyDispense answers dispense notifications, claims, returns,
	// withdrawals: MCCI AE with …16.34 codes.
	ErrorFamilyDispense ErrorFamily = "dispense"
	// ErrorFamilyRelease answers release requests: the rejection reason of a
	// Prescription Release Rejection (PORX_IN110101UK30), a …16.34 code.
	ErrorFamilyRelease ErrorFamily = "release"
	// ErrorFamilyCancel answers cancel requests: the cancellation response
	// code (…17.19) of a Cancel Response (PORX_IN050101UK31).
	ErrorFamilyCancel ErrorFamily = "cancel"
)

// ErrorFamilyOf returns the error family of a request interaction id (UK or
// SM family).
func ErrorFamilyOf(interaction string) (ErrorFamily, error) {
	canon, _, err := v3.Canonical(interaction)
	if err != nil {
		return "", fmt.Errorf("error family: %w", err)
	}
	switch canon {
	case v3.ParentPrescription, v3.ParentPrescriptionNonUrgent:
		return ErrorFamilyPrescribe, nil
	case v3.CancelRequest:
		return ErrorFamilyCancel, nil
	case v3.PatientReleaseRequest, v3.NominatedReleaseRequest:
		return ErrorFamilyRelease, nil
	case v3.DispenseProposalReturn, v3.DispenseNotification, v3.DispenseClaimInformation,
		v3.DispenseReimbursementClaim, v3.DispenseNoClaimNotification, v3.DispenserWithdraw,
		v3.RebuildDispenseHistory:
		return ErrorFamilyDispense, nil
	}
	return "", fmt.Errorf("error family: %s is not a request porxgate answers", interaction)
}

func (f ErrorFamily) valid() bool {
	switch f {
	case ErrorFamilyPrescribe, ErrorFamilyDispense, ErrorFamilyRelease, ErrorFamilyCancel:
		return true
	}
	return false
}

// V3Error is the Spine-shaped form of an EPS FHIR error answer.
type V3Error struct {
	// Family is the family the codes were chosen for.
	Family ErrorFamily
	// TypeCode is the MCCI acknowledgement typeCode: AR when every code is an
	// acknowledgementDetail code (…17.32), AE otherwise.
	TypeCode string
	// Codes are the v3 codes, one per error issue, in issue order: …17.32
	// codes go to acknowledgement/acknowledgementDetail, the others to
	// ControlActEvent/reason (AE), the release rejection reason or the
	// cancellation response.
	Codes []SpineCode
	// Unmapped lists the FHIR codes (system|code, or the issue type) that no
	// table row knew and that therefore took the family's generic "unable to
	// process" code; callers log them. Empty for every code the corpus shows.
	Unmapped []string
}

// Details returns the acknowledgementDetail codes (…17.32).
func (e V3Error) Details() []SpineCode { return e.split(true) }

// Reasons returns the codes that are not acknowledgementDetail codes.
func (e V3Error) Reasons() []SpineCode { return e.split(false) }

func (e V3Error) split(details bool) []SpineCode {
	var out []SpineCode
	for _, c := range e.Codes {
		if (c.System == v3.OIDAckDetailCode) == details {
			out = append(out, c)
		}
	}
	return out
}

// oidSystem is the FHIR coding system of a v3 code system OID.
func oidSystem(oid string) string { return "urn:oid:" + oid }

// UnableToProcess opens the displayName Spine gives its generic validation
// errors (…16.34 5000, …17.19 5000).
const UnableToProcess = "Unable to process message. Information missing or invalid"

// V3ErrorFromOutcome maps an EPS FHIR OperationOutcome (with the HTTP status
// it came with) to the v3 codes of the family's Spine answer. Each issue
// that carries a Spine-ErrorOrWarningCode, EPS-IssueCode,
// medicationrequest-status-history or urn:oid:<v3 code system> coding, and
// every error or fatal issue, gives one code:
//   - a urn:oid coding of a v3 code system is the v3 code itself (porxgate
//     writes one beside every code it maps from v3, so its own outcomes come
//     back exactly);
//   - a numeric Spine code is an acknowledgementDetail code (…17.32), as the
//     EPS API passes those through;
//   - a named code is looked up in the family's table, then in the other
//     one (claims answer with …17.22 codes); EPS-only validation codes take
//     the family's "unable to process" code with the issue's text;
//   - an issue without such a coding maps by its issue type.
//
// An outcome without any such issue maps by the HTTP status when it is 4xx
// or 5xx (404: not found) and is an error otherwise.
func V3ErrorFromOutcome(oo *fhir.OperationOutcome, httpStatus int, family ErrorFamily) (V3Error, error) {
	if !family.valid() {
		return V3Error{}, fmt.Errorf("V3ErrorFromOutcome: unknown error family %q", family)
	}
	out := V3Error{Family: family}
	if oo != nil {
		for i, iss := range oo.Issue {
			c, unmapped, ok := issueToV3(iss, family)
			if !ok {
				continue
			}
			out.Codes = append(out.Codes, c)
			if unmapped != "" {
				out.Unmapped = append(out.Unmapped, fmt.Sprintf("issue[%d] %s", i, unmapped))
			}
		}
	}
	if len(out.Codes) == 0 {
		if httpStatus < 400 {
			return V3Error{}, fmt.Errorf("V3ErrorFromOutcome: HTTP %d outcome without an error issue is not an error answer", httpStatus)
		}
		k := KindGeneric
		if httpStatus == 404 {
			k = kindNotFound
		}
		sys, code, display := FamilyCode(family, k)
		if display == "" {
			display = fmt.Sprintf("%s - EPS answered HTTP %d without an error issue", UnableToProcess, httpStatus)
		}
		out.Codes = append(out.Codes, SpineCode{System: sys, Code: code, Display: display, Severity: AckSeverityError})
		out.Unmapped = append(out.Unmapped, fmt.Sprintf("HTTP %d", httpStatus))
	}
	for i := range out.Codes {
		out.Codes[i].Display = V3LineEnds(out.Codes[i].Display)
	}
	out.TypeCode = AckRejected
	for _, c := range out.Codes {
		if c.System != v3.OIDAckDetailCode {
			out.TypeCode = AckError
		}
	}
	return out, nil
}

// issueToV3 maps one issue; ok is false for an issue that is not an error
// (an informational issue without an error coding).
func issueToV3(iss fhir.Issue, f ErrorFamily) (c SpineCode, unmapped string, ok bool) {
	sev := SeverityToV3(iss.Severity)
	if iss.Details != nil {
		for _, cd := range iss.Details.Coding {
			if oid, isOID := strings.CutPrefix(cd.System, "urn:oid:"); isOID && oid != "" && cd.Code != "" {
				return SpineCode{System: oid, Code: cd.Code, Display: cd.Display, Severity: V3SeverityOf(iss)}, "", true
			}
		}
		for _, cd := range iss.Details.Coding {
			if cd.Code == "" {
				continue
			}
			switch {
			case cd.System == fhir.CodeSystemStatusHistory:
				c, unmapped = statusHistoryToV3(f, iss, cd)
			case isSpineSystem(cd.System):
				c, unmapped = spineCodingToV3(f, iss, cd)
				if e := findEPSOnly(cd.Code); e != nil && e.refusal {
					sev = AckSeverityError
				}
			default:
				continue
			}
			c.Severity = sev
			return c, unmapped, true
		}
	}
	if iss.Severity != "error" && iss.Severity != "fatal" {
		return SpineCode{}, "", false
	}
	k, known := issueKindOf(iss.Code)
	if k == kindNone {
		k = KindGeneric
	}
	c = genericCode(f, k, iss, nil)
	c.Severity = sev
	if !known {
		unmapped = "issue type " + iss.Code
	}
	return c, unmapped, true
}

// HasSpineCoding reports whether an outcome has an issue coded with one of
// the EPS API's Spine error code systems (Spine-ErrorOrWarningCode,
// EPS-IssueCode, either spelling) or a urn:oid v3 code: an outcome the EPS
// API made from a Spine error answer, even when it came with HTTP 200 (all
// its issues informational: NO_MORE_PRESCRIPTIONS). The EPS API's success
// outcome has no coded issue.
func HasSpineCoding(oo *fhir.OperationOutcome) bool {
	if oo == nil {
		return false
	}
	for _, iss := range oo.Issue {
		if iss.Details == nil {
			continue
		}
		for _, cd := range iss.Details.Coding {
			if cd.Code == "" || cd.System == "" {
				continue
			}
			if isSpineSystem(cd.System) || strings.HasPrefix(cd.System, "urn:oid:") {
				return true
			}
		}
	}
	return false
}

// V3LineEnds turns the line ends of a free text (EPS diagnostics, a
// passed-through displayName) into line feeds: every XML receiver reads CR
// and CR LF as LF, so a v3 value written with them would not be read back
// as written.
func V3LineEnds(s string) string {
	if !strings.ContainsRune(s, '\r') {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// isSpineSystem reports whether a coding system is one of the EPS API's
// error code systems (both spellings it uses), or empty as in the EPS API's
// pass-through of Spine's numeric codes.
func isSpineSystem(s string) bool {
	switch s {
	case "", fhir.CodeSystemSpineErrorOrWarning, fhir.CodeSystemEPSIssueCode,
		"https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
		"https://fhir.nhs.uk/R4/CodeSystem/EPS-IssueCode":
		return true
	}
	return false
}

// spineCodingToV3 maps a Spine-ErrorOrWarningCode or EPS-IssueCode coding.
func spineCodingToV3(f ErrorFamily, iss fhir.Issue, cd fhir.Coding) (SpineCode, string) {
	if isNumericCode(cd.Code) {
		display := cd.Display
		if display == "" {
			display = ackDetailDisplay(cd.Code)
		}
		return SpineCode{System: v3.OIDAckDetailCode, Code: cd.Code, Display: display}, ""
	}
	if f == ErrorFamilyCancel {
		return cancelNamedToV3(iss, cd)
	}
	first, second := prescribeErrors[:], DispenseErrors[:]
	firstOID, secondOID := v3.OIDPrescribeErrorCode, v3.OIDDispenseErrorCode
	if f != ErrorFamilyPrescribe {
		first, second = second, first
		firstOID, secondOID = secondOID, firstOID
	}
	if e := findByFHIRCode(first, cd.Code); e != nil {
		return SpineCode{System: firstOID, Code: e.V3Code, Display: entryDisplay(e, iss, cd)}, ""
	}
	if e := findByFHIRCode(second, cd.Code); e != nil {
		return SpineCode{System: secondOID, Code: e.V3Code, Display: entryDisplay(e, iss, cd)}, ""
	}
	if e := findEPSOnly(cd.Code); e != nil {
		return genericCode(f, e.kind, iss, &cd), ""
	}
	return genericCode(f, KindGeneric, iss, &cd), cd.System + "|" + cd.Code
}

// cancelNamedToV3 maps a named Spine or EPS code answering a cancel request
// to a cancellation response code.
func cancelNamedToV3(iss fhir.Issue, cd fhir.Coding) (SpineCode, string) {
	v3Code := ""
	switch cd.Code {
	case "INVALID_MESSAGE":
		v3Code = "5888"
	case "RESOURCE_NOT_FOUND", "PRESCRIPTION_NOT_FOUND", "MEDICATIONREQUEST_NOT_FOUND":
		v3Code = "0008"
	case "SERVICE_DISABLED":
		v3Code = "0009"
	case "PRESCRIPTION_CANCELLED":
		v3Code = "0006"
	case "PRESCRIPTION_DISPENSED":
		v3Code = "0004"
	case "PRESCRIPTION_EXPIRED":
		v3Code = "0005"
	}
	if v3Code != "" {
		e := findCancelByV3(v3Code)
		return SpineCode{System: v3.OIDCancellationCode, Code: e.v3Code, Display: e.display}, ""
	}
	epsOnly := findEPSOnly(cd.Code)
	k := KindGeneric
	if epsOnly != nil {
		k = epsOnly.kind
	}
	c := genericCode(ErrorFamilyCancel, k, iss, &cd)
	if epsOnly != nil || findByFHIRCode(prescribeErrors[:], cd.Code) != nil || findByFHIRCode(DispenseErrors[:], cd.Code) != nil {
		return c, ""
	}
	return c, cd.System + "|" + cd.Code
}

// statusHistoryToV3 maps an R-code: the cancellation response code itself
// for the cancel family; for the others only the error R-codes have a
// meaning (5000, 5888, not found, disabled).
func statusHistoryToV3(f ErrorFamily, iss fhir.Issue, cd fhir.Coding) (SpineCode, string) {
	e := findCancelByFHIR(cd.Code)
	if e == nil {
		return genericCode(f, KindGeneric, iss, &cd), cd.System + "|" + cd.Code
	}
	if f == ErrorFamilyCancel {
		display := e.display
		if display == "" {
			display = FirstNonEmpty(cd.Display, iss.Diagnostics)
		}
		return SpineCode{System: v3.OIDCancellationCode, Code: e.v3Code, Display: display}, ""
	}
	switch e.v3Code {
	case "0008":
		return genericCode(f, kindNotFound, iss, &cd), ""
	case "0009":
		return genericCode(f, kindNotSupported, iss, &cd), ""
	case "5888":
		return genericCode(f, kindInvalid, iss, &cd), ""
	case "5000":
		return genericCode(f, KindGeneric, iss, &cd), ""
	}
	return genericCode(f, KindGeneric, iss, &cd), cd.System + "|" + cd.Code
}

// genericCode returns the family's code for an issue kind; a code without a
// fixed display takes the issue's text after "Unable to process message.
// Information missing or invalid - ".
func genericCode(f ErrorFamily, k issueKind, iss fhir.Issue, cd *fhir.Coding) SpineCode {
	sys, code, display := FamilyCode(f, k)
	if display == "" {
		detail := iss.Diagnostics
		if detail == "" && cd != nil {
			detail = FirstNonEmpty(cd.Display, cd.Code)
		}
		if detail == "" {
			detail = iss.Code
		}
		display = detail
		if !strings.HasPrefix(detail, UnableToProcess) {
			display = UnableToProcess + " - " + detail
		}
	}
	return SpineCode{System: sys, Code: code, Display: display}
}

// entryDisplay is the v3 displayName for a table row: the row's fixed text,
// or for pass-through rows the coding's display (the issue's diagnostics
// when it has none).
func entryDisplay(e *spineErrorEntry, iss fhir.Issue, cd fhir.Coding) string {
	if e.Display != "" {
		return FirstNonEmpty(cd.Display, e.Display)
	}
	return FirstNonEmpty(cd.Display, iss.Diagnostics)
}

// SeverityToV3 returns the v3 qualifier or detail typeCode of a FHIR issue
// severity: WG for warning, IF for information, ER otherwise.
func SeverityToV3(s string) string {
	switch s {
	case "warning":
		return AckSeverityWarning
	case "information":
		return AckSeverityInformation
	}
	return AckSeverityError
}

func severityFromV3(s string) string {
	switch s {
	case AckSeverityWarning:
		return "warning"
	case AckSeverityInformation:
		return "information"
	}
	return "error"
}

func issueKindOf(issueType string) (issueKind, bool) {
	for _, r := range issueTypeKinds {
		if r.issueType == issueType {
			return r.kind, true
		}
	}
	return KindGeneric, false
}

func findByFHIRCode(t []spineErrorEntry, code string) *spineErrorEntry {
	for i := range t {
		if t[i].code == code {
			return &t[i]
		}
	}
	return nil
}

// FindByV3Code returns the row of a code table with the v3 code, or nil.
func FindByV3Code(t []spineErrorEntry, code string) *spineErrorEntry {
	for i := range t {
		if t[i].V3Code == code {
			return &t[i]
		}
	}
	return nil
}

func findCancelByV3(code string) *cancelEntry {
	for i := range cancelCodes {
		if cancelCodes[i].v3Code == code {
			return &cancelCodes[i]
		}
	}
	return nil
}

func findCancelByFHIR(code string) *cancelEntry {
	for i := range cancelCodes {
		if cancelCodes[i].fhirCode == code {
			return &cancelCodes[i]
		}
	}
	return nil
}

func findEPSOnly(code string) *epsOnlyEntry {
	for i := range epsOnlyCodes {
		if epsOnlyCodes[i].code == code {
			return &epsOnlyCodes[i]
		}
	}
	return nil
}

func ackDetailDisplay(code string) string {
	for _, d := range ackDetailCodes {
		if d.code == code {
			return d.display
		}
	}
	return ""
}

func isNumericCode(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FirstNonEmpty returns the first non-empty string, or "".
func FirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
