package conformance

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Directions of a check, as printed.
const (
	DirFHIRToV3  = "fhir->v3"
	DirRoundTrip = "v3->fhir->v3"
)

// Result counts the checks of a run.
type Result struct {
	Passed, Failed, Skipped int
	// SkippedByKind counts skipped checks per kind (no translator yet).
	SkippedByKind map[string]int
}

// Options configure a run.
type Options struct {
	// Corpus is the corpus root folder.
	Corpus string
	// Kinds, when not empty, limits the run to these kinds (corpus kinds such
	// as Send, or interaction ids of v3-only cases).
	Kinds []string
	// Registry supplies the translators; nil means mapping.NewRegistry().
	Registry *mapping.Registry
}

// Env returns the deterministic environment conformance runs under: the
// corpus's pinned clock, counter-based UUIDs and the SM family the corpus uses.
func Env() mapping.Env {
	return core.FixedEnvAt(time.Date(2022, 2, 1, 0, 0, 0, 0, time.UTC), v3.FamilySM)
}

// Run checks every pair and writes one line per check to w, then the
// closing line "N passed, N failed, N skipped".
func Run(opts Options, w io.Writer) (Result, error) {
	reg := opts.Registry
	if reg == nil {
		reg = mapping.NewRegistry()
	}
	pairs, err := FindPairs(opts.Corpus)
	if err != nil {
		return Result{}, err
	}
	want := map[string]bool{}
	for _, k := range opts.Kinds {
		want[strings.TrimSpace(k)] = true
	}
	res := Result{SkippedByKind: map[string]int{}}
	for _, p := range pairs {
		if len(want) > 0 && !want[p.Kind] {
			continue
		}
		t := translatorFor(reg, p)
		if t == nil {
			n := 1
			if p.FHIR != "" {
				n = 2
			}
			res.Skipped += n
			res.SkippedByKind[p.Kind] += n
			continue
		}
		if p.FHIR != "" {
			res.record(w, p, DirFHIRToV3, checkFHIRToV3(opts.Corpus, p, t))
		}
		res.record(w, p, DirRoundTrip, checkRoundTrip(opts.Corpus, p, t))
	}
	for _, k := range sortedKeys(res.SkippedByKind) {
		fmt.Fprintf(w, "SKIP %s: %d checks (no mapper yet)\n", k, res.SkippedByKind[k])
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", res.Passed, res.Failed, res.Skipped)
	return res, nil
}

func translatorFor(reg *mapping.Registry, p Pair) *mapping.Translator {
	if p.FHIR != "" {
		return reg.ByKind(p.Kind)
	}
	return reg.ByInteraction(p.Kind)
}

func (r *Result) record(w io.Writer, p Pair, dir string, problem string) {
	if problem == "" {
		r.Passed++
		fmt.Fprintf(w, "PASS %s %s\n", p.V3, dir)
		return
	}
	r.Failed++
	fmt.Fprintf(w, "FAIL %s %s: %s\n", p.V3, dir, problem)
}

func checkFHIRToV3(root string, p Pair, t *mapping.Translator) string {
	want, req, problem := load(root, p)
	if problem != "" {
		return problem
	}
	got, err := t.ToV3(req, mapping.Meta{}, Env())
	if err != nil {
		return "/: want a v3 message got error " + strconv.Quote(err.Error())
	}
	return compare(want, got, req)
}

func checkRoundTrip(root string, p Pair, t *mapping.Translator) string {
	want, req, problem := load(root, p)
	if problem != "" {
		return problem
	}
	env := Env()
	body, meta, err := t.ToFHIR(want, env)
	if err != nil {
		return "/: want FHIR got error " + strconv.Quote(err.Error())
	}
	got, err := t.ToV3(body, meta, env)
	if err != nil {
		return "/: want a v3 message got error " + strconv.Quote(err.Error())
	}
	if req == nil {
		// v3-only: every UUID in the original must come back exactly.
		req = want
	}
	return compare(want, got, req)
}

func load(root string, p Pair) (want, req []byte, problem string) {
	want, err := os.ReadFile(filepath.Join(root, p.V3))
	if err != nil {
		return nil, nil, "/: cannot read corpus file: " + err.Error()
	}
	if p.FHIR == "" {
		if want, _, err = ExtractPayload(want); err != nil {
			return nil, nil, "/: " + err.Error()
		}
	}
	if p.FHIR != "" {
		req, err = os.ReadFile(filepath.Join(root, p.FHIR))
		if err != nil {
			return nil, nil, "/: cannot read corpus request: " + err.Error()
		}
	}
	return want, req, ""
}

func compare(want, got, req []byte) string {
	d, err := Compare(want, got, Rules{FHIRRequest: req})
	if err != nil {
		return "/: " + err.Error()
	}
	if d != nil {
		return d.String()
	}
	return ""
}
