package fhir

import json "github.com/goccy/go-json"

// plainExtension is Extension without its MarshalJSON.
type plainExtension Extension

// MarshalJSON writes the extension as its fields say, exactly as the JSON
// codec would without this method. The method is there for the codec's
// sake: Extension is the one recursive type of the package (an extension
// holds extensions, and a CodeableConcept, Identifier, Reference or
// Quantity value, each of which holds extensions), and the codec compiles
// a recursive type into a copy of its whole tree at every place it
// recurs: about 40 MiB of compiled code for the resource types the
// gateway writes, live for the life of the process, which every garbage
// collection marks again. With the recursion cut here each type compiles
// once (about 3 MiB in all), for about a microsecond more per message
// Bundle (BenchmarkMarshalBundle).
func (e Extension) MarshalJSON() ([]byte, error) {
	return json.MarshalWithOption((*plainExtension)(&e), json.DisableHTMLEscape())
}
