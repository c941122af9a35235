package mapping

import v3 "github.com/porxgate/porxgate/v3"

// Application acknowledgements (MCCI_IN010000UK13): the model shared by the
// v3 side (ack_v3.go), the FHIR side (ack_fhir.go) and the translator
// (ack_translator.go). docs/mappings/acks.md describes the mapping.

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
)

// Qualifier and detail type codes: ER marks an error, WG a warning and IF
// an information.
const (
	AckSeverityError       = "ER"
	AckSeverityWarning     = "WG"
	AckSeverityInformation = "IF"
)

// Ack is one MCCI_IN010000UK13 application acknowledgement, every element
// Spine writes in it: the transmission wrapper, the acknowledgement with its
// details and message reference, the ControlActEvent's author1 and its
// reasons.
type Ack struct {
	// ID is the acknowledgement's own message id (id/@root).
	ID string
	// CreationTime is creationTime/@value (YYYYMMDDHHmmss).
	CreationTime string
	// VersionCode is versionCode/@code: V3NPfIT4.2.00, or "1" in Spine's
	// sync answers.
	VersionCode string
	// Interaction is interactionId/@extension and the root element's name.
	Interaction string
	// ProcessingCode, ProcessingModeCode and AcceptAckCode are P, T and NE.
	ProcessingCode, ProcessingModeCode, AcceptAckCode string
	// TypeCode is acknowledgement/@typeCode: AA, AE or AR.
	TypeCode string
	// Details are the acknowledgement/acknowledgementDetail codes (AR).
	Details []SpineCode
	// MessageRef is acknowledgement/messageRef/id/@root: the id of the
	// message acknowledged.
	MessageRef string
	// ReceiverASID and SenderASID are communicationFunctionRcv/Snd devices.
	ReceiverASID, SenderASID string
	// SystemASID is ControlActEvent/author1's agentSystemSDS id.
	SystemASID string
	// Reasons are the ControlActEvent/reason/justifyingDetectedIssueEvent
	// codes (AE).
	Reasons []SpineCode
}

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

// ackDefaults fills the fixed transmission values Spine writes where they
// are empty.
func (a *Ack) ackDefaults() {
	if a.VersionCode == "" {
		a.VersionCode = v3.OIDVersionCodeV42
	}
	if a.Interaction == "" {
		a.Interaction = v3.ApplicationAcknowledgement
	}
	if a.ProcessingCode == "" {
		a.ProcessingCode = "P"
	}
	if a.ProcessingModeCode == "" {
		a.ProcessingModeCode = "T"
	}
	if a.AcceptAckCode == "" {
		a.AcceptAckCode = "NE"
	}
}
