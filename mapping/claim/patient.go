package claim

import (
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// A v3 Dispense Claim (PORX_MT142001UK31) names no patient, while the EPS
// Claim carries the patient's NHS number in Claim.patient. The mapping stays
// pure: ClaimToFHIR writes Claim.patient with a data-absent-reason, and the
// gateway, which can ask EPS who the prescription is for, fills it in with
// ClaimWithPatient before the Claim goes upstream.

// ClaimPatientAbsent reports whether a FHIR Claim's patient is still to be
// found (no NHS number in Claim.patient), and the prescription's short-form
// id to look it up by.
func ClaimPatientAbsent(body []byte) (absent bool, shortFormID string, err error) {
	claim, err := decodeClaimBody(body)
	if err != nil {
		return false, "", err
	}
	if claim.Patient != nil && claim.Patient.Identifier != nil && claim.Patient.Identifier.Value != "" {
		return false, "", nil
	}
	if claim.Prescription != nil {
		if g := fhir.FindExtension(claim.Prescription.Extension, core.ExtensionGroupIdentifier); g != nil {
			if sf := fhir.FindExtension(g.Extension, "shortForm"); sf != nil && sf.ValueIdentifier != nil {
				shortFormID = sf.ValueIdentifier.Value
			}
		}
	}
	return true, shortFormID, nil
}

// ClaimWithPatient returns the Claim with Claim.patient naming the patient
// by NHS number, as the EPS API's Claims do.
func ClaimWithPatient(body []byte, nhsNumber string) ([]byte, error) {
	claim, err := decodeClaimBody(body)
	if err != nil {
		return nil, err
	}
	claim.Patient = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: nhsNumber}}
	out, err := fhir.Marshal(claim)
	if err != nil {
		return nil, fmt.Errorf("Claim with patient: %w", err)
	}
	return out, nil
}

// decodeClaimBody decodes a FHIR Claim.
func decodeClaimBody(body []byte) (*fhir.Claim, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, fmt.Errorf("Claim: %w", err)
	}
	claim, ok := res.(*fhir.Claim)
	if !ok {
		return nil, fmt.Errorf("want a Claim, got %s", res.GetResourceType())
	}
	return claim, nil
}
