// Package claim maps the claims a dispenser sends after supply:
//
//   - Dispense Claim Information (PORX_IN090101UK31) and its amendment ↔
//     the EPS FHIR Claim (claim.go, read*.go, write*.go);
//   - Dispense Reimbursement Claim (PORX_IN370101UK31) and Dispense No Claim
//     Notification (PORX_IN460101UK31) ↔ porxgate's batch message, which
//     nests the prescription, the claim and the dispense notifications as
//     their own FHIR shapes (reimbursement.go, through packages prescribe
//     and dispense).
//
// docs/mappings/PORX_IN090101UK31.md, PORX_IN370101UK31.md and
// PORX_IN460101UK31.md have the element-by-element tables.
package claim
