// Package fhir holds hand-written Go structs for the EPS FHIR R4 profiles
// porxgate exchanges with the EPS FHIR API (Bundle, MessageHeader,
// MedicationRequest, MedicationDispense, Task, Parameters, Claim, Provenance,
// Patient, Practitioner, PractitionerRole, Organization, OperationOutcome and
// their neighbours), and the code and identifier systems as named constants.
//
// Decimal values are kept as json.Number so that the text a sender wrote
// ("5", "5.0", "0.25") survives a round trip unchanged. The package imports no
// other porxgate package.
//
// Resources are decoded by the package's own decoder (json_decode.go, driven
// by plans made once from the types, json_plan.go) where it reads them, and by
// goccy/go-json otherwise, with the same results and errors either way.
// Marshal and MarshalIndent write the resource types the package models with
// its own encoder (json_encode.go: writers generated from plans of the
// types, json_encode_gen.go from json_encode_plan.go's plans by
// json_encode_gen_test.go, strings copied sixteen bytes at a time,
// json_encode_str_amd64.s) and anything else with goccy/go-json, with the
// same bytes either way.
package fhir
