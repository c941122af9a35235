// Package dispense maps the Dispense Notification (PORX_IN080101UK31) and
// its amendment ↔ the EPS FHIR dispense-notification message, and Rebuild
// Dispense History (PORX_IN540101UK31) ↔ porxgate's rebuild message, which
// nests dispense notifications (rebuild.go).
//
// v3 → FHIR is read.go and read_build.go, FHIR → v3 write.go and
// write_items.go. The dispense claim nests dispense information through its
// exported ReadDispenseNotification, WriteDispenseNotification,
// WriteObservation and WriteNested. docs/mappings/PORX_IN080101UK31.md and
// PORX_IN540101UK31.md have the element-by-element tables.
package dispense
