package mapping_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/internal/v3variant"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// variantSource is one v3 message the tests have, with the translator that
// reads it and the FHIR request whose ids the comparison may take as made
// fresh (corpus pairs); nil means every id must come back.
type variantSource struct {
	name    string
	payload []byte
	request []byte
	tr      *core.Translator
}

// variantSources returns the project's own v3 messages (testdata, and the
// v3 porxgate writes of its own FHIR prescriptions) and, when present, every
// corpus v3 message a translator reads.
func variantSources(t *testing.T) []variantSource {
	t.Helper()
	reg := mapping.NewRegistry()
	var out []variantSource
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payload, tag, err := conformance.ExtractPayload(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if tr := reg.ByInteraction(tag); tr != nil {
			out = append(out, variantSource{name: f, payload: payload, tr: tr})
		}
	}
	rx, err := filepath.Glob(filepath.Join("..", "testdata", "prescribe", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rx {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		env := conformance.Env()
		env.Family = v3.FamilyUK
		payload, err := prescribe.PrescribeToV3(body, core.Meta{}, env)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, variantSource{name: f + " (as v3)", payload: payload, tr: reg.ByInteraction(v3.ParentPrescription)})
	}
	root := corpustest.Locate()
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		if os.Getenv("CI") != "" {
			t.Fatalf("conformance corpus not found at %s (set %s); CI must run corpus tests", root, corpustest.EnvVar)
		}
		t.Logf("corpus not found at %s: variants of the project's own messages only", root)
		return out
	}
	pairs, err := conformance.FindPairs(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		data, err := os.ReadFile(filepath.Join(root, p.V3))
		if err != nil {
			t.Fatal(err)
		}
		s := variantSource{name: p.V3}
		if p.FHIR != "" {
			if s.request, err = os.ReadFile(filepath.Join(root, p.FHIR)); err != nil {
				t.Fatal(err)
			}
			s.payload, s.tr = data, reg.ByKind(p.Kind)
		} else {
			if s.payload, _, err = conformance.ExtractPayload(data); err != nil {
				t.Fatal(err)
			}
			s.tr = reg.ByInteraction(p.Kind)
		}
		if s.tr != nil {
			out = append(out, s)
		}
	}
	return out
}

// variantEnv is the corpus environment in the family of the payload, with
// the v3 kept beside the FHIR.
func variantEnv(payload []byte) core.Env {
	env := conformance.Env()
	env.KeepV3 = true
	if _, root, err := v3.Parse(payload); err == nil {
		if _, fam, err := v3.Canonical(root.El.Tag); err == nil {
			env.Family = fam
		}
	}
	return env
}

// epsVisible returns a FHIR body without porxgate's own extensions (both
// of the URL bases porxgate uses), with the ids the test environment makes
// fresh per message written alike: what EPS reads of it.
func epsVisible(t *testing.T, body []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("FHIR body: %v", err)
	}
	var strip func(any) any
	strip = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			if d, ok := x["data"].(string); ok && x["who"] != nil {
				x["data"] = sameXML(d)
			}
			for k, e := range x {
				x[k] = strip(e)
				if k == "extension" || k == "modifierExtension" {
					arr, _ := x[k].([]any)
					kept := arr[:0]
					for _, a := range arr {
						if m, ok := a.(map[string]any); ok {
							if u, _ := m["url"].(string); strings.Contains(u, "porxgate") {
								continue
							}
						}
						kept = append(kept, a)
					}
					if len(kept) == 0 {
						delete(x, k)
					} else {
						x[k] = kept
					}
				}
			}
		case []any:
			for i := range x {
				x[i] = strip(x[i])
			}
		}
		return x
	}
	b, err := json.Marshal(strip(v))
	if err != nil {
		t.Fatal(err)
	}
	return freshIDRE.ReplaceAllString(string(b), "<fresh id>")
}

// sameXML writes the XML of a base64 signature the one way etree writes
// it: the signature is carried byte for byte when porxgate finds its bytes
// unprefixed in the message (mapping/prescribe/signature.go), and as XML
// otherwise, which verifies the same (Exclusive C14N reads both alike).
func sameXML(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return b64
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes([]byte("<x>" + string(raw) + "</x>")); err != nil {
		return b64
	}
	out, err := doc.WriteToString()
	if err != nil {
		return b64
	}
	return out
}

// freshIDRE matches the ids conformance.Env makes.
var freshIDRE = regexp.MustCompile(`00000000-0000-4000-8000-[0-9]{12}`)

// TestVariantsRoundTrip derives variants of every v3 message the tests have
// by every kind of transformation Spine accepts (internal/v3variant), one at
// a time and combined. Each variant must translate to FHIR; the FHIR of a
// variant whose kinds change nothing EPS FHIR can hold must be the FHIR of
// the message itself (porxgate's own extensions aside); and v3 → FHIR → v3
// must give the variant back under the corpus comparison rules (namespace
// prefixes, comments, processing instructions, white space, line ends and
// attribute order never count; creationTime, ASIDs and ids made fresh per
// message are free), with the v3 kept beside the FHIR (Env.KeepV3).
func TestVariantsRoundTrip(t *testing.T) {
	sources := variantSources(t)
	// Bounded for make test: the first site of each element kind and
	// every kind together. PORXGATE_VARIANTS=full adds every other site of
	// every kind and each element kind paired with the next.
	opt := v3variant.Options{MaxSites: 1, Combined: true}
	switch {
	case os.Getenv("PORXGATE_VARIANTS") == "full":
		opt = v3variant.Options{MaxSites: 0, Combined: true, Pairs: true}
	case testing.Short():
		opt = v3variant.Options{MaxSites: 1}
	}
	var total, varied, kept, baseKept int
	kinds := map[string]int{}
	only := os.Getenv("PORXGATE_VARIANTS_MATCH") // a part of the names of the messages to vary
	for _, s := range sources {
		if only != "" && !strings.Contains(s.name, only) {
			continue
		}
		varied++
		env := variantEnv(s.payload)
		baseFHIR, baseMeta, err := s.tr.ToFHIR(s.payload, env)
		if err != nil {
			t.Errorf("%s: the message itself: %v", s.name, err)
			continue
		}
		if baseMeta.V3Original != nil {
			baseKept++
			t.Logf("%s: the FHIR alone does not give the message back (%s); kept beside it", s.name, baseMeta.V3Original.Diff)
		}
		base := epsVisible(t, baseFHIR)
		// The FHIR of a request goes to EPS and must not change with the
		// variant; answers (acknowledgements, release and cancel
		// responses) become porxgate's own FHIR forms, which carry the v3
		// shape they do not map.
		_, tag, _ := conformance.ExtractPayload(s.payload)
		_, ferr := core.ErrorFamilyOf(tag)
		request := ferr == nil
		// One variant at a time: every site of a large release response
		// is thousands of variants of 300 KB each.
		err = v3variant.Each(s.payload, opt, func(v v3variant.Variant) bool {
			total++
			meaningful := false
			for _, k := range v.Kinds {
				kinds[k]++
				for _, kd := range v3variant.Kinds() {
					meaningful = meaningful || kd.Name == k && kd.Meaningful
				}
			}
			env := variantEnv(v.Data)
			body, meta, err := s.tr.ToFHIR(v.Data, env)
			if err != nil {
				t.Errorf("%s %s: refused: %v", s.name, v.Name, err)
				return true
			}
			if request && !meaningful {
				if got := epsVisible(t, body); got != base {
					i := 0
					for i < len(got) && i < len(base) && got[i] == base[i] {
						i++
					}
					lo := max(0, i-200)
					t.Errorf("%s %s: FHIR differs from the message's own at byte %d:\n got …%s\nwant …%s", s.name, v.Name, i, got[lo:min(len(got), i+200)], base[lo:min(len(base), i+200)])
					return true
				}
			}
			if meta.V3Original != nil {
				kept++
			}
			back, err := s.tr.ToV3(body, meta, env)
			if err != nil {
				t.Errorf("%s %s: FHIR → v3: %v", s.name, v.Name, err)
				return true
			}
			req := s.request
			if req == nil {
				req = v.Data
			}
			d, err := conformance.Compare(v.Data, back, conformance.Rules{FHIRRequest: req})
			if err != nil {
				t.Fatalf("%s %s: %v", s.name, v.Name, err)
			}
			if d != nil {
				t.Errorf("%s %s: v3 → FHIR → v3 differs: %s", s.name, v.Name, d)
			}
			return true
		})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("%d variants of %d messages, %d kinds of transformation (%s); %d kept their v3 beside the FHIR; %d messages needed that themselves",
		total, varied, len(kinds), strings.Join(names, ", "), kept, baseKept)
	if len(kinds) != len(v3variant.Kinds()) && !testing.Short() {
		t.Errorf("%d kinds of transformation ran, want all %d", len(kinds), len(v3variant.Kinds()))
	}
}
