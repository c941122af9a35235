package jsonkeys

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDuplicates(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"none", `{"a": 1, "b": {"a": 2, "a": 3}}`, nil},
		{"one", `{"a": 1, "b": 2, "a": {"x": [1, 2]}}`, []string{"a"}},
		{"thrice", `{"a": 1, "a": 2, "a": 3}`, []string{"a"}},
		{"two", `{"b": 1, "a": 1, "a": 2, "b": 2}`, []string{"a", "b"}},
		{"escaped alike", `{"a\u0062": 1, "ab": 2}`, []string{"ab"}},
		{"not an object", `[1, 2]`, nil},
		{"empty", ``, nil},
		{"broken", `{"a": 1, "a": `, []string{"a"}},
		{"null", `null`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Duplicates([]byte(tt.in)); !slices.Equal(got, tt.want) {
				t.Fatalf("Duplicates(%s) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	if err := Check([]byte(`{"P1": {}, "P1": {}}`), "party"); err == nil || !strings.Contains(err.Error(), `party "P1" given more than once`) {
		t.Fatalf("Check = %v", err)
	}
	if err := Check([]byte(`{"P1": {}}`), "party"); err != nil {
		t.Fatalf("Check = %v", err)
	}
}

// FuzzDuplicates: what Duplicates reports is each key once, and, for a
// document encoding/json reads as an object, a key that object has.
func FuzzDuplicates(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{}`, `[`, `{"a":{"b":[1,{"c":2}]},"b":null}`, `{"\u00e9":1,"é":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dups := Duplicates(b)
		for i, d := range dups {
			if slices.Contains(dups[:i], d) {
				t.Fatalf("%q reported twice: %q", d, dups)
			}
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil || m == nil {
			return
		}
		for _, d := range dups {
			if _, ok := m[d]; !ok {
				t.Fatalf("%q reported but not a key of %s", d, b)
			}
		}
	})
}
