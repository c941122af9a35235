package core

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
)

// TestExtensionAtPath checks where Extension and ExtensionAt record a URL
// given twice (the path, joined with the suffix only for the problem), and
// that one or none of a URL is no problem.
func TestExtensionAtPath(t *testing.T) {
	const url = "https://fhir.nhs.uk/StructureDefinition/Extension-Test"
	one := []fhir.Extension{{URL: url}, {URL: "other"}}
	two := []fhir.Extension{{URL: url}, {URL: "other"}, {URL: url}}
	for _, tt := range []struct {
		name     string
		exts     []fhir.Extension
		suffix   string
		found    bool
		wantPath string // "" for no problem
	}{
		{"none", nil, ".extension", false, ""},
		{"one", one, ".extension", true, ""},
		{"two, suffix", two, ".extension", true, "Bundle.entry[0].resource.extension"},
		{"two, no suffix", two, "", true, "Bundle.entry[0].resource"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewBundleContext(&fhir.Bundle{}, "PORX_IN020101UK31")
			var got *fhir.Extension
			if tt.suffix == "" {
				got = c.Extension(tt.exts, url, "Bundle.entry[0].resource")
			} else {
				got = c.ExtensionAt(tt.exts, url, "Bundle.entry[0].resource", tt.suffix)
			}
			if (got != nil) != tt.found || got != nil && got != &tt.exts[0] {
				t.Errorf("found %v, want the first of the URL: %v", got, tt.found)
			}
			var path string
			if c.err != nil {
				path = c.err.Path
			}
			if path != tt.wantPath {
				t.Errorf("problem recorded at %q, want %q", path, tt.wantPath)
			}
		})
	}
}
