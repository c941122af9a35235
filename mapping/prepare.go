package mapping

import (
	"fmt"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/v3"
)

// Prepare computes what EPS's $prepare answers for a prescription-order
// Bundle: the base64 SignedInfo over the signature fragments of the
// ParentPrescription the Bundle maps to, the author time hashed and the
// algorithm. A signed Bundle (a Provenance with a signature) keeps its
// signature.when as author time; for an unsigned one, as EPS does, the
// author time is now. As EPS's own $prepare answers in the corpus show, a
// wrong short-form check character does not stop $prepare (EPS rejects it
// at $process-message).
func Prepare(bundle []byte, now time.Time, alg v3.DigestAlgorithm) (v3.PrepareResult, error) {
	b, err := fhir.ParseBundle(bundle)
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	signed := false
	for _, p := range fhir.EntriesOf[*fhir.Provenance](b) {
		for _, s := range p.Signature {
			if s.When != "" {
				signed = true
			}
		}
	}
	payload, err := PrescribeToV3(bundle, Meta{}, Env{Now: now,
		NewID: func() string { return "00000000-0000-4000-8000-000000000000" }})
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	_, root, err := v3.Parse(payload)
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	var opts []v3.FragmentsOption
	if !signed {
		opts = append(opts, v3.WithAuthorTime(now))
	}
	res, err := v3.PrepareParameters(root, alg, opts...)
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	return res, nil
}
