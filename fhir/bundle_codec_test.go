package fhir

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// generalMarshal encodes v the general way (entries through
// Entry.MarshalJSON), as Marshal did before the one-pass Bundle encoding.
func generalMarshal(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// TestOnePassMatchesGeneral checks, on every corpus resource, that the
// one-pass Bundle decoding and encoding give what the general way gives,
// and that DecodeResourceRef gives what DecodeResource gives, the caller's
// bytes overwritten after the call.
func TestOnePassMatchesGeneral(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") })
	bundles := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		general, gerr := decodeResource(data, false)
		fast, ferr := DecodeResource(data)
		scratch := bytes.Clone(data)
		ref, rerr := DecodeResourceRef(scratch)
		clear(scratch) // the caller's bytes are not kept
		if (rerr != nil) != (ferr != nil) || rerr != nil && rerr.Error() != ferr.Error() {
			t.Errorf("%s: errors differ: DecodeResource %v, DecodeResourceRef %v", f, ferr, rerr)
			continue
		}
		if !reflect.DeepEqual(ref, fast) {
			t.Errorf("%s: DecodeResourceRef differs from DecodeResource", f)
			continue
		}
		if (gerr != nil) != (ferr != nil) || gerr != nil && gerr.Error() != ferr.Error() {
			t.Errorf("%s: errors differ: general %v, one-pass %v", f, gerr, ferr)
			continue
		}
		if gerr != nil {
			continue
		}
		if !reflect.DeepEqual(general, fast) {
			t.Errorf("%s: one-pass decoding differs from the general way", f)
			continue
		}
		if _, ok := fast.(*Bundle); ok {
			bundles++
		}
		out, err := Marshal(fast)
		if err != nil {
			t.Fatal(err)
		}
		if want := generalMarshal(t, general); !bytes.Equal(out, want) {
			t.Errorf("%s: one-pass encoding differs:\n%s\nwant\n%s", f, out, want)
		}
	}
	if len(files) > 0 && bundles == 0 {
		t.Error("no Bundle in the corpus took the one-pass way")
	}
}

func TestDecodeResourceShapes(t *testing.T) {
	paramX := "x"
	tests := []struct {
		name, in string
		want     Resource
		wantErr  string
	}{
		{"plain", `{"resourceType":"Patient","id":"p"}`, &Patient{Base: Base{ResourceType: "Patient", ID: "p"}}, ""},
		{"spaced", " {\n \"resourceType\" : \"Patient\", \"id\":\"p\"}", &Patient{Base: Base{ResourceType: "Patient", ID: "p"}}, ""},
		{"type not first", `{"id":"p","resourceType":"Patient"}`, &Patient{Base: Base{ResourceType: "Patient", ID: "p"}}, ""},
		{"declared twice", `{"resourceType":"Patient","resourceType":"Location","id":"l"}`, &Location{Base: Base{ResourceType: "Location", ID: "l"}}, ""},
		{"escaped type", `{"resourceType":"Pati\u0065nt","id":"p"}`, &Patient{Base: Base{ResourceType: "Patient", ID: "p"}}, ""},
		{"unmodelled", `{"resourceType":"Basic","id":"b"}`, &RawResource{Type: "Basic", JSON: []byte(`{"resourceType":"Basic","id":"b"}`)}, ""},
		{"inline entry", `{"resourceType":"Bundle","entry":[{"resourceType":"Patient","id":"p"}]}`,
			&Bundle{ResourceType: "Bundle", Entry: []Entry{{Inline: &Patient{Base: Base{ResourceType: "Patient", ID: "p"}}}}}, ""},
		{"no type", `{"id":"p"}`, nil, "resource: no resourceType"},
		{"bad member", `{"resourceType":"Patient","id":7}`, nil, "Patient: "},
		{"bad entry", `{"resourceType":"Bundle","entry":[{"fullUrl":"u","resource":{"id":"x"}}]}`, nil, "entry u: resource: no resourceType"},
		{"not JSON", `{"resourceType":"Patient",`, nil, "resource: "},
		{"null resource", `{"resourceType":"Bundle","entry":[{"fullUrl":"u","resource":null}]}`, nil, ""},
		{"null entry", `{"resourceType":"Bundle","entry":[null,{"fullUrl":"u"}]}`, nil, ""},
		{"null entries", `{"resourceType":"Bundle","entry":null}`, nil, ""},
		{"parameters", `{"resourceType":"Parameters","parameter":[{"name":"a","valueString":"x","part":[{"name":"b","resource":{"resourceType":"Patient","id":"p"}}]},{"name":"c","part":[]}]}`,
			&Parameters{Base: Base{ResourceType: "Parameters"}, Parameter: []Parameter{
				{Name: "a", ValueString: &paramX, Part: []Parameter{{Name: "b", Resource: &Patient{Base: Base{ResourceType: "Patient", ID: "p"}}}}},
				{Name: "c", Part: []Parameter{}}}}, ""},
		{"bad parameter resource", `{"resourceType":"Parameters","parameter":[{"name":"a","resource":{"id":"x"}}]}`, nil, "parameter a: resource: no resourceType"},
		{"bad part", `{"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":7}]}]}`, nil, "Parameters: "},
		{"null parameter resource", `{"resourceType":"Parameters","parameter":[{"name":"a","resource":null}]}`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeResource([]byte(tt.in))
			general, gerr := decodeResource([]byte(tt.in), false)
			if (err == nil) != (gerr == nil) || err != nil && err.Error() != gerr.Error() {
				t.Fatalf("error %v, the general way gives %v", err, gerr)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || tt.want == nil {
				if !reflect.DeepEqual(got, general) {
					t.Errorf("got %#v, the general way gives %#v", got, general)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(got, general) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestMarshalBundleEntries checks that entries are stamped and inline
// entries written in place, with '<', '>' and '&' left as they are.
func TestMarshalBundleEntries(t *testing.T) {
	b := &Bundle{ResourceType: "Bundle", ID: "a<b"}
	b.Add("urn:p", &Patient{Base: Base{ID: "p<&>q"}})
	got, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"resourceType":"Bundle","id":"a<b","entry":[{"fullUrl":"urn:p","resource":{"resourceType":"Patient","id":"p<&>q"}}]}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	b.Entry = append(b.Entry, Entry{Inline: &Location{Base: Base{ID: "l&"}}})
	got, err = Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"resourceType":"Bundle","id":"a<b","entry":[{"fullUrl":"urn:p","resource":{"resourceType":"Patient","id":"p<&>q"}},{"resourceType":"Location","id":"l&"}]}`; string(got) != want {
		t.Errorf("Marshal with an inline entry = %s, want %s", got, want)
	}
}

// FuzzDecodeResource checks that DecodeResource, one pass or not, reads
// whatever it is given as the general way does, and DecodeResourceRef as
// DecodeResource does.
func FuzzDecodeResource(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","id":"p","extension":[{"url":"u","valueString":"<&>"}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationRequest","id":"m"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resourceType":"Patient","id":"p"},{"resource":null}]}`))
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":"b","resource":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p\u00e9"}}]}}]}]}`))
	f.Add([]byte(`{"entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"a\"}"}},{}],"resourceType":"Bundle"}`))
	f.Add([]byte(`{"resourceType":"Bundle","Entry":[],"entry":[{"fullUrl":"x\u0031","resource":{"resourceType":"Patient"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"PractitionerRole","id":"r"},{"resourceType":"MedicationRequest","contained":[]}],"status":"completed"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeResource(data)
		want, werr := decodeResource(data, false)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Fatalf("error %v, the general way gives %v", err, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %#v, the general way gives %#v", got, want)
		}
		scratch := bytes.Clone(data)
		ref, rerr := DecodeResourceRef(scratch)
		clear(scratch)
		if (rerr == nil) != (err == nil) || rerr != nil && rerr.Error() != err.Error() {
			t.Fatalf("DecodeResourceRef error %v, DecodeResource gives %v", rerr, err)
		}
		if !reflect.DeepEqual(ref, got) {
			t.Fatalf("DecodeResourceRef decoded %#v, DecodeResource gives %#v", ref, got)
		}
	})
}

// TestModelledTypeAsNewResource checks that modelledType knows exactly the
// resource types newResource models.
func TestModelledTypeAsNewResource(t *testing.T) {
	for _, name := range []string{"Bundle", "MessageHeader", "MedicationRequest", "MedicationDispense", "Patient",
		"Practitioner", "PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance",
		"CommunicationRequest", "List", "Task", "Claim", "Parameters", "OperationOutcome", "Basic", "Medication", "", "bundle"} {
		got := modelledType([]byte(name))
		if modelled := newResource(name) != nil; modelled != (got == name && got != "") || !modelled && got != "" {
			t.Errorf("modelledType(%q) = %q; newResource models it: %v", name, got, modelled)
		}
	}
}

// TestNestedOnePassMatchesGeneral checks that Bundles nested in Parameters
// and in other Bundles (a $release answer's shape) encode in one pass as
// the general way encodes them, resourceTypes stamped at every level, and
// that a Bundle with an inline entry anywhere still goes the general way.
func TestNestedOnePassMatchesGeneral(t *testing.T) {
	message := func(id string) *Bundle {
		return &Bundle{ResourceType: "Bundle", ID: id, Type: "message", Entry: []Entry{
			{FullURL: "urn:uuid:" + id + "-mr", Resource: &MedicationRequest{Base: Base{ID: id + "-mr"}, Status: "active"}},
			{FullURL: "urn:uuid:" + id + "-pt", Resource: &Patient{Base: Base{ID: id + "-pt"}, Gender: "female"}},
			{FullURL: "urn:uuid:" + id + "-empty"},
		}}
	}
	searchset := func(bs ...*Bundle) *Bundle {
		n := len(bs)
		s := &Bundle{ResourceType: "Bundle", ID: "set", Type: "searchset", Total: &n}
		for _, b := range bs {
			s.Entry = append(s.Entry, Entry{FullURL: "urn:uuid:" + b.ID, Resource: b, Search: &EntrySearch{Mode: "match"}})
		}
		return s
	}
	withInline := message("c")
	withInline.Entry = append(withInline.Entry, Entry{Inline: &OperationOutcome{Issue: []Issue{{Severity: "error", Code: "invalid"}}}})
	text := "<&> as written"
	cases := map[string]Resource{
		"parameters of bundles of bundles": &Parameters{Base: Base{ResourceType: "Parameters", ID: "p"}, Parameter: []Parameter{
			{Name: "passedPrescriptions", Resource: searchset(message("a"), message("b"))},
			{Name: "failedPrescriptions", Resource: searchset()},
			{Name: "note", ValueString: &text},
			{Name: "outcome", Resource: &OperationOutcome{Base: Base{ResourceType: "OperationOutcome"}, Issue: []Issue{{Severity: "information", Code: "informational"}}}},
		}},
		"bundle of bundles":              searchset(message("a"), message("b")),
		"inline entry nested":            searchset(message("a"), withInline),
		"parameters without a bundle":    &Parameters{Base: Base{ResourceType: "Parameters"}, Parameter: []Parameter{{Name: "note", ValueString: &text}}},
		"parameters with a nil bundle":   &Parameters{Base: Base{ResourceType: "Parameters"}, Parameter: []Parameter{{Name: "x", Resource: (*Bundle)(nil)}}},
		"bundle with a nil bundle entry": &Bundle{ResourceType: "Bundle", Entry: []Entry{{Resource: (*Bundle)(nil)}}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if want := generalMarshal(t, r); !bytes.Equal(got, want) {
				t.Errorf("one-pass encoding differs:\n%s\nwant\n%s", got, want)
			}
			if strings.Contains(name, "bundles") && !bytes.Contains(got, []byte(`"resource":{"resourceType":"MedicationRequest"`)) {
				t.Errorf("nested resourceType not stamped first: %s", got)
			}
		})
	}
}
