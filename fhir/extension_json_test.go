package fhir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestExtensionJSON: extensions, nested and inside the data types that
// hold them, are written exactly as their fields say, with clinical text
// left unescaped, and read back as they were.
func TestExtensionJSON(t *testing.T) {
	text := "take <1> & then 2"
	yes := true
	ext := Extension{
		URL: "https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType",
		Extension: []Extension{
			{URL: "a", ValueCoding: &Coding{System: "s", Code: "0101"}},
			{URL: "b", ValueString: &text},
			{URL: "c", ValueReference: &Reference{Reference: "urn:uuid:1", Identifier: &Identifier{
				Extension: []Extension{{URL: "d", ValueBoolean: &yes}}, System: "s", Value: "v"}}},
			{URL: "e", ValueCodeableConcept: &CodeableConcept{Extension: []Extension{{URL: "f",
				ValueQuantity: &Quantity{Value: "1.50", Unit: "mg"}}}, Text: text}},
		},
	}
	want := `{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType","extension":[` +
		`{"url":"a","valueCoding":{"system":"s","code":"0101"}},` +
		`{"url":"b","valueString":"take <1> & then 2"},` +
		`{"url":"c","valueReference":{"reference":"urn:uuid:1","identifier":{"extension":[{"url":"d","valueBoolean":true}],"system":"s","value":"v"}}},` +
		`{"url":"e","valueCodeableConcept":{"extension":[{"url":"f","valueQuantity":{"value":1.50,"unit":"mg"}}],"text":"take <1> & then 2"}}]}`
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"extension", ext, want},
		{"pointer", &ext, want},
		{"list", []Extension{ext, {URL: "g"}}, "[" + want + `,{"url":"g"}]`},
		{"in a data type", Identifier{Extension: []Extension{ext}, Value: "x"}, `{"extension":[` + want + `],"value":"x"}`},
		{"empty", Extension{}, `{"url":""}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	var back Extension
	if err := Unmarshal([]byte(want), &back); err != nil {
		t.Fatal(err)
	}
	again, err := Marshal(back)
	if err != nil || string(again) != want {
		t.Errorf("read back and written again: %s, %v", again, err)
	}
	// The standard library's encoder, which handles recursive types
	// itself, writes the same bytes for the fields.
	std, err := json.Marshal((*plainExtension)(&ext))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Marshal(ext); string(got) != string(std) && string(got) != string(unescapeHTML(std)) {
		t.Errorf("codec %s\nstdlib %s", got, std)
	}
}

// unescapeHTML undoes encoding/json's HTML escaping of <, > and &.
func unescapeHTML(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' && b[i+2] == '0' && b[i+3] == '0' {
			switch string(b[i+4 : i+6]) {
			case "3c":
				out, i = append(out, '<'), i+5
				continue
			case "3e":
				out, i = append(out, '>'), i+5
				continue
			case "26":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

// BenchmarkMarshalBundle writes the homecare prescription's message
// Bundle.
func BenchmarkMarshalBundle(b *testing.B) {
	const file = "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/1-Prepare-Request-200_OK.json"
	data, err := os.ReadFile(filepath.Join(corpustest.Dir(b), file))
	if err != nil {
		b.Fatal(err)
	}
	bundle, err := ParseBundle(data)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(bundle); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
