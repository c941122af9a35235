// Package gateway is the running porxgate service on Fiber: its
// configuration, HTTP routes (health, readiness, metrics and the legacy
// front doors), the message pipeline and its wiring to the store and the
// upstream EPS FHIR client.
//
// Sub-packages hold the larger rooms: store (Redis and in-memory state),
// outbox (reliable delivery of async ebXML messages, the routing table and
// the dead letters), cancels (pending cancellations: tracking, settling,
// polling, answering, their admin view and metrics), upstream (the EPS
// FHIR client) and sim (the EPS FHIR simulator).
//
// The legacy front doors (PathEbXML, PathSOAP) hand each message to a
// Processor; Run gets it from OpenProcessor: the EPSProcessor, which maps
// the v3 payload to FHIR, calls EPS and maps the answer back (MCCI
// acknowledgements, release responses and rejections, cancel responses),
// with a cancels.Service tracking the pending cancellations until their
// Subsequent Cancel Response (wired in cancel_wiring.go). The Tracker REST API (/mm/prescriptions) is
// served beside them.
package gateway
