// Package release maps releases: a dispenser asks for prescriptions and
// gets them, or is refused.
//
//   - Release requests (PORX_IN060102UK30 nominated, PORX_IN132004UK30
//     patient) ↔ the Task/$release Parameters (owner, group-identifier,
//     status, agent): request*.go.
//   - Release responses (PORX_IN070101UK31 nominated, PORX_IN070103UK31
//     patient) ↔ the $release answer (Parameters with passedPrescriptions and
//     failedPrescriptions searchset Bundles of prescription-order Bundles):
//     response*.go, each prescription through package prescribe plus what
//     Spine adds on release (prescription*.go).
//   - Release rejection (PORX_IN110101UK30) ↔ the OperationOutcome of
//     $release: rejection*.go.
//   - The gateway's answer to a legacy release request from EPS's answer:
//     answer.go.
//
// docs/mappings/release.md has the element-by-element tables.
package release
