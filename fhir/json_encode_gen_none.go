//go:build noencgen

package fhir

// json_encode_gen.go's entry points when the package is built without it
// (-tags noencgen): every struct is written by its plan. That build
// writes the generated file anew when it no longer compiles (see
// TestEncodeGenerated) and tests the plan walk alone.

// generatedResources tells whether the generated writers are built in.
const generatedResources = false

func (e *encoder) generatedResource(buf []byte, _ Resource) ([]byte, bool) { return buf, false }

func (e *encoder) generatedEntry(buf []byte, _ *Entry) ([]byte, bool) { return buf, false }
