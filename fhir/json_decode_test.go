package fhir

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unsafe"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// The package's decoder (json_decode.go) against the JSON codec's: where
// the package's decodes a resource, the codec must decode it too, to the
// same value; where the codec fails, the package's must give up (and
// DecodeResource then reads it the codec's way).

// checkAsCodec decodes data as a resource of type typ both ways, with ref
// and without, and fails tb when the package's decoder decodes what the
// codec does not, or decodes it otherwise. It reports whether the
// package's decoder decoded it.
func checkAsCodec(tb testing.TB, typ string, data []byte) bool {
	tb.Helper()
	return checkBothWays(tb, typ, data,
		func(in []byte, ref bool) (any, bool) { return decodeFast(typ, in, ref) },
		func(in []byte, ref bool) (any, error) {
			want := newResource(typ)
			return want, unmarshal(in, want, ref)
		})
}

// checkHeadAsCodec does checkAsCodec's for the members of a Bundle
// (plainBundlePlan, splitBundle's head).
func checkHeadAsCodec(tb testing.TB, data []byte) bool {
	tb.Helper()
	return checkBothWays(tb, "Bundle", data,
		func(in []byte, ref bool) (any, bool) {
			var got Bundle
			ok := decodeStruct(in, plainBundlePlan, unsafe.Pointer(&got), ref)
			return got, ok
		},
		func(in []byte, ref bool) (any, error) {
			var want Bundle
			err := unmarshal(in, (*plainBundle)(&want), ref)
			return want, err
		})
}

// checkBothWays decodes data with fast (the package's decoder) and codec
// (the JSON codec), with ref and without, each from a copy of its own (the
// package decoder's changed afterwards, so that a string referring to it
// without ref shows), and fails tb when fast decodes what codec does not,
// or decodes it otherwise. It reports whether fast decoded it.
func checkBothWays(tb testing.TB, what string, data []byte, fast func(in []byte, ref bool) (any, bool), codec func(in []byte, ref bool) (any, error)) bool {
	tb.Helper()
	decoded := false
	for _, ref := range []bool{false, true} {
		in := bytes.Clone(data)
		got, ok := fast(in, ref)
		want, werr := codec(bytes.Clone(data), ref)
		if !ok {
			continue
		}
		if !ref {
			clear(in)
		}
		decoded = true
		if werr != nil {
			tb.Fatalf("%s (ref %v): the package's decoder decoded %q, the codec fails: %v", what, ref, data, werr)
		}
		if !reflect.DeepEqual(got, want) {
			tb.Fatalf("%s (ref %v): the package's decoder gave %#v, the codec %#v, of %q", what, ref, got, want, data)
		}
	}
	return decoded
}

// eachResourceObject calls fn with the bytes of every object in the JSON
// value v, at any depth, whose "resourceType" member is a string (the
// member's value as written), and of each Bundle's head (its entries
// emptied, as splitBundle reads it) with typ "Bundle head".
func eachResourceObject(v []byte, fn func(typ string, obj []byte)) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return
	}
	switch v[0] {
	case '{':
		typ := ""
		EachMember(v, func(name string, value []byte) bool {
			if name == "resourceType" && plainString(value) {
				typ = string(value[1 : len(value)-1])
			}
			eachResourceObject(value, fn)
			return true
		})
		if typ != "" {
			fn(typ, v)
		}
		if typ == "Bundle" {
			s := bundleScan{data: v, ref: true}
			if start, end, ok := s.entryArray(func(int, string, []byte) bool { return true }); ok && start >= 0 {
				fn("Bundle head", append(append(append([]byte(nil), v[:start]...), "[]"...), v[end:]...))
			}
		}
	case '[':
		EachElement(v, func(e []byte) bool {
			eachResourceObject(e, fn)
			return true
		})
	}
}

// fhirMessages returns the FHIR messages of the project's testdata and of
// the corpus (when present), by name.
func fhirMessages(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if corpustest.Present() {
		paths = append(paths, corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") })...)
	}
	out := make(map[string][]byte, len(paths))
	for _, f := range paths {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = data
	}
	return out
}

// TestDecodeFastAsCodec decodes every resource (at any depth, contained
// and Bundle entries included) of every FHIR message of the corpus and
// the project's testdata both ways and requires the same results, and
// that the package's decoder decodes all but a few (those it gives up on
// are listed).
func TestDecodeFastAsCodec(t *testing.T) {
	msgs := fhirMessages(t)
	if len(msgs) == 0 {
		t.Fatal("no FHIR messages")
	}
	total, fast := 0, 0
	gaveUp := map[string]int{}
	names := make([]string, 0, len(msgs))
	for name := range msgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		eachResourceObject(msgs[name], func(typ string, obj []byte) {
			var ok bool
			switch {
			case typ == "Bundle head":
				ok = checkHeadAsCodec(t, obj)
			case resourcePlans[typ] != nil:
				ok = checkAsCodec(t, typ, obj)
			default:
				return
			}
			total++
			if ok {
				fast++
			} else {
				gaveUp[typ]++
				t.Logf("gave up on a %s of %s", typ, name)
			}
		})
	}
	t.Logf("%d messages: the package's decoder read %d of %d resources; gave up on %v", len(msgs), fast, total, gaveUp)
	if fast*10 < total*9 {
		t.Errorf("the package's decoder read %d of %d resources, fewer than 90%%: gave up on %v", fast, total, gaveUp)
	}
}

// TestDecodeRefAsGeneralWay decodes every FHIR message of the corpus and
// the project's testdata as a translation does (DecodeResourceRef: the
// package's decoder in place, its structs from slabs) and the general way
// (the codec for the message, DecodeResource for each entry), and
// requires the same result or the same error.
func TestDecodeRefAsGeneralWay(t *testing.T) {
	for name, data := range fhirMessages(t) {
		got, err := DecodeResourceRef(data)
		want, werr := decodeResource(data, false)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Errorf("%s: error %v, the general way gives %v", name, err, werr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: DecodeResourceRef differs from the general way", name)
		}
	}
}

// TestDecodeFastMalformed checks single cases: what the package's decoder
// reads (fast) and what it leaves to the codec, each both ways.
func TestDecodeFastMalformed(t *testing.T) {
	const p = `{"resourceType":"Patient",`
	tests := []struct {
		name string
		in   string
		fast bool
	}{
		{"plain", p + `"id":"a","gender":"female","active":true}`, true},
		{"white space", " \n{ \"resourceType\" : \"Patient\" ,\t\"id\" :\r\n \"a\" } \n", true},
		{"unknown member skipped", p + `"text":{"status":"generated","div":"<div/>","n":[1,-2.5e+3,true,false,null,{}]},"id":"a"}`, true},
		{"unknown member invalid", p + `"text":{"status":generated},"id":"a"}`, false},
		{"unknown member bad number", p + `"x":01}`, false},
		{"unknown member trailing comma", p + `"x":[1,]}`, false},
		{"unknown member trailing comma in object", p + `"x":{"a":1,}}`, false},
		{"name in another case", p + `"Gender":"female"}`, false},
		{"name escaped", p + `"gend\u0065r":"female"}`, false},
		{"member twice", p + `"gender":"female","gender":"male"}`, false},
		{"null", p + `"gender":null}`, false},
		{"null pointer", p + `"active":null}`, false},
		{"null list", p + `"name":null}`, false},
		{"null element", p + `"name":[null]}`, false},
		{"string for bool", p + `"active":"true"}`, false},
		{"number for string", p + `"gender":1}`, false},
		{"object for string", p + `"gender":{}}`, false},
		{"string escapes", p + `"gender":"a\"b\\c\/d\b\f\n\r\t\u00e9\u20AC"}`, true},
		{"surrogate pair", p + `"gender":"\ud83d\ude00"}`, false},
		{"bad escape", p + `"gender":"\x"}`, false},
		{"short unicode escape", p + `"gender":"\u00e"}`, false},
		{"control byte", p + "\"gender\":\"a\tb\"}", false},
		{"control byte before an escape", p + "\"gender\":\"a\tb\\n\"}", false},
		{"control byte after an escape", p + "\"gender\":\"a\\nb\x01\"}", false},
		{"invalid UTF-8 before an escape", p + "\"gender\":\"caf\xe9\\n\"}", false},
		{"UTF-8", p + `"gender":"café €"}`, true},
		{"invalid UTF-8", p + "\"gender\":\"caf\xe9\"}", false},
		{"DEL", p + "\"gender\":\"a\x7fb\"}", true},
		{"unterminated", p + `"gender":"female`, false},
		{"trailing data", p + `"gender":"female"}x`, false},
		{"trailing object", p + `"gender":"female"}{}`, false},
		{"trailing comma", p + `"gender":"female",}`, false},
		{"missing colon", p + `"gender" "female"}`, false},
		{"missing colon, space", p + `"gender"  "female","id":"a"}`, false},
		{"semicolon", p + `"gender";"female","id":"a"}`, false},
		{"two colons", p + `"gender"::"female","id":"a"}`, false},
		{"colon, two spaces", p + `"gender":  "female","id":"a"}`, true},
		{"colon, tab", p + "\"gender\":\t\"female\",\"id\":\"a\"}", true},
		{"colon, line break", p + "\"gender\":\n\"female\",\"id\":\"a\"}", true},
		{"space, colon", p + `"gender" :"female","id":"a"}`, true},
		{"colon, space, nothing", p + `"gender": `, false},
		{"colon at the end", p + `"id":`, false},
		{"colon, space, comma", p + `"gender": ,"id":"a"}`, false},
		{"colon, space, byte 0x80", p + "\"gender\": \x80\"female\",\"id\":\"a\"}", false},
		{"missing comma", p + `"gender":"female" "id":"a"}`, false},
		{"literal run on", p + `"active":truex}`, false},
		{"empty", ``, false},
		{"array", `[]`, false},
		{"empty lists", p + `"name":[],"identifier":[],"name2":[]}`, true},
		{"empty object", p + `"meta":{}}`, true},
		{"strings", p + `"name":[{"given":["a","b"],"prefix":[]}]}`, true},
		{"string list with number", p + `"name":[{"given":["a",1]}]}`, false},
		{"telecom rank", p + `"telecom":[{"rank":2},{"rank":-3}]}`, true},
		{"rank decimal", p + `"telecom":[{"rank":2.0}]}`, false},
		{"rank leading zero", p + `"telecom":[{"rank":02}]}`, false},
		{"rank too long", p + `"telecom":[{"rank":1234567890123456789}]}`, false},
		{"deceased", p + `"deceasedBoolean":false,"deceasedDateTime":"2020"}`, true},
		{"many objects side by side", p + `"identifier":[` + strings.Repeat(`{"system":"s","value":"v","period":{}},`, 99) + `{}]}`, true},
	}
	const mr = `{"resourceType":"MedicationRequest",`
	tests = append(tests, []struct {
		name string
		in   string
		fast bool
	}{
		{"numbers", mr + `"dispenseRequest":{"quantity":{"value":0.25},"numberOfRepeatsAllowed":3,"initialFill":{ "a" : [1] }},"dosageInstruction":[{"sequence":1e3,"timing":{"repeat":{"frequency":-0}}}]}`, true},
		{"number as string", mr + `"dispenseRequest":{"quantity":{"value":"5"}}}`, false},
		{"number bad", mr + `"dispenseRequest":{"quantity":{"value":1.}}}`, false},
		{"number sign only", mr + `"dispenseRequest":{"quantity":{"value":-}}}`, false},
		{"number plus", mr + `"dispenseRequest":{"quantity":{"value":+1}}}`, false},
		{"raw null", mr + `"dispenseRequest":{"initialFill":null}}`, false},
		{"extension nested", mr + `"extension":[{"url":"a","extension":[{"url":"b","valueCoding":{"code":"c"}},{"url":"d","valueInteger":7}]}]}`, true},
		{"contained", mr + `"contained":[{"resourceType":"PractitionerRole","id":"r"},{"resourceType":"Basic","id":"b" }],"id":"m"}`, true},
		{"contained empty", mr + `"contained":[]}`, true},
		{"contained not an object", mr + `"contained":["x"]}`, false},
		{"contained without type", mr + `"contained":[{"id":"x"}]}`, false},
		{"deep", mr + `"note":[{"text":"a"}],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
		{"extensions nested 30 deep", mr + strings.Repeat(`"extension":[{"url":"u",`, 30) + `"valueString":"v"` + strings.Repeat(`}]`, 30) + `}`, true},
		{"extensions nested 40 deep", mr + strings.Repeat(`"extension":[{"url":"u",`, 40) + `"valueString":"v"` + strings.Repeat(`}]`, 40) + `}`, false},
		{"extensions nested 31 deep, an empty object innermost", mr + strings.Repeat(`"extension":[{"url":"u",`, 31) + `"valueCoding":{}` + strings.Repeat(`}]`, 31) + `}`, true},
		{"extensions nested 32 deep, an empty object innermost", mr + strings.Repeat(`"extension":[{"url":"u",`, 32) + `"valueCoding":{}` + strings.Repeat(`}]`, 32) + `}`, false},
		{"object not closed", mr + `"dispenseRequest":{"validityPeriod":{"start":"a"}`, false},
		{"object closed twice", mr + `"dispenseRequest":{"validityPeriod":{"start":"a"}}}}`, false},
		{"object closed by a bracket", mr + `"dispenseRequest":{"validityPeriod":{"start":"a"]}}`, false},
		{"members without a comma", mr + `"dispenseRequest":{"validityPeriod":{"start":"a" "end":"b"}}}`, false},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := "Patient"
			if strings.HasPrefix(tt.in, mr) {
				typ = "MedicationRequest"
			}
			if got := checkAsCodec(t, typ, []byte(tt.in)); got != tt.fast {
				t.Errorf("the package's decoder read it: %v, want %v", got, tt.fast)
			}
		})
	}
}

// TestDecodeFastBundleHead checks a Bundle's own members, read as
// splitBundle reads them.
func TestDecodeFastBundleHead(t *testing.T) {
	for _, tt := range []struct {
		in   string
		fast bool
	}{
		{`{"resourceType":"Bundle","id":"b","meta":{"lastUpdated":"x","profile":["p"]},"identifier":{"value":"v"},"type":"message","timestamp":"t","total":3,"link":[{"relation":"self","url":"u"}],"entry":[]}`, true},
		{`{"resourceType":"Bundle","entry":[]}`, true},
		{`{"resourceType":"Bundle","entry":[{}]}`, false},
		{`{"resourceType":"Bundle","entry":null}`, false},
		{`{"resourceType":"Bundle","total":-0}`, true},
		{`{"resourceType":"Bundle","total":1e2}`, false},
	} {
		if got := checkHeadAsCodec(t, []byte(tt.in)); got != tt.fast {
			t.Errorf("%s: the package's decoder read it: %v, want %v", tt.in, got, tt.fast)
		}
	}
}

// TestPlansCoverTheModels checks that every resource type newResource
// models but Bundle and Parameters has a plan, that the plans read every
// field of them (none left to the codec), and that every struct they
// allocate has its allocator listed.
func TestPlansCoverTheModels(t *testing.T) {
	for _, typ := range []string{"MessageHeader", "MedicationRequest", "MedicationDispense", "Patient", "Practitioner",
		"PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance", "CommunicationRequest",
		"List", "Task", "Claim", "OperationOutcome"} {
		p := resourcePlans[typ]
		if p == nil {
			t.Errorf("%s: no plan", typ)
			continue
		}
		seen := map[*plan]bool{}
		var walk func(p *plan, path string)
		walk = func(p *plan, path string) {
			if seen[p] {
				return
			}
			seen[p] = true
			for _, f := range p.fields {
				if f.kind == fieldOther {
					t.Errorf("%s: %s.%s is left to the codec", typ, path, f.name)
				}
				if f.sub != nil {
					if _, listed := allocators[f.sub.typ]; !listed && f.kind != fieldStruct {
						t.Errorf("%s: %s.%s: %v has no allocator listed", typ, path, f.name, f.sub.typ)
					}
					walk(f.sub, path+"."+f.name)
				}
			}
		}
		walk(p, typ)
	}
	if resourcePlans["Bundle"] != nil || resourcePlans["Parameters"] != nil {
		t.Error("Bundle and Parameters are read by bundle_codec.go and parameters_codec.go")
	}
}

// FuzzDecodeFast checks the package's decoder against the codec on any
// input, as every resource type it plans and as a Bundle's head.
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","id":"p","name":[{"given":["a"],"family":"b"}],"telecom":[{"rank":1}]}`))
	f.Add([]byte(`{"resourceType":"MedicationRequest","dispenseRequest":{"quantity":{"value":1.5e2},"initialFill":{"x":[null]}},"contained":[{"resourceType":"Patient"}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","total":2,"entry":[],"link":[{"url":"\u00e9"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for typ := range resourcePlans {
			checkAsCodec(t, typ, data)
		}
		checkHeadAsCodec(t, data)
	})
}

// TestStrEveryPlace decodes a string holding each kind of byte str tells
// apart (a quote or backslash escaped, a control byte, DEL, UTF-8 of two,
// three and four bytes, invalid UTF-8, escapes of each kind, a surrogate's
// escape) after 0 to 40 bytes of ASCII, so that it falls at every place
// of the words and blocks of sixteen (specialRun) str reads and in the
// last bytes of the data, with and without ASCII after it: the package's
// decoder must read it as the codec does, and read it exactly when it is
// the kind it reads.
func TestStrEveryPlace(t *testing.T) {
	for _, tt := range []struct {
		what, in string
		fast     bool
	}{
		{"escaped quote", `\"`, true},
		{"escaped backslash", `\\`, true},
		{"escapes", `\/\b\f\n\r\t\u00e9\u20AC`, true},
		{"surrogate pair", `\ud83d\ude00`, false},
		{"bad escape", `\x`, false},
		{"tab", "\t", false},
		{"NUL", "\x00", false},
		{"unit separator", "\x1f", false},
		{"DEL", "\x7f", true},
		{"two bytes", "é", true},
		{"three bytes", "€", true},
		{"four bytes", "😀", true},
		{"invalid", "\xe9", false},
		{"cut short", "\xe2\x82", false},
		{"UTF-8 then an escape", `é\n`, true},
		{"an escape then UTF-8", `\né`, true},
		{"invalid then an escape", "\xe9\\n", false},
		{"control then UTF-8", "\x01é", false},
	} {
		for n := 0; n <= 40; n++ {
			for _, after := range []string{"", "abcdefghijklmnopq"} {
				s := strings.Repeat("a", n) + tt.in + after
				in := []byte(`{"resourceType":"Patient","gender":"` + s + `"}`)
				if got := checkAsCodec(t, "Patient", in); got != tt.fast {
					t.Errorf("%s after %d bytes, %d after: read %v, want %v", tt.what, n, len(after), got, tt.fast)
				}
			}
		}
	}
}
