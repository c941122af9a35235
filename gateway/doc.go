// Package gateway is the running porxgate service on Fiber: its
// configuration, HTTP routes (health, readiness, metrics and the legacy
// front doors), the message pipeline and its wiring to the store and the
// upstream EPS FHIR client.
//
// Sub-packages hold the larger rooms: store (Redis and in-memory state),
// upstream (the EPS FHIR client) and sim (the EPS FHIR simulator).
package gateway
