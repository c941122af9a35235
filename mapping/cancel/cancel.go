package cancel

import (
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Cancellation: the Cancel Request (PORX_IN030101UK32, SM32) ↔ the FHIR
// prescription-order-update message Bundle, and the Cancel Response
// (PORX_IN050101UK31) and Subsequent Cancel Response (PORX_IN050102UK32) ↔
// the prescription-order-response Bundle the EPS FHIR API answers with.
//
// Files: write.go (FHIR → CancellationRequest), read.go
// (CancellationRequest → FHIR), parties.go (the AgentPerson of the
// cancellation payloads and the v3 layout extension), response*.go
// (CancellationResponse both ways), reply.go (the Cancel Response
// and Subsequent Cancel Response the gateway sends a prescriber, made from
// the prescriber's own request and EPS's answer).

// CancelTranslator returns the Translator for the corpus kind "Cancel":
// Cancel Request ↔ prescription-order-update.
func CancelTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Cancel",
		Interactions: []string{v3.CancelRequest},
		ToV3:         CancelToV3,
		ToFHIR:       CancelToFHIR,
	}
}

// CancelResponseTranslator returns the Translator of the Cancel Response and
// the Subsequent Cancel Response ↔ prescription-order-response. It has no
// corpus kind: cancel responses are answers, not FHIR requests.
func CancelResponseTranslator() *core.Translator {
	return &core.Translator{
		Interactions: []string{v3.CancelResponse, v3.SubsequentCancelResponse},
		ToV3:         CancelResponseToV3,
		ToFHIR:       CancelResponseToFHIR,
	}
}

// FHIR systems, extensions and events of cancellation messages.
const (
	// CodeSystemStatusReason holds the reasons a prescriber cancels for
	// (MedicationRequest.statusReason; v3 …16.27).
	CodeSystemStatusReason = "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason"
	// ExtensionPrescriptionStatusHistory carries the cancellation response
	// code (status, a medicationrequest-status-history coding) and its
	// time (statusDate) on the MedicationRequest of an EPS answer.
	ExtensionPrescriptionStatusHistory = fhir.ExtensionPrescriptionStatusHistory
	// ExtensionPrescriptionTaskStatusReason is the older name of
	// ExtensionPrescriptionStatusHistory that some EPS examples still
	// carry; it is read, never written.
	ExtensionPrescriptionTaskStatusReason = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionTaskStatusReason"
	// ExtensionDispensingPerformer points dispenseRequest.performer at the
	// PractitionerRole of the dispenser holding the prescription.
	ExtensionDispensingPerformer = "https://fhir.nhs.uk/StructureDefinition/Extension-DM-DispensingPerformer"
	// EventPrescriptionOrderResponse is the message event of the EPS answer
	// to a prescription-order-update.
	EventPrescriptionOrderResponse = fhir.EventPrescriptionOrderResponse
	// ExtensionCancelV3 is porxgate's extension on the MessageHeader of a
	// cancellation message made from v3: it keeps the v3 values FHIR has no
	// element for. Sub-extensions, each only where
	// the FHIR form alone would not give the value back: effectiveTime,
	// creationTime, messageRef, performerTime, versionCode, processingCode,
	// processingModeCode, acceptAckCode (valueString, as written in v3),
	// acknowledgement (valueCode AA or AE; always written on responses), and
	// on a request cancellationReason (valueCoding, one for each v3 reason
	// after the first, which is the statusReason), in order.
	ExtensionCancelV3 = "https://porxgate.github.io/fhir/StructureDefinition/Extension-porxgate-CancelV3"
	// extCancellationReason is ExtensionCancelV3's sub-extension for a
	// cancel request's reasons after the first.
	extCancellationReason = "cancellationReason"
	// ExtensionV3Layout is porxgate's extension on a Patient or
	// PractitionerRole made from v3 whose v3 element the FHIR form does not
	// give back exactly (attribute order aside): valueString holds the
	// element as received (namespace prefixes and declarations dropped). It
	// is used on the way back only while the FHIR resource still says what
	// the element says, so FHIR always wins over it.
	ExtensionV3Layout = "https://porxgate.github.io/fhir/StructureDefinition/Extension-porxgate-v3Layout"
)

// Fixed v3 values of the cancellation payloads.
const (
	oidCancellationReason = "2.16.840.1.113883.2.1.3.2.4.16.27"
	codePrescriptionID    = "PID"
	codeCancelReason      = "CR"
	codeCancelResponse    = "CRR"
	// codeMedicinalProduct is the SNOMED "Medicinal product" the EPS API
	// puts on a MedicationRequest that names no medicine (cancellations).
	codeMedicinalProduct = "763158003"
	nameMedicinalProduct = "Medicinal product"
	// spineODS names NHS Digital Spine as the sender of an answer.
	spineODS  = "X2601"
	spineName = "NHS Digital Spine"
)
