// Package prescribe maps prescribing: the v3 Parent Prescription
// (PORX_IN020101UK31, non-urgent PORX_IN020102UK31, and their SM variants)
// ↔ the EPS FHIR prescription-order message Bundle, following the EPS API's
// own translation rules, and $prepare's digest of the prescription to sign
// (prepare.go).
//
// FHIR → v3 is write.go (with the signature kept byte for byte,
// signature.go), v3 → FHIR read.go and read_build.go; what a legacy sender
// says that EPS FHIR has no element for travels in porxgate's extensions
// (carry.go, ext.go). Release (a release response carries prescriptions)
// and the reimbursement claim use its exported ReadParentPrescription and
// WriteParentPrescription. docs/mappings/prescribe.md has the
// element-by-element table.
package prescribe
