// Package ack maps the application acknowledgement (MCCI_IN010000UK13):
// BuildAck writes it and ParseAck reads it back exactly (v3.go, parse.go);
// AckToOutcome, AckFromFHIR and AckFromOutcome turn it into and out of the
// OperationOutcome the EPS FHIR API answers with (fhir.go); AckTranslator
// serves it through the registry (translator.go). docs/mappings/acks.md
// describes the mapping; the Spine error tables are in package core.
package ack
