package dispense

// The dispenser as an AgentPerson (UKCT_MT120201UK03) in dispensing
// messages: EPS FHIR names it by a PractitionerRole contained in the
// MedicationDispense, Claim or Task, whose practitioner is a logical
// reference by SDS user id (written as the v3 professional code, EPS
// decision D011) and whose organization is a bundle entry or contained.
