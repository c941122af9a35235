// Package tracker maps the EPS Tracker REST API: Spine's JSON prescription
// tracker (search a patient's prescriptions, retrieve one) and the
// prescription trace, ↔ the EPS FHIR tracker (GET /Task answering a
// searchset Bundle of Tasks, or an OperationOutcome).
//
// query.go reads and checks the legacy query; from_fhir.go and select.go
// turn EPS's Tasks into the legacy answer; json.go and to_fhir.go read the
// legacy JSON and write its FHIR twin; trace*.go the trace answers;
// codes.go the status codes both sides use. docs/tracker.md describes the
// API.
package tracker
