package fhir

import (
	"reflect"
	"strings"
	"testing"
)

// valueOf is a value the decoder reads into a field of kind k, leaving the
// struct not zero; "" for a kind where none does (a struct's {} leaves it
// zero).
func valueOf(k fieldKind) string {
	switch k {
	case fieldString, fieldStringPtr:
		return `"v"`
	case fieldBool, fieldBoolPtr:
		return `true`
	case fieldNumber, fieldNumberPtr, fieldInt, fieldIntPtr:
		return `1`
	case fieldRawPtr, fieldStructPtr:
		return `{}`
	case fieldStructs, fieldStrings, fieldResources, fieldEmptyOnly:
		return `[]`
	}
	return ""
}

// decodeMember decodes {"name":value} followed by pad as the struct of
// plan p: whether the decoder read it, and whether it wrote the struct.
func decodeMember(p *plan, name, value, pad string) (ok, wrote bool) {
	d := fastDecoder{data: []byte(`{"` + name + `":` + value + `}` + pad)}
	v := reflect.New(p.typ)
	_, ok = d.object(0, p, v.UnsafePointer())
	return ok, !v.Elem().IsZero()
}

// TestPlansFindEveryName decodes, for every plan, an object of one member
// named as each of its fields, with a value that field reads, which must be
// written; and the same name one byte longer or shorter, when that is no
// field's, with the value null, which must be passed over. Each is read
// where the name's words are at the end of the data (the quote searched
// for) and with space after the object (the name read from the words its
// quote is found in).
func TestPlansFindEveryName(t *testing.T) {
	for _, p := range planned.plans {
		for _, f := range p.fields {
			for _, pad := range []string{"", strings.Repeat(" ", 24)} {
				if v := valueOf(f.kind); v != "" {
					if ok, wrote := decodeMember(p, f.name, v, pad); !ok || !wrote {
						t.Errorf("%v: member %q: %s (pad %d): read %v, written %v", p.typ, f.name, v, len(pad), ok, wrote)
					}
				}
				for _, other := range []string{f.name + "x", f.name[:len(f.name)-1]} {
					if p.search([]byte(other)) != nil || p.folds(other) {
						continue
					}
					if ok, wrote := decodeMember(p, other, "null", pad); !ok || wrote {
						t.Errorf("%v: member %q: null (pad %d): read %v, written %v", p.typ, other, len(pad), ok, wrote)
					}
				}
			}
		}
	}
}

// TestNameLookup reads one member name of each length around the words the
// decoder reads it in (7, 8, 9, 15, 16, 17 bytes and more), field or not,
// where the data ends after it and where it does not, with find and in
// object.
func TestNameLookup(t *testing.T) {
	p := resourcePlans["MedicationRequest"]
	for _, tt := range []struct {
		name  string
		field bool
	}{
		{"subject", true},                    // 7
		{"category", true},                   // 8
		{"recorder", true},                   // 8
		{"requester", true},                  // 9
		{"performerx", false},                // 10
		{"dispenseRequest", true},            // 15
		{"dispenseRequestx", false},          // 16
		{"dosageInstruction", true},          // 17
		{"dosageInstructiom", false},         // 17, the last byte
		{"eosageInstruction", false},         // 17, the first byte
		{"medicationCodeableConcept", true},  // 25
		{"medicationXodeableConcept", false}, // 25, a byte in neither word
		{"", false},
		{"id\x00", false},
		{"category\x00", false},
	} {
		for _, pad := range []string{"", strings.Repeat(" ", 24)} {
			data := []byte(`"` + tt.name + `":` + pad)
			got := p.find(data, 1, quoteAt(data, 1))
			if (got != nil) != tt.field || got != nil && got.name != tt.name {
				t.Errorf("find %q (pad %d): %v, want a field %v", tt.name, len(pad), got, tt.field)
			}
			if strings.Contains(tt.name, "\x00") {
				continue // not plainly written: given up on either way
			}
			value := "null"
			if tt.field {
				value = valueOf(got.kind)
			}
			if ok, wrote := decodeMember(p, tt.name, value, pad); !ok || wrote != tt.field {
				t.Errorf("object, member %q: %s (pad %d): read %v, written %v", tt.name, value, len(pad), ok, wrote)
			}
		}
	}
}
