package fhir

import (
	"encoding"
	stdjson "encoding/json"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	json "github.com/goccy/go-json"
)

// Plans of the structs json_encode.go writes. An encPlan lists a struct's
// members as the JSON codec writes them: in the order of their fields
// (the fields of an embedded struct where it is embedded), named by the
// json tag or else the field's name, each with where it is in the struct,
// what it holds and whether it is left out when empty (omitempty).
// Plans are made once, from the types (reflect), when the package starts,
// and never change: encoding looks nothing up by reflection.
//
// A struct with a field the encoder does not write itself (a map, a
// float, a type with its own MarshalJSON or MarshalText that is not a
// pointer or slice, an omitempty bool or struct, a name two fields
// share...) is planned as codec: the JSON codec writes it whole; none of
// the types the package models is (TestEncodePlansCoverTheModels). A pointer or slice
// field of a type with its own MarshalJSON or MarshalText (json.RawMessage)
// is encCodec: the codec writes that field's value. ExtensionList and
// Entry, whose MarshalJSON methods the encoder knows, are written as
// their methods write them.

// encKind is what a planned field holds.
type encKind uint8

const (
	encString    encKind = iota // string
	encBool                     // bool
	encInt                      // int
	encNumber                   // json.Number
	encStruct                   // a struct
	encPointer                  // a pointer to one of the above (elem)
	encStructs                  // []struct (ExtensionList too)
	encStrings                  // []string
	encResource                 // Resource
	encResources                // ResourceList
	encEntries                  // []Entry, each as Entry.MarshalJSON writes it
	encCodec                    // a pointer or slice the codec writes
)

// encField is one member of an encPlan.
type encField struct {
	// key is a comma, the member's name quoted and its colon: `,"name":`;
	// keyWords are its bytes as words (when it is no longer than they
	// are), copied as words (appendKey).
	key      string
	keyWords [4]uint64
	// path is the field's selector from the planned struct (Base.ID),
	// for the generator of the encoders (json_encode_gen_test.go).
	path string
	off  uintptr
	kind encKind
	omit bool // omitempty
	// sub is the plan of the struct an encStruct or encStructs holds;
	// size is the size of an encStructs' element; elem is what an
	// encPointer points at, as a field of its own at offset 0.
	sub  *encPlan
	size uintptr
	elem *encField
	// typ is the type of an encCodec field.
	typ reflect.Type
}

// encPlan is how json_encode.go writes one struct type.
type encPlan struct {
	typ    reflect.Type
	fields []encField
	// emptyAt holds, for each field, alwaysWritten, or for an omitempty
	// one where in the struct the word is that is 0 when the field is
	// empty (a pointer, a string's or slice's length, an interface's
	// type, an int).
	emptyAt []uintptr
	// codec is set when the JSON codec writes the struct (see above).
	codec bool
}

// encodedResources are the resource types the encoder writes, in the
// order of resourceIndex's cases; encResourcePlans are their plans, in
// that order, and plainEntryPlan is an Entry's own members' (without its
// MarshalJSON). All are made once and only read.
var (
	encodedResources = [...]Resource{(*Bundle)(nil), (*MessageHeader)(nil), (*MedicationRequest)(nil),
		(*MedicationDispense)(nil), (*Patient)(nil), (*Practitioner)(nil), (*PractitionerRole)(nil),
		(*Organization)(nil), (*HealthcareService)(nil), (*Location)(nil), (*Provenance)(nil),
		(*CommunicationRequest)(nil), (*List)(nil), (*Task)(nil), (*Claim)(nil), (*Parameters)(nil),
		(*OperationOutcome)(nil), (*CapabilityStatement)(nil)}
	encPlanner       = encPlans{}
	encResourcePlans = makeEncResourcePlans(encPlanner)
	plainEntryPlan   = encPlanner.plan(reflect.TypeFor[plainEntry]())
)

// resourceIndex returns the index of r's type in encodedResources, or -1
// for a type the encoder does not write (the codec writes it).
func resourceIndex(r Resource) int {
	switch r.(type) {
	case *Bundle:
		return 0
	case *MessageHeader:
		return 1
	case *MedicationRequest:
		return 2
	case *MedicationDispense:
		return 3
	case *Patient:
		return 4
	case *Practitioner:
		return 5
	case *PractitionerRole:
		return 6
	case *Organization:
		return 7
	case *HealthcareService:
		return 8
	case *Location:
		return 9
	case *Provenance:
		return 10
	case *CommunicationRequest:
		return 11
	case *List:
		return 12
	case *Task:
		return 13
	case *Claim:
		return 14
	case *Parameters:
		return 15
	case *OperationOutcome:
		return 16
	case *CapabilityStatement:
		return 17
	}
	return -1
}

// makeEncResourcePlans plans encodedResources.
func makeEncResourcePlans(pl encPlans) (out [len(encodedResources)]*encPlan) {
	for i, r := range encodedResources {
		out[i] = pl.plan(reflect.TypeOf(r).Elem())
	}
	return out
}

// alwaysWritten is encPlan.emptyAt's mark of a field written even when
// empty.
const alwaysWritten = ^uintptr(0)

// encPlans makes plans, each struct type's once (so recursive types, such
// as Extension, end).
type encPlans map[reflect.Type]*encPlan

// Types the encoder's kinds are told by.
var (
	extensionListType = reflect.TypeFor[ExtensionList]()
	entriesType       = reflect.TypeFor[[]Entry]()
	resourceType      = reflect.TypeFor[Resource]()
)

// plan returns the plan of the struct type t.
func (pl encPlans) plan(t reflect.Type) *encPlan {
	if p, ok := pl[t]; ok {
		return p
	}
	p := &encPlan{typ: t}
	pl[t] = p
	names := map[string]bool{}
	if !pl.addFields(p, t, 0, "", names) {
		p.codec, p.fields, p.emptyAt = true, nil, nil
	}
	return p
}

// addFields adds the fields of struct t at offset off (selected by
// prefix) to p, in order, an embedded struct's where it is embedded;
// false when the codec is to write the struct (see encPlan).
func (pl encPlans) addFields(p *encPlan, t reflect.Type, off uintptr, prefix string, names map[string]bool) bool {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			if sf.Type.Kind() != reflect.Struct || hasOwnEncoding(sf.Type) || !pl.addFields(p, sf.Type, off+sf.Offset, prefix+sf.Name+".", names) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if names[name] || opts != "" && opts != "omitempty" || !keyAsIs(name) {
			return false // a name given twice (Go's rules for which wins), ",string", ...
		}
		names[name] = true
		key, _ := stdjson.Marshal(name)
		f := encField{key: "," + string(key) + ":", path: prefix + sf.Name, off: off + sf.Offset, omit: opts == "omitempty"}
		if len(f.key) <= len(f.keyWords)*8 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&f.keyWords)), len(f.keyWords)*8), f.key)
		}
		if !pl.kindOf(&f, sf.Type) {
			return false
		}
		at := alwaysWritten
		if f.omit {
			if at = f.off; f.kind == encBool {
				return false // a bool is no word: left to the codec
			}
			switch f.kind {
			case encString, encNumber, encStructs, encStrings, encResources, encEntries:
				at += unsafe.Sizeof(uintptr(0)) // the length
			case encCodec:
				if sf.Type.Kind() == reflect.Slice {
					at += unsafe.Sizeof(uintptr(0))
				}
			}
		}
		p.emptyAt = append(p.emptyAt, at)
		p.fields = append(p.fields, f)
	}
	return true
}

// keyAsIs reports whether name is written as it is, quoted: printable
// ASCII but the quote and the backslash, and none of the characters the
// codec would escape for HTML.
func keyAsIs(name string) bool {
	for i := range len(name) {
		if c := name[i]; c < 0x20 || c >= 0x7f || strings.IndexByte(`"\<>&`, c) >= 0 {
			return false
		}
	}
	return true
}

// kindOf sets what f holds, a value of type t; false when the encoder
// does not write it.
func (pl encPlans) kindOf(f *encField, t reflect.Type) bool {
	switch t {
	case extensionListType:
		// Its MarshalJSON writes it as the plain list.
		f.kind, f.sub, f.size = encStructs, pl.plan(t.Elem()), t.Elem().Size()
		return true
	case entriesType:
		f.kind = encEntries
		return true
	case resourceType:
		f.kind = encResource
		return true
	case resourcesType:
		f.kind = encResources
		return true
	case stringType:
		f.kind = encString
		return true
	case boolType:
		f.kind = encBool
		return true
	case intType:
		f.kind = encInt
		return true
	case numberType:
		f.kind = encNumber
		return true
	}
	if hasOwnEncoding(t) {
		if k := t.Kind(); k == reflect.Pointer || k == reflect.Slice {
			f.kind, f.typ = encCodec, t
			return true
		}
		return false
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := &encField{}
		if !pl.kindOf(elem, t.Elem()) || elem.kind > encStruct {
			return false
		}
		f.kind, f.elem = encPointer, elem
		return true
	case reflect.Slice:
		e := t.Elem()
		switch {
		case t == stringsType:
			f.kind = encStrings
		case e.Kind() == reflect.Struct && !hasOwnEncoding(e):
			f.kind, f.sub, f.size = encStructs, pl.plan(e), e.Size()
		default:
			return false
		}
		return true
	case reflect.Struct:
		// The codec never leaves out a struct value; an omitempty one is
		// left to it all the same.
		f.kind, f.sub = encStruct, pl.plan(t)
		return !f.omit
	}
	return false
}

// marshalerTypes are the interfaces through which a type encodes itself.
var marshalerTypes = []reflect.Type{
	reflect.TypeFor[stdjson.Marshaler](),
	reflect.TypeFor[json.Marshaler](),
	reflect.TypeFor[json.MarshalerContext](),
	reflect.TypeFor[encoding.TextMarshaler](),
}

// hasOwnEncoding reports whether t, or a pointer to it, encodes itself.
func hasOwnEncoding(t reflect.Type) bool { return implementsAny(t, marshalerTypes) }

// implementsAny reports whether t, or a pointer to it, implements one of
// the interfaces ifaces.
func implementsAny(t reflect.Type, ifaces []reflect.Type) bool {
	return slices.ContainsFunc(ifaces, func(i reflect.Type) bool {
		return t.Implements(i) || reflect.PointerTo(t).Implements(i)
	})
}
