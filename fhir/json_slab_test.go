package fhir

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// slabBundle is a message Bundle whose Patient holds lists of strings of
// length lens and extensions with string and number pointers, and n
// identifiers, references and codings (more than the block holds of each
// when n is).
func slabBundle(lens []int, n int) []byte {
	var names, exts, ids, refs []string
	for k, l := range lens {
		given := make([]string, l)
		for j := range given {
			given[j] = fmt.Sprintf(`"g%d.%d"`, k, j)
		}
		names = append(names, `{"family":"f","given":[`+strings.Join(given, ",")+`],"prefix":[]}`)
		exts = append(exts, fmt.Sprintf(`{"url":"u%d","valueString":"s%d"}`, k, k),
			fmt.Sprintf(`{"url":"n%d","extension":[{"url":"a","valueString":"x"},{"url":"b","extension":[{"url":"c","valueDecimal":1.50}]},{"url":"d","valueInteger":%d}]}`, k, k))
	}
	for k := range n {
		ids = append(ids, fmt.Sprintf(`{"system":"s","value":"v%d"}`, k))
		refs = append(refs, fmt.Sprintf(`{"reference":"urn:uuid:%d","identifier":{"value":"i%d"}}`, k, k))
	}
	patient := `{"resourceType":"Patient","id":"p","identifier":[` + strings.Join(ids, ",") + `],"name":[` +
		strings.Join(names, ",") + `],"extension":[` + strings.Join(exts, ",") + `],"generalPractitioner":[` +
		strings.Join(refs, ",") + `],"maritalStatus":{"coding":[{"code":"a"},{"code":"b"}]}}`
	return []byte(`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:p","resource":` + patient +
		`},{"fullUrl":"urn:uuid:q","resource":` + patient + `}]}`)
}

// TestSlabsAsGeneralWay decodes Bundles whose resources take their
// structs, lists of strings and string and number pointers from the
// message's slabs (DecodeResourceRef) and requires what the general way
// gives: lists of
// none, one, and more strings than a slab of strings holds, more structs
// of a type than the block holds, lists grown in their slab and lists of
// extensions holding extensions (not grown in place); and that appending
// to a list taken from a slab does not write over the next.
func TestSlabsAsGeneralWay(t *testing.T) {
	for _, tt := range []struct {
		lens []int
		n    int
	}{
		{[]int{0}, 0},
		{[]int{1}, 1},
		{[]int{1, 2, 3}, 3},
		{[]int{9, 1}, 17},
		{[]int{20, 0, 7, 8}, 40},
	} {
		data := slabBundle(tt.lens, tt.n)
		got, err := DecodeResourceRef(data)
		if err != nil {
			t.Fatalf("%v: %v", tt.lens, err)
		}
		want, err := decodeResource(data, false)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%v, %d: DecodeResourceRef differs from the general way", tt.lens, tt.n)
		}
		// Appending to each list of the first Patient, taken from the
		// slabs, must leave the second Patient's structs, taken after
		// them, as they were.
		b := got.(*Bundle)
		p := b.Entry[0].Resource.(*Patient)
		p.Identifier = append(p.Identifier, Identifier{Value: "appended"})
		p.Extension = append(p.Extension, Extension{URL: "appended"})
		p.GeneralPractitioner = append(p.GeneralPractitioner, Reference{Reference: "appended"})
		if !reflect.DeepEqual(b.Entry[1], want.(*Bundle).Entry[1]) {
			t.Errorf("%v, %d: appending to the first Patient's lists changed the second", tt.lens, tt.n)
		}
		if len(p.Name) > 1 {
			next := strings.Join(p.Name[1].Given, ",")
			p.Name[0].Given = append(p.Name[0].Given, "appended")
			if strings.Join(p.Name[1].Given, ",") != next {
				t.Errorf("%v: appending to the first list changed the second: %q", tt.lens, p.Name[1].Given)
			}
		}
	}
}
