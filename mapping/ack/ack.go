package ack

import (
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Application acknowledgements (MCCI_IN010000UK13): the model shared by the
// v3 side (v3.go), the FHIR side (fhir.go) and the translator
// (translator.go). docs/mappings/acks.md describes the mapping.

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
	Details []core.SpineCode
	// MessageRef is acknowledgement/messageRef/id/@root: the id of the
	// message acknowledged.
	MessageRef string
	// ReceiverASID and SenderASID are communicationFunctionRcv/Snd devices.
	ReceiverASID, SenderASID string
	// SystemASID is ControlActEvent/author1's agentSystemSDS id.
	SystemASID string
	// Reasons are the ControlActEvent/reason/justifyingDetectedIssueEvent
	// codes (AE).
	Reasons []core.SpineCode
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
