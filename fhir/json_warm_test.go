package fhir

import (
	"strings"
	"testing"
)

// TestWarmCodec: every modelled resource type warms without error; a type
// the package does not model is named in the error, after the others.
func TestWarmCodec(t *testing.T) {
	tests := []struct {
		name    string
		types   []string
		wantErr string
	}{
		{"none", nil, ""},
		{"modelled", []string{"Bundle", "MessageHeader", "MedicationRequest", "MedicationDispense", "Patient",
			"Practitioner", "PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance",
			"CommunicationRequest", "List", "Task", "Claim", "Parameters", "OperationOutcome"}, ""},
		{"one unknown", []string{"Patient", "Observation", "Task"}, "not modelled: [Observation]"},
		{"empty name", []string{""}, "not modelled: []"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WarmCodec(tt.types...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("WarmCodec(%q) = %v, want nil", tt.types, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("WarmCodec(%q) = %v, want an error with %q", tt.types, err, tt.wantErr)
			}
		})
	}
}
