package core

// Acknowledgement type codes of an MCCI application acknowledgement.
const (
	// AckAccepted (AA): the message was accepted and processed.
	AckAccepted = "AA"
	// AckError (AE): a business error; the codes are in
	// ControlActEvent/reason/justifyingDetectedIssueEvent/code.
	AckError = "AE"
	// AckRejected (AR): the message was rejected; the codes are in
	// acknowledgement/acknowledgementDetail/code (2.16.840.1.113883.2.1.3.2.4.17.32).
	AckRejected = "AR"
	// AckErrorAlternative (ER) is not in the MIM, but Spine can answer
	// with it; it means AE (the EPS API's AcknowledgementTypeCode
	// ERROR_ALTERNATIVE). porxgate reads it and writes it back as read,
	// and never makes it.
	AckErrorAlternative = "ER"
)

// Qualifier and detail type codes: ER marks an error, WG a warning and IF
// an information.
const (
	AckSeverityError       = "ER"
	AckSeverityWarning     = "WG"
	AckSeverityInformation = "IF"
)

// SpineCode is one coded error of a v3 answer: an acknowledgementDetail code
// (Severity is the detail's typeCode), a detected issue code (Severity is
// its qualifier code), a release rejection reason or a cancellation response
// code (Severity unused).
type SpineCode struct {
	// System is the code system OID (@codeSystem).
	System string
	// Code is @code.
	Code string
	// Display is @displayName; empty when absent.
	Display string
	// Severity is ER, WG or IF.
	Severity string
}
