package mapping

import (
	"fmt"
	"sort"

	v3 "github.com/porxgate/porxgate/v3"
)

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

// Registry says which Translator serves which corpus kind and interaction id.
type Registry struct {
	byKind        map[string]*Translator
	byInteraction map[string]*Translator
}

// NewRegistry returns a registry holding every translator porxgate has.
func NewRegistry() *Registry {
	r := &Registry{byKind: map[string]*Translator{}, byInteraction: map[string]*Translator{}}
	for _, t := range translators() {
		r.add(t)
	}
	return r
}

// translators lists every translator; each interaction family's file
// provides its constructor.
func translators() []*Translator {
	return []*Translator{
		PrescribeTranslator(),
		AckTranslator(),
		DispenseTranslator(),
		DispenseAmendTranslator(),
		ClaimTranslator(),
		ClaimAmendTranslator(),
		ReturnTranslator(),
		WithdrawTranslator(),
		RebuildTranslator(),
		ReimbursementTranslator(),
		CancelTranslator(),
		CancelResponseTranslator(),
		ReleaseRequestTranslator(),
		ReleaseResponseTranslator(),
		ReleaseRejectionTranslator(),
	}
}

// add registers t; its ToFHIR and ToV3 keep and write back the v3 message
// under Env.KeepV3 (keepingToFHIR, keepingToV3).
func (r *Registry) add(t *Translator) {
	if t.ToFHIR != nil && t.ToV3 != nil {
		toFHIR, toV3 := t.ToFHIR, t.ToV3
		t.ToFHIR, t.ToV3 = keepingToFHIR(toFHIR, toV3), keepingToV3(toV3)
	}
	if t.Kind != "" {
		r.byKind[t.Kind] = t
	}
	for _, id := range t.Interactions {
		r.byInteraction[id] = t
	}
}

// ByKind returns the translator for a corpus kind, or nil.
func (r *Registry) ByKind(kind string) *Translator { return r.byKind[kind] }

// ByInteraction returns the translator for an interaction id in either
// family, or nil.
func (r *Registry) ByInteraction(id string) *Translator {
	canon, _, err := v3.Canonical(id)
	if err != nil {
		return nil
	}
	return r.byInteraction[canon]
}

// Kinds lists the corpus kinds that have a translator, sorted.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.byKind))
	for k := range r.byKind {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ErrNoTranslator is returned for an interaction no translator serves.
type ErrNoTranslator struct{ What string }

// Error implements error.
func (e *ErrNoTranslator) Error() string { return fmt.Sprintf("no translator for %s", e.What) }
