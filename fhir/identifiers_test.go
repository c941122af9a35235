package fhir

import (
	"strings"
	"testing"
)

func TestIdentifiers(t *testing.T) {
	ids := []Identifier{{System: SystemODS, Value: "FH542"}}
	tests := []struct {
		name string
		r    Resource
		want string
	}{
		{"Patient", &Patient{Identifier: ids}, "FH542"},
		{"Practitioner", &Practitioner{Identifier: ids}, "FH542"},
		{"PractitionerRole", &PractitionerRole{Identifier: ids}, "FH542"},
		{"Organization", &Organization{Identifier: ids}, "FH542"},
		{"HealthcareService", &HealthcareService{Identifier: ids}, "FH542"},
		{"Location", &Location{Identifier: ids}, "FH542"},
		{"MedicationRequest", &MedicationRequest{Identifier: ids}, "FH542"},
		{"MedicationDispense", &MedicationDispense{Identifier: ids}, "FH542"},
		{"Task", &Task{Identifier: ids}, "FH542"},
		{"Claim", &Claim{Identifier: ids}, "FH542"},
		{"Bundle", &Bundle{Identifier: &ids[0]}, "FH542"},
		{"Bundle without identifier", &Bundle{}, ""},
		{"Parameters has none", &Parameters{}, ""},
		{"unmodelled", &RawResource{Type: "Medication", JSON: []byte(`{"identifier":[]}`)}, ""},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FindIdentifier(Identifiers(tt.r), SystemODS); got != tt.want {
				t.Fatalf("Identifiers ODS = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCapabilityStatementEncodes(t *testing.T) {
	cs := &CapabilityStatement{Kind: "instance", Rest: []CapabilityRest{{Mode: "server",
		Operation: []CapabilityOperation{{Name: "release", Definition: "https://fhir.nhs.uk/OperationDefinition/Task-release-message"}}}}}
	b, err := Marshal(Stamp(cs))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"resourceType":"CapabilityStatement"`, `"kind":"instance"`, `"operation":[{"name":"release"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}
