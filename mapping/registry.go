package mapping

import (
	"fmt"
	"sort"

	"github.com/porxgate/porxgate/mapping/ack"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/prescribe"
	"github.com/porxgate/porxgate/mapping/release"
	"github.com/porxgate/porxgate/mapping/task"
	v3 "github.com/porxgate/porxgate/v3"
)

// Registry says which Translator serves which corpus kind and interaction id.
type Registry struct {
	byKind        map[string]*core.Translator
	byInteraction map[string]*core.Translator
}

// NewRegistry returns a registry holding every translator porxgate has.
func NewRegistry() *Registry {
	r := &Registry{byKind: map[string]*core.Translator{}, byInteraction: map[string]*core.Translator{}}
	for _, t := range translators() {
		r.add(t)
	}
	return r
}

// translators lists every translator; each interaction family's file
// provides its constructor.
func translators() []*core.Translator {
	return []*core.Translator{
		prescribe.PrescribeTranslator(),
		ack.AckTranslator(),
		dispense.DispenseTranslator(),
		dispense.DispenseAmendTranslator(),
		claim.ClaimTranslator(),
		claim.ClaimAmendTranslator(),
		task.ReturnTranslator(),
		task.WithdrawTranslator(),
		dispense.RebuildTranslator(),
		claim.ReimbursementTranslator(),
		cancel.CancelTranslator(),
		cancel.CancelResponseTranslator(),
		release.ReleaseRequestTranslator(),
		release.ReleaseResponseTranslator(),
		release.ReleaseRejectionTranslator(),
	}
}

// add registers t; its ToFHIR and ToV3 keep and write back the v3 message
// under Env.KeepV3 (KeepingToFHIR, KeepingToV3).
func (r *Registry) add(t *core.Translator) {
	if t.ToFHIR != nil && t.ToV3 != nil {
		toFHIR, toV3 := t.ToFHIR, t.ToV3
		t.ToFHIR, t.ToV3 = core.KeepingToFHIR(toFHIR, toV3), core.KeepingToV3(toV3)
	}
	if t.Kind != "" {
		r.byKind[t.Kind] = t
	}
	for _, id := range t.Interactions {
		r.byInteraction[id] = t
	}
}

// ByKind returns the translator for a corpus kind, or nil.
func (r *Registry) ByKind(kind string) *core.Translator { return r.byKind[kind] }

// ByInteraction returns the translator for an interaction id in either
// family, or nil.
func (r *Registry) ByInteraction(id string) *core.Translator {
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
