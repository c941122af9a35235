// Package cancel maps cancellation: the Cancel Request (PORX_IN030101UK32,
// SM32) ↔ the FHIR prescription-order-update message Bundle, and the Cancel
// Response (PORX_IN050101UK31) and Subsequent Cancel Response
// (PORX_IN050102UK32) ↔ the prescription-order-response Bundle the EPS FHIR
// API answers with (the OperationOutcome it answers with for an error code).
//
// write.go turns FHIR into the CancellationRequest, read.go the reverse;
// parties.go writes and reads the AgentPerson of the cancellation payloads
// and the v3 layout extension; response*.go maps the CancellationResponse
// both ways; reply.go makes the Cancel Response and Subsequent Cancel
// Response the gateway sends a prescriber from the prescriber's own request
// and EPS's answer (CancelOutcome).
package cancel
