package fhir

// Identifiers returns the business identifiers of a resource of any type
// this package models that has them (nil for the others), so a reader can
// look for one system without knowing which resource a reference reached.
func Identifiers(r Resource) []Identifier {
	switch x := r.(type) {
	case *Patient:
		return x.Identifier
	case *Practitioner:
		return x.Identifier
	case *PractitionerRole:
		return x.Identifier
	case *Organization:
		return x.Identifier
	case *HealthcareService:
		return x.Identifier
	case *Location:
		return x.Identifier
	case *MedicationRequest:
		return x.Identifier
	case *MedicationDispense:
		return x.Identifier
	case *Task:
		return x.Identifier
	case *Claim:
		return x.Identifier
	case *Bundle:
		if x.Identifier != nil {
			return []Identifier{*x.Identifier}
		}
	}
	return nil
}
