// Package task maps the two dispenser messages the EPS FHIR API takes as a
// Task: Dispense Proposal Return (PORX_IN100101UK31) ↔ a Task with status
// rejected (return.go), and Dispenser Withdraw (PORX_IN510101UK31) ↔ a Task
// in progress with code abort (withdraw.go). task.go holds what both share:
// the prescription by groupIdentifier, the dispenser by a contained
// PractitionerRole, the reason by statusReason.
package task
