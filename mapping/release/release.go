package release

import (
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Release: a dispenser asks for prescriptions and gets them, or is refused.
//
//   - Release requests (PORX_IN060102UK30 nominated, PORX_IN132004UK30
//     patient) ↔ the Task/$release Parameters (owner, group-identifier,
//     status, agent): request*.go.
//   - Release responses (PORX_IN070101UK31 nominated, PORX_IN070103UK31
//     patient) ↔ the $release answer (Parameters with passedPrescriptions and
//     failedPrescriptions searchset Bundles of prescription-order Bundles):
//     response*.go, the ParentPrescriptions through the prescribing
//     mapper plus what Spine adds on release (prescription*.go).
//   - Release rejection (PORX_IN110101UK30) ↔ the OperationOutcome of
//     $release: rejection*.go.
//   - The gateway's answer to a legacy release request from EPS's answer:
//     answer.go.
//
// docs/mappings/release.md has the element-by-element tables.

// ReleaseRequestTranslator returns the Translator for the corpus kind
// "Release": the two release requests. Its ToV3 also takes a $release
// answer (Parameters with passedPrescriptions), which it hands to
// ReleaseResponseToV3, so that `porxgate convert` can turn either kind of
// Parameters into v3.
func ReleaseRequestTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Release",
		Interactions: []string{v3.PatientReleaseRequest, v3.NominatedReleaseRequest},
		ToV3:         ReleaseRequestToV3,
		ToFHIR:       ReleaseRequestToFHIR,
	}
}

// ReleaseResponseTranslator returns the Translator of the release responses
// (no corpus kind: the corpus holds them as v3-only messages).
func ReleaseResponseTranslator() *core.Translator {
	return &core.Translator{
		Interactions: []string{v3.NominatedReleaseResponse, v3.PatientReleaseResponse},
		ToV3:         ReleaseResponseToV3,
		ToFHIR:       ReleaseResponseToFHIR,
	}
}

// ReleaseRejectionTranslator returns the Translator of the Prescription
// Release Rejection.
func ReleaseRejectionTranslator() *core.Translator {
	return &core.Translator{
		Interactions: []string{v3.ReleaseRejection},
		ToV3:         ReleaseRejectionToV3,
		ToFHIR:       ReleaseRejectionToFHIR,
	}
}

// Names of the $release parameters.
const (
	ParamOwner               = "owner"
	ParamGroupIdentifier     = "group-identifier"
	ParamStatus              = "status"
	ParamAgent               = "agent"
	ParamPassedPrescriptions = "passedPrescriptions"
	ParamFailedPrescriptions = "failedPrescriptions"
	// ParamReleaseResponse is porxgate's own parameter of a $release answer
	// made from a v3 release response: the v3 values the EPS answer has no
	// place for (see head.go). The EPS API never sends it.
	ParamReleaseResponse = "porxgate-releaseResponse"
)

// porxgate's extensions of the release family.
const (
	// ExtensionReleaseVerbatim (valueBoolean true, on the first
	// MedicationRequest) says that the ExtensionV3Original ParentPrescription
	// it carries is the released prescription exactly as Spine sent it, the
	// release additions included, so nothing is to be added on the way back.
	ExtensionReleaseVerbatim = core.PorxgateExtensionBase + "Extension-Porxgate-ReleaseVerbatim"
	// ExtensionReleaseTemplate (valueString, on the first MedicationRequest)
	// carries the component's templateId extension when it is not the
	// released ParentPrescription's typeId (Spine writes the same in both).
	ExtensionReleaseTemplate = core.PorxgateExtensionBase + "Extension-Porxgate-ReleaseTemplate"
	// ExtensionReleaseRejection carries the v3 values of a release rejection
	// that an OperationOutcome has no place for (sub-extensions id,
	// messageRef, requestRef as valueIdentifier; acknowledgement as
	// valueCode; text as valueString).
	ExtensionReleaseRejection = core.PorxgateExtensionBase + "Extension-Porxgate-ReleaseRejection"
)

// Parts of a release message that can be carried verbatim in
// ExtensionV3Original.
const (
	partAgentPerson    = "AgentPerson"
	partReleaseRequest = "ReleaseRequest"
	partReleaseReject  = "PrescriptionReleaseReject"
)

// Fixed v3 values of the release family.
const (
	// releasePayloadType is the message type of a released prescription
	// (component templateId and ParentPrescription typeId).
	releasePayloadType = "PORX_MT122003UK32"
	// oidReleaseTemplate is the root of the component templateId.
	oidReleaseTemplate = "2.16.840.1.113883.2.1.3.2.4.17.120"
	// oidBatchInfo is the code system of the nominated release batch counts.
	oidBatchInfo = "2.16.840.1.113883.2.1.3.2.4.17.14"
	// releaseBatchSize is the most prescriptions Spine puts in one
	// nominated release response (pertinentBatchInfo code 2).
	releaseBatchSize = "25"
)

// releaseRequestPayload returns the payload element name of a release
// request interaction (canonical id).
func releaseRequestPayload(canon string) string {
	if canon == v3.PatientReleaseRequest {
		return "PatientPrescriptionReleaseRequest"
	}
	return "NominatedPrescriptionReleaseRequest"
}
