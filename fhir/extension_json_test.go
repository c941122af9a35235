package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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
	std, err := json.Marshal(&ext)
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
func BenchmarkMarshalBundle(b *testing.B) { benchMarshalBundle(b, Marshal) }

// benchMarshalBundle writes the homecare prescription's message Bundle
// with marshal (Marshal or MarshalIndent), reporting msgs/s.
func benchMarshalBundle(b *testing.B, marshal func(any) ([]byte, error)) {
	b.Helper()
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
		if _, err := marshal(bundle); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// compiledSizeChild names the environment variable under which
// TestCodecCompiledSize's child process measures.
const compiledSizeChild = "PORXGATE_FHIR_COMPILED_SIZE_CHILD"

// TestCodecCompiledSize bounds what the JSON codec keeps compiled for the
// resource types the package models: written once each by the codec (as
// the gateway's warm-up did before Marshal had an encoder of its own), they
// must cost the heap less than 16 MiB (about 4 MiB with ExtensionList
// cutting Extension's recursion; about 40 MiB without). Marshal, which
// writes them with the package's encoder, must compile nothing: less than
// 1 MiB for all of them. It measures in a fresh process of this test
// binary, where nothing was compiled before.
func TestCodecCompiledSize(t *testing.T) {
	if os.Getenv(compiledSizeChild) != "" {
		var before, after runtime.MemStats
		measure := func(marshal func(any) ([]byte, error)) uint64 {
			runtime.GC()
			runtime.ReadMemStats(&before)
			for _, rt := range []string{"Bundle", "MessageHeader", "MedicationRequest", "MedicationDispense", "Patient",
				"Practitioner", "PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance",
				"CommunicationRequest", "List", "Task", "Claim", "Parameters", "OperationOutcome"} {
				res := newResource(rt)
				if res == nil {
					t.Fatalf("%s is not modelled", rt)
				}
				if _, err := marshal(res); err != nil {
					t.Fatal(err)
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			return after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
		}
		encoder := measure(Marshal)
		fmt.Printf("encoder: %d\n", encoder)
		fmt.Printf("compiled: %d\n", measure(marshalCodec))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCodecCompiledSize$", "-test.count=1")
	cmd.Env = append(os.Environ(), compiledSizeChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var enc, n uint64
	if _, err := fmt.Sscanf(string(out[bytes.Index(out, []byte("encoder: ")):]), "encoder: %d\ncompiled: %d", &enc, &n); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	t.Logf("Marshal keeps %.2f MiB; the codec keeps %.1f MiB compiled", float64(enc)/(1<<20), float64(n)/(1<<20))
	if enc > 1<<20 {
		t.Errorf("Marshal keeps %.1f MiB after writing each type once, want < 1 MiB (the codec compiled them?)", float64(enc)/(1<<20))
	}
	if n > 16<<20 {
		t.Errorf("the codec keeps %.1f MiB compiled, want < 16 MiB", float64(n)/(1<<20))
	}
}
