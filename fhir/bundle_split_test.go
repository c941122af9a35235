package fhir

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSplitBundleTakesMessages checks that the project's own message
// Bundles take splitBundle's way and decode as the general way decodes
// them: prescriptions, and dispense notifications (whose MedicationDispenses
// contain resources: readContained).
func TestSplitBundleTakesMessages(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "prescribe", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no prescriptions in testdata/prescribe: %v", err)
	}
	dispenses, err := filepath.Glob(filepath.Join("..", "testdata", "eps-fhir", "Dispense--*.json"))
	if err != nil || len(dispenses) == 0 {
		t.Fatalf("no dispense notifications in testdata/eps-fhir: %v", err)
	}
	paths = append(paths, dispenses...)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := splitBundle(data, false, nil)
		if !ok {
			t.Errorf("%s: not split", p)
			continue
		}
		want, err := decodeResource(data, false)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: split decoding differs from the general way", p)
		}
		// Indented as written, no guess of a resource's end is wrong.
		s := bundleScan{data: data, guesses: 2 * len(data)}
		if _, _, ok := s.entryArray(nil); !ok || s.guesses < len(data) {
			t.Errorf("%s: scan ok %v, %d of %d bytes of guesses spent", p, ok, 2*len(data)-s.guesses, 2*len(data))
		}
	}
}

// TestSplitBundleShapes checks which shapes splitBundle takes (the rest
// going the general way) and that what it takes decodes as the general
// way decodes it.
func TestSplitBundleShapes(t *testing.T) {
	for _, tc := range []struct {
		json  string
		split bool
	}{
		{`{"resourceType":"Bundle"}`, true},
		{` { "resourceType" : "Bundle" , "entry" : [ ] } `, true},
		{`{"entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p"}},{}],"resourceType":"Bundle","type":"message"}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"a\"}"}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:\u0031","resource":{"resourceType":"Patient"}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"fullUrl":"x","fullUrl":"y"}]}`, false},
		{`{"resourceType":"Bundle","Entry":[]}`, false},
		{`{"resourceType":"Bundle","entry":[],"entry":[]}`, false},
		{`{"resourceType":"Bundle","entry":null}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":null}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resourceType":"Patient","id":"p"}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"search":{"mode":"match"}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient"}}]} x`, false},
		{`{"resourceType":"Patient","entry":[]}`, false},
		// Contained resources (readContained).
		{`{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationDispense","id":"d","contained":[{"resourceType":"PractitionerRole","id":"r"} , {"resourceType":"MedicationRequest","id":"m","contained":[{"resourceType":"Patient","id":"p"}]}],"status":"completed"}},{"resource":{"contained":[{"resourceType":"Patient","id":"q"}],"resourceType":"Patient"}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient","id":"a"}],"contained":[{"resourceType":"Patient","id":"b"}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","Contained":[{"resourceType":"Patient","id":"a"}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","cont\u0061ined":[{"resourceType":"Patient","id":"a"}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":{"resourceType":"Patient"}}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[null]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient","id":5}]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","id":5,"contained":[{"resourceType":"Patient"}]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Bundle","contained":[{"resourceType":"Patient"}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"contained":[{"resourceType":"Patient"}],"resourceType":"MedicationDispense"}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient"}}]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient"}, null]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient"}, "x"]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient"}, [{}]]}}]}`, false},
		{`{"resourceType":"Bundle","entry":[{"resource":{"status":"contained","resourceType":"MedicationDispense","contained":[{"resourceType":"Patient","id":"a","contained":[{"resourceType":"Patient"}]}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"Patient","id":"a"}],"cont\u0061ined":[{"resourceType":"Patient","id":"b"}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","CONTAINED":[{"resourceType":"Patient","id":"b"}],"contained":[{"resourceType":"Patient","id":"a"}]}}]}`, true},
		{`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":"x"}}]}`, false},
		// Indented: a resource's end guessed from its lines (lineEnd), and
		// found byte by byte when the guess is wrong.
		{"{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [\n    {\n      \"resource\": {\n        \"resourceType\": \"Patient\",\n        \"id\": \"}\"\n      }\n    }\n  ]\n}", true},
		{"{\r\n\t\"resourceType\": \"Bundle\",\r\n\t\"entry\": [{\r\n\t\t\"resource\": {\r\n\t\t\t\"resourceType\": \"Patient\"\r\n\t\t}\r\n\t}]\r\n}", true},
		{"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\n\"resourceType\":\"Patient\",\n\"meta\":{\n\"versionId\":\"1\"\n},\n\"id\":\"p\"\n}}]}", true},
		{"{\n\"resourceType\":\"Bundle\",\n\"entry\":[{\"resource\":{\n\"resourceType\":\"Patient\",\"id\":\"p\"}},\n{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"q\"}}],\n\"type\":\"message\"\n}", true},
		{"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\n\"resourceType\":\"MedicationDispense\",\n\"contained\":[{\n\"resourceType\":\"Patient\",\n\"meta\":{\n\"versionId\":\"1\"\n},\"id\":\"a\"\n},{\n  \"resourceType\":\"PractitionerRole\",\"id\":\"r\"}],\n\"id\":\"d\"\n}}]}", true},
		{"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\n  \"resourceType\":\"Patient\",\n  \"id\":5\n}}]}", false},
		{"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\n  \"resourceType\":\"Patient\",\n  \"id\":\"a\n}\"\n}}]}", false},
		{"{\"resourceType\":\"Bundle\",\"entry\":[{\"resource\":{\n  \"resourceType\":\"Patient\",\n  \"id\":\"p\"\n}},{\"resource\":{\n  \"resourceType\":\"Patient\",\n  \"id\":\"q\"\n}\n}]}", true},
	} {
		got, ok := splitBundle([]byte(tc.json), true, nil)
		if ok != tc.split {
			t.Errorf("%s: split %v, want %v", tc.json, ok, tc.split)
		}
		if !ok {
			continue
		}
		want, err := decodeResource([]byte(tc.json), false)
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		if !reflect.DeepEqual(Resource(got), want) {
			t.Errorf("%s: decoded %#v, the general way gives %#v", tc.json, got, want)
		}
	}
	if _, ok := splitBundle([]byte(strings.Repeat("[", 10)), false, nil); ok {
		t.Error("an array split")
	}
}

// TestSplitBundleMisleadingIndent checks that a Bundle whose resources
// each open a line but close none of their own (every guess of lineEnd
// searching on to the last line) decodes as the general way decodes it,
// and that the guesses stop once they have searched twice its length.
// Its resources hold a null, which the package's decoder leaves to the
// codec (it would read them in place, without a guess: the test's first
// half without the nulls checks that).
func TestSplitBundleMisleadingIndent(t *testing.T) {
	for _, gender := range []string{"", `,"gender":null`} {
		testSplitBundleMisleadingIndent(t, gender)
	}
}

func testSplitBundleMisleadingIndent(t *testing.T, gender string) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","entry":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "{\"resource\":{\n\"resourceType\":\"Patient\",\"id\":\"p%d\"%s}}", i, gender)
	}
	b.WriteString("],\"type\":\"collection\"\n}")
	data := []byte(b.String())
	got, ok := splitBundle(data, false, nil)
	if !ok {
		t.Fatal("not split")
	}
	want, err := decodeResource(data, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(Resource(got), want) {
		t.Error("split decoding differs from the general way")
	}
	s := bundleScan{data: data, guesses: 2 * len(data)}
	_, _, ok = s.entryArray(nil)
	switch {
	case gender == "" && (!ok || s.guesses != 2*len(data)):
		t.Errorf("scan ok %v with %d bytes of guesses left, want all %d left (read in place)", ok, s.guesses, 2*len(data))
	case gender != "" && (!ok || s.guesses > 0):
		t.Errorf("scan ok %v with %d bytes of guesses left, want none left", ok, s.guesses)
	}
	if _, ok := lineEnd([]byte("{\n  \"a\": 1\n}"), 0, 11); ok {
		t.Error("lineEnd found a bracket past its limit")
	}
	if end, ok := lineEnd([]byte("{\n  \"a\": 1\n}"), 0, 12); !ok || end != 12 {
		t.Errorf("lineEnd = %d, %v; want 12, true", end, ok)
	}
}
