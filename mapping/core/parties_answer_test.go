package core

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
)

// TestEPSAnswerPersonCode: a person's code is found where the EPS API's
// translations of Spine's answers put it, for a role of its own and for a
// role shared by two or three of an answer's parties (codes added in the
// parties' order, a spurious code on the role).
func TestEPSAnswerPersonCode(t *testing.T) {
	id := func(system, value string) fhir.Identifier { return fhir.Identifier{System: system, Value: value} }
	profile := id(fhir.SystemSDSRoleProfile, "100102238986")
	tests := []struct {
		name       string
		prac, role []fhir.Identifier
		at, of     int
		want, sys  string
		ok         bool
	}{
		{"own role, GMC keeps its C", []fhir.Identifier{id(fhir.SystemGMC, "C1234567")}, nil, 0, 1, "C1234567", fhir.SystemGMC, true},
		{"own role, DIN", []fhir.Identifier{id(fhir.SystemDIN, "812345")}, nil, 0, 1, "812345", fhir.SystemDIN, true},
		{"own role, spurious code on the role", nil, []fhir.Identifier{id(SystemSpuriousCode, "612345")}, 0, 1, "612345", SystemSpuriousCode, true},
		{"own role, two codes", []fhir.Identifier{id(fhir.SystemGMC, "C1234567"), id(fhir.SystemNMC, "12A3456B")}, nil, 0, 1, "", "", false},
		{"own role, no code", nil, nil, 0, 1, "", "", false},
		{"shared, first of two", []fhir.Identifier{id(fhir.SystemGMP, "G9999999"), id(fhir.SystemProfessionalCode, "70201123456")}, nil, 0, 2, "G9999999", fhir.SystemGMP, true},
		{"shared, second of two", []fhir.Identifier{id(fhir.SystemGMP, "G9999999"), id(fhir.SystemProfessionalCode, "70201123456")}, nil, 1, 2, "70201123456", fhir.SystemProfessionalCode, true},
		{"shared, one code for both", []fhir.Identifier{id(fhir.SystemNMC, "12A3456B")}, nil, 1, 2, "12A3456B", fhir.SystemNMC, true},
		{"shared, code and spurious: first takes the code", []fhir.Identifier{id(fhir.SystemGMC, "C1234567")}, []fhir.Identifier{id(SystemSpuriousCode, "612345")}, 0, 2, "C1234567", fhir.SystemGMC, true},
		{"shared, code and spurious: second takes the spurious", []fhir.Identifier{id(fhir.SystemGMC, "C1234567")}, []fhir.Identifier{id(SystemSpuriousCode, "612345")}, 1, 2, "612345", SystemSpuriousCode, true},
		{"shared, two spurious codes", nil, []fhir.Identifier{id(SystemSpuriousCode, "612345"), id(SystemSpuriousCode, "654321")}, 1, 2, "654321", SystemSpuriousCode, true},
		{"shared by three, third of three", []fhir.Identifier{id(fhir.SystemNMC, "12A3456B"), id(fhir.SystemProfessionalCode, "555086415105"), id(fhir.SystemProfessionalCode, "2012345")}, nil, 2, 3, "2012345", fhir.SystemProfessionalCode, true},
		{"other systems are not codes", []fhir.Identifier{id(fhir.SystemSDSUser, "555086415105")}, nil, 0, 1, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prac := &fhir.Practitioner{Identifier: tc.prac}
			role := &fhir.PractitionerRole{Identifier: append([]fhir.Identifier{profile}, tc.role...)}
			got, sys, ok := EPSAnswerPersonCode(prac, role, tc.at, tc.of)
			if got != tc.want || sys != tc.sys || ok != tc.ok {
				t.Errorf("= %q %q %v, want %q %q %v", got, sys, ok, tc.want, tc.sys, tc.ok)
			}
		})
	}
}
