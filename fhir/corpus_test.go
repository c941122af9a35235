package fhir

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestCorpusLossless decodes every FHIR resource of the corpus into the
// package's structs and checks that encoding them again gives the same JSON:
// nothing the EPS API sends is dropped by our types.
func TestCorpusLossless(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") })
	if len(files) == 0 {
		t.Fatal("no JSON files in the corpus")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var generic map[string]any
		if err := Unmarshal(data, &generic); err != nil || generic["resourceType"] == nil {
			continue // tracker JSON and other non-resources
		}
		res, err := DecodeResource(data)
		if err != nil {
			t.Errorf("%s: decode: %v", f, err)
			continue
		}
		out, err := Marshal(res)
		if err != nil {
			t.Errorf("%s: encode: %v", f, err)
			continue
		}
		var again map[string]any
		if err := Unmarshal(out, &again); err != nil {
			t.Fatalf("%s: re-decode: %v", f, err)
		}
		// FHIR forbids empty strings and nulls; a sender's "" or null is
		// dropped on the way through and does not count as a loss.
		generic, again = prune(generic).(map[string]any), prune(again).(map[string]any)
		if !reflect.DeepEqual(generic, again) {
			t.Errorf("%s: not lossless: %s", f, firstDiff("", generic, again))
		}
	}
}

func firstDiff(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path + ": type differs"
		}
		for k := range av {
			if _, ok := bv[k]; !ok {
				return path + "." + k + ": dropped"
			}
			if d := firstDiff(path+"."+k, av[k], bv[k]); d != "" {
				return d
			}
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				return path + "." + k + ": added"
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return path + ": list differs"
		}
		for i := range av {
			if d := firstDiff(path, av[i], bv[i]); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(a, b) {
			j1, _ := json.Marshal(a)
			j2, _ := json.Marshal(b)
			return path + ": " + string(j1) + " != " + string(j2)
		}
	}
	return ""
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		return out
	case []any:
		var out []any
		for _, e := range x {
			if p := prune(e); p != nil {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	}
	return v
}
