package fhir

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	json "github.com/goccy/go-json"
)

// The package's encoder (json_encode.go) against the JSON codec's: for
// any resource, Marshal and MarshalIndent must give the bytes the codec
// gives (marshalCodec and marshalIndentCodec, what they were before the
// encoder), or fail where it fails.

// checkEncodesAsCodec encodes r both ways, compact and indented, and
// fails tb when the results differ; and so again by the walk over the
// plans (marshalPlans) instead of the generated writers. It reports
// whether the codec wrote r.
func checkEncodesAsCodec(tb testing.TB, what string, r Resource) bool {
	tb.Helper()
	want, werr := marshalCodec(r)
	wantIndent, werrIndent := marshalIndentCodec(r)
	for _, c := range []struct {
		name    string
		marshal func() ([]byte, error)
		want    []byte
		wantErr error
	}{
		{"Marshal", func() ([]byte, error) { return Marshal(r) }, want, werr},
		{"MarshalIndent", func() ([]byte, error) { return MarshalIndent(r) }, wantIndent, werrIndent},
		{"Marshal by the plans", func() ([]byte, error) { return marshalPlans(r, false) }, want, werr},
		{"MarshalIndent by the plans", func() ([]byte, error) { return marshalPlans(r, true) }, wantIndent, werrIndent},
	} {
		got, err := c.marshal()
		if (err == nil) != (c.wantErr == nil) || err != nil && err.Error() != c.wantErr.Error() {
			tb.Fatalf("%s: %s fails with %v, the codec with %v", what, c.name, err, c.wantErr)
		}
		if !bytes.Equal(got, c.want) {
			tb.Fatalf("%s: %s gives\n%s\nthe codec\n%s", what, c.name, got, c.want)
		}
	}
	return werr == nil
}

// marshalPlans is Marshal (indent false) or MarshalIndent (indent true)
// of a resource the encoder writes, by the walk over the plans alone.
func marshalPlans(r Resource, indent bool) ([]byte, error) {
	codec := marshalCodec
	if indent {
		codec = marshalIndentCodec
	}
	if resourceIndex(r) < 0 {
		return codec(r)
	}
	e := encoder{indent: indent, plans: true}
	out := e.appendResource(nil, r)
	if e.err != nil {
		return codec(r)
	}
	return out, nil
}

// TestEncodeAsCodec decodes every FHIR message of the project's testdata
// and of the corpus, and every resource in them at any depth (contained
// ones and Bundle entries included), and encodes each both ways.
func TestEncodeAsCodec(t *testing.T) {
	msgs := fhirMessages(t)
	resources, bundles := 0, 0
	for name, data := range msgs {
		check := func(what string, data []byte) {
			res, err := DecodeResource(data)
			if err != nil {
				return // not a resource
			}
			if checkEncodesAsCodec(t, what, res) {
				resources++
			}
			if _, ok := res.(*Bundle); ok {
				bundles++
			}
		}
		check(name, data)
		eachResourceObject(data, func(typ string, obj []byte) {
			check(name+": "+typ, obj)
		})
	}
	t.Logf("%d messages, %d resources (%d Bundles) encoded both ways", len(msgs), resources, bundles)
	if len(msgs) > 0 && bundles == 0 {
		t.Error("no Bundle encoded")
	}
}

// The strings the built values hold, each field another (filler.next):
// plain ASCII of each length around a word, text the codec escapes
// (quotes, backslashes, control bytes, U+2028 and U+2029, invalid UTF-8)
// and text it leaves as it is ('<', '>', '&', DEL, other non-ASCII).
var fillStrings = []string{
	"a", "urn:uuid:a54219b8-f741-4c47-b662-e4f8dfa49ab6", "take <1> & then >2",
	"\"quoted\" \\ back\\slash", "tab\there\nline\rret\bbs\fff", "\x00\x01\x1f\x7f",
	"caf\u00e9 \u2028 \u2029 \U0001F48A", "bad \xff\xfe utf8 \xed\xa0\x80 \xc0\xaf end",
	"12345678", "1234567", "123456789", "",
}

// fillNumbers are the json.Numbers the built values hold.
var fillNumbers = []string{"1.50", "0", "-0.5e+10", "12345678901234567890123456789.000001", "2E-3", ""}

// filler fills values of any of the package's types, every field set.
type filler struct {
	n     int
	depth int
}

func (f *filler) next() int { f.n++; return f.n }

// fill sets every field of v (settable) to a value of its own: strings
// and numbers from fillStrings and fillNumbers, two elements a slice,
// resources of a few types in Resource fields; recursion (Extension in
// Extension, Parameter in Parameter) ends after a few levels.
func (f *filler) fill(v reflect.Value) {
	if f.depth > 6 {
		return
	}
	f.depth++
	defer func() { f.depth-- }()
	switch v.Type() {
	case numberType:
		v.SetString(fillNumbers[f.next()%len(fillNumbers)])
		return
	case resourceType:
		if r := f.resource(); r != nil {
			v.Set(reflect.ValueOf(r))
		}
		return
	case rawType:
		v.SetBytes([]byte(" {\"initial\" : [ 1, {}, [], \"<&>\" ] }\n"))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fillStrings[f.next()%len(fillStrings)])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(int64(f.next()))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			f.fill(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	}
}

// resource returns a resource for a Resource field: a Patient or a
// Practitioner filled, a RawResource, a Bundle or nil, in turn.
func (f *filler) resource() Resource {
	switch f.next() % 5 {
	case 0:
		r := &Patient{}
		f.fill(reflect.ValueOf(r).Elem())
		return r
	case 1:
		r := &Practitioner{}
		f.fill(reflect.ValueOf(r).Elem())
		return r
	case 2:
		return &RawResource{Type: "Basic", JSON: []byte(` { "resourceType" : "Basic", "code": {"text": "<&>"} } `)}
	case 3:
		r := &Bundle{}
		f.fill(reflect.ValueOf(r).Elem())
		return r
	}
	return nil
}

// TestEncodeBuiltAsCodec encodes values of every resource type the
// encoder writes, built with every field set (and again with every field
// empty, and with empty lists), both ways: a field the encoder misses,
// writes out of order or writes otherwise fails it.
func TestEncodeBuiltAsCodec(t *testing.T) {
	for round := range 3 {
		for _, proto := range encodedResources {
			typ := reflect.TypeOf(proto).Elem()
			r := reflect.New(typ)
			f := filler{n: round}
			f.fill(r.Elem())
			checkEncodesAsCodec(t, fmt.Sprintf("%s filled (round %d)", typ.Name(), round), r.Interface().(Resource))
			checkEncodesAsCodec(t, typ.Name()+" empty", reflect.New(typ).Interface().(Resource))
			checkEncodesAsCodec(t, typ.Name()+" nil", reflect.Zero(reflect.PointerTo(typ)).Interface().(Resource))
			emptyLists := reflect.New(typ)
			setEmptyLists(emptyLists.Elem())
			checkEncodesAsCodec(t, typ.Name()+" with empty lists", emptyLists.Interface().(Resource))
		}
	}
}

// setEmptyLists sets every slice field of the struct v, its embedded
// structs' too, to an empty list that is not nil.
func setEmptyLists(v reflect.Value) {
	for i := range v.NumField() {
		switch fv := v.Field(i); fv.Kind() {
		case reflect.Slice:
			fv.Set(reflect.MakeSlice(fv.Type(), 0, 0))
		case reflect.Struct:
			setEmptyLists(fv)
		}
	}
}

// TestEncodeShapes encodes resources of shapes the corpus does not hold
// both ways: entries written inline, resources of types the encoder does
// not write, nil resources in lists, numbers that are not numbers.
func TestEncodeShapes(t *testing.T) {
	one := stdjson.Number("1")
	bad := stdjson.Number("1.")
	raw := stdjson.RawMessage(`{"a" : 1}`)
	badRaw := stdjson.RawMessage(`{"a" 1}`)
	text := "x<y>&z"
	cases := map[string]Resource{
		"inline entry": &Bundle{Entry: []Entry{{Inline: &Patient{Gender: "male"}}, {FullURL: "urn:x", Resource: &Location{}}}},
		"inline bundle": &Bundle{Entry: []Entry{{Inline: &Bundle{Type: "searchset", Entry: []Entry{
			{Resource: &Patient{}, Search: &EntrySearch{Mode: "match"}}}}}}},
		"nil entry resource":      &Bundle{Entry: []Entry{{Resource: (*Bundle)(nil)}, {}}},
		"raw entry":               &Bundle{Entry: []Entry{{Resource: &RawResource{Type: "Basic", JSON: []byte(`{"resourceType":"Basic"}`)}}}},
		"invalid raw entry":       &Bundle{Entry: []Entry{{Resource: &RawResource{Type: "Basic", JSON: []byte(`{"resourceType":`)}}}},
		"unmodelled type":         &Parameters{Parameter: []Parameter{{Name: "a", Resource: &bundleOut{plainBundle: &plainBundle{ID: "b"}}}}},
		"nil contained":           &Patient{Base: Base{Contained: ResourceList{nil, &Practitioner{}}}},
		"parameter nil resource":  &Parameters{Parameter: []Parameter{{Name: "a", Resource: (*Patient)(nil)}}},
		"bad number":              &Patient{Base: Base{Extension: []Extension{{URL: "u", ValueDecimal: &bad}}}},
		"bad number in a list":    &Patient{Base: Base{Extension: []Extension{{URL: "u", Extension: ExtensionList{{URL: "v", ValueDecimal: &bad}}}}}},
		"bad number in an entry":  &Bundle{Entry: []Entry{{Resource: &MedicationRequest{DispenseRequest: &DispenseRequest{NumberOfRepeatsAllowed: &bad}}}}},
		"good number":             &Patient{Base: Base{Extension: []Extension{{URL: "u", ValueInteger: &one}}}},
		"raw message":             &MedicationRequest{DispenseRequest: &DispenseRequest{InitialFill: &raw}},
		"invalid raw message":     &MedicationRequest{DispenseRequest: &DispenseRequest{InitialFill: &badRaw}},
		"nil raw message":         &MedicationRequest{DispenseRequest: &DispenseRequest{InitialFill: new(stdjson.RawMessage)}},
		"issue list nil":          &OperationOutcome{},
		"html in every position":  &Patient{Base: Base{ID: text}, Name: []HumanName{{Given: []string{text, text}}}},
		"capability statement":    &CapabilityStatement{Name: text, Rest: []CapabilityRest{{Mode: "server"}}},
		"a searchset of messages": &Bundle{Type: "searchset", Entry: []Entry{{Resource: &Bundle{Entry: []Entry{{Resource: &Task{}}}}}}},
	}
	deep := Extension{URL: "bottom", ValueString: &text}
	for range 40 { // indented past lineStarts
		deep = Extension{URL: "level", Extension: ExtensionList{deep}}
	}
	cases["deep extensions"] = &Patient{Base: Base{Extension: []Extension{deep}}}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			checkEncodesAsCodec(t, name, r)
		})
	}
}

// TestEncodeStamps checks that Marshal stamps the resourceTypes of the
// entries' resources, inline or not, as Entry.MarshalJSON does, and no
// others.
func TestEncodeStamps(t *testing.T) {
	p, l, c := &Patient{}, &Location{}, &Practitioner{}
	b := &Bundle{Entry: []Entry{{Resource: p}, {Inline: l}}}
	p.Contained = ResourceList{c}
	out, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.ResourceType != "Patient" || l.ResourceType != "Location" || c.ResourceType != "" || b.ResourceType != "" {
		t.Errorf("stamped: entry %q, inline %q, contained %q, bundle %q", p.ResourceType, l.ResourceType, c.ResourceType, b.ResourceType)
	}
	if want := `{"resourceType":"","entry":[{"resource":{"resourceType":"Patient","contained":[{"resourceType":""}]}},{"resourceType":"Location"}]}`; string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

// TestEncodeOtherValues checks that what is not a resource the encoder
// writes is written by the codec, as before.
func TestEncodeOtherValues(t *testing.T) {
	text := "<&>"
	for _, v := range []any{nil, "<&>", Extension{URL: "u", ValueString: &text}, []Extension{{URL: "u"}}, &RawResource{Type: "X", JSON: []byte(`{ "a": 1 }`)},
		struct {
			A string `json:"a"`
		}{"<"}} {
		got, err := Marshal(v)
		want, werr := json.MarshalWithOption(v, json.DisableHTMLEscape())
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Errorf("Marshal(%#v) = %s, %v; the codec gives %s, %v", v, got, err, want, werr)
		}
	}
}

// TestEncodePlansCoverTheModels checks that the encoder writes every
// field of every resource type it plans itself: no struct they hold is
// left to the codec, and every resource type newResource models is
// planned.
func TestEncodePlansCoverTheModels(t *testing.T) {
	seen := map[*encPlan]bool{}
	var walk func(p *encPlan, path string)
	walk = func(p *encPlan, path string) {
		if seen[p] {
			return
		}
		seen[p] = true
		if p.codec {
			t.Errorf("%s (%v) is left to the codec", path, p.typ)
		}
		for _, f := range p.fields {
			if f.kind == encCodec && f.typ != reflect.TypeFor[*stdjson.RawMessage]() {
				t.Errorf("%s.%s (%v) is left to the codec", path, f.key, f.typ)
			}
			if f.elem != nil {
				f = *f.elem
			}
			if f.sub != nil {
				walk(f.sub, path+"."+strings.Trim(f.key, `,":`))
			}
		}
	}
	for i, r := range encodedResources {
		if got := resourceIndex(r); got != i {
			t.Errorf("resourceIndex(%T) = %d, want %d", r, got, i)
		}
		walk(encResourcePlans[i], r.GetResourceType())
	}
	walk(plainEntryPlan, "Entry")
	for _, name := range []string{"Bundle", "MessageHeader", "MedicationRequest", "MedicationDispense", "Patient",
		"Practitioner", "PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance",
		"CommunicationRequest", "List", "Task", "Claim", "Parameters", "OperationOutcome"} {
		if resourceIndex(newResource(name)) < 0 {
			t.Errorf("%s is not written by the encoder", name)
		}
	}
}

// TestAppendStringAsCodec writes strings of every byte, and of the runes
// and invalid sequences that are escaped, both ways.
func TestAppendStringAsCodec(t *testing.T) {
	strs := append([]string(nil), fillStrings...)
	for c := range 256 {
		strs = append(strs, string([]byte{byte(c)}), "abcdefgh"+string([]byte{byte(c)})+"ijklmnop")
	}
	for _, r := range []rune{0x7f, 0x80, 0x7ff, 0x800, 0x2027, 0x2028, 0x2029, 0x202a, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		strs = append(strs, string(r), "0123456789"+string(r), string(utf8.AppendRune(nil, r)[:utf8.RuneLen(r)-1]))
	}
	long := strings.Repeat("PFNpZ25hdHVyZSB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC8wOS94bWxkc2lnIyI+", 4)
	for _, n := range []int{longString - 1, longString, longString + 7, 255} {
		for p := 0; p < n; p += max(1, n/37) {
			for _, c := range []byte{'"', '\\', 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xe2, 0xff} {
				b := []byte(long[:n])
				b[p] = c
				strs = append(strs, string(b))
			}
		}
		b := []byte(long[:n])
		b[n-1] = 0x1f
		strs = append(strs, long[:n], string(b))
	}
	strs = append(strs, "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "\xe2\x80\xa8\xe2\x80\xa9x", strings.Repeat("ab\"", 40))
	for _, s := range strs {
		checkStringAsCodec(t, s)
	}
}

// checkStringAsCodec fails tb when appendString writes s otherwise than
// the codec does.
func checkStringAsCodec(tb testing.TB, s string) {
	tb.Helper()
	want, err := json.MarshalWithOption(s, json.DisableHTMLEscape())
	if err != nil {
		tb.Fatal(err)
	}
	if got := appendString(nil, s); !bytes.Equal(got, want) {
		tb.Fatalf("appendString(%q) = %s, the codec %s", s, got, want)
	}
}

// TestValidNumberAsCodec checks that validNumber takes exactly the
// json.Numbers the codec writes.
func TestValidNumberAsCodec(t *testing.T) {
	for _, n := range []string{"0", "-0", "1", "-1", "10", "01", "-01", "1.", ".1", "1.0", "1.05", "1e5", "1E+5", "1e-05",
		"1e", "1e+", "-", "+1", " 1", "1 ", "0x1", "1.5e3.2", "NaN", "Infinity", "12345678901234567890123456789",
		"1234567890123456789012345678a", "0.000000000000000000000000001", "-0.0e0", "1_000", "٣"} {
		_, err := json.Marshal(stdjson.Number(n))
		if got := validNumber(n); got != (err == nil) {
			t.Errorf("validNumber(%q) = %v; the codec: %v", n, got, err)
		}
	}
}

// FuzzEncode checks the encoder against the codec on whatever
// DecodeResource reads, and appendString on any string (and appendPlain
// against its reference, appendPlainWords).
func FuzzEncode(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Patient","id":"p<&>","name":[{"given":["a\u2028b","\ud800"]}],"telecom":[{"rank":1}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationRequest","id":"m","dispenseRequest":{"initialFill":{ "a" : [1, {}] },"quantity":{"value":1.50e2}}}},{"resourceType":"Location"}]}`))
	f.Add([]byte(`{"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":"b","resource":{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Basic","x":"\u00e9"}}]}}]}]}`))
	f.Add([]byte(`{"resourceType":"MedicationDispense","contained":[{"resourceType":"PractitionerRole","id":"r"},{"resourceType":"MedicationRequest","contained":[]}],"extension":[{"url":"u","extension":[{"url":"v","valueInteger":-0}]}]}`))
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[]}`))
	// Strings around the sixteen-byte blocks appendPlain looks at, with
	// a byte to escape last.
	f.Add([]byte(`{"resourceType":"Patient","id":"0123456789abcd\"","gender":"0123456789abcde\u001f","birthDate":"0123456789abcdef0\\","name":[{"family":"0123456789abcdef0123456789abcd\u00e9"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if res, err := DecodeResource(data); err == nil {
			checkEncodesAsCodec(t, "decoded", res)
		}
		checkStringAsCodec(t, string(data))
		checkAppendPlain(t, string(data))
	})
}

// TestEncodeConcurrently writes the corpus and testdata messages from
// four goroutines at once, each its own decoded copies, through the
// shared plans and buffer pool, and requires what one goroutine alone
// writes (go test -race checks the sharing).
func TestEncodeConcurrently(t *testing.T) {
	var inputs [][]byte
	for _, data := range fhirMessages(t) {
		if _, err := DecodeResource(data); err == nil {
			inputs = append(inputs, data)
		}
	}
	want := make([][]byte, len(inputs))
	for i, data := range inputs {
		res, _ := DecodeResource(data)
		out, err := MarshalIndent(res)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for k := range inputs {
				i := (k + g*len(inputs)/4) % len(inputs)
				res, _ := DecodeResource(inputs[i])
				out, err := MarshalIndent(res)
				if err == nil && !bytes.Equal(out, want[i]) {
					err = fmt.Errorf("message %d written otherwise beside other writers", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkMarshalIndentBundle writes the homecare prescription's message
// Bundle indented, as the cancel and acknowledgement paths write theirs.
func BenchmarkMarshalIndentBundle(b *testing.B) { benchMarshalBundle(b, MarshalIndent) }
