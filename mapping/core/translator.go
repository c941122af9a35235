package core

// Translator maps one interaction family between v3 and FHIR.
type Translator struct {
	// Kind is the corpus kind this translator answers for (Send, Cancel,
	// Release, Dispense, DispenseAmend, Claim, Amend, Return, Withdraw...).
	Kind string
	// Interactions are the UK-family interaction ids it reads (SM variants are
	// accepted too).
	Interactions []string
	// ToV3 turns a FHIR request body into the v3 interaction.
	ToV3 func(fhirBody []byte, meta Meta, env Env) ([]byte, error)
	// ToFHIR turns a v3 interaction into the FHIR request body, with the
	// wrapper values that travel beside it.
	ToFHIR func(v3Payload []byte, env Env) ([]byte, Meta, error)
}
