package fhir

import (
	"encoding"
	stdjson "encoding/json"
	"reflect"
	"strings"
	"unsafe"

	json "github.com/goccy/go-json"
)

// Plans of the structs json_decode.go decodes. A plan lists a struct's
// members as the JSON codec reads them (the json tag's name, else the Go
// field's; the fields of an embedded struct promoted unless an outer one
// has their name; unexported and "-" fields left out) with where each is
// in the struct and what it holds. Plans are made once, from the types
// (reflect), when the package starts, and never change: decoding looks
// nothing up by reflection. A field of a kind the decoder does not read
// (an interface, a type with its own UnmarshalJSON other than
// ResourceList, a map...) is planned as fieldOther: a member naming it
// leaves the resource to the JSON codec.

// fieldKind is what a planned field holds.
type fieldKind uint8

const (
	fieldOther     fieldKind = iota // anything else: the member leaves the object to the JSON codec
	fieldString                     // string
	fieldStringPtr                  // *string
	fieldBool                       // bool
	fieldBoolPtr                    // *bool
	fieldNumber                     // json.Number
	fieldNumberPtr                  // *json.Number
	fieldInt                        // int
	fieldIntPtr                     // *int
	fieldRawPtr                     // *json.RawMessage
	fieldStruct                     // a struct
	fieldStructPtr                  // *struct
	fieldStructs                    // []struct (ExtensionList too)
	fieldStrings                    // []string
	fieldResources                  // ResourceList (contained)
	fieldEmptyOnly                  // a slice of a type with its own UnmarshalJSON: only [] is read here
)

// field is one member of a plan.
type field struct {
	name string
	// lo and hi are the name's first and last eight bytes (nameWords).
	lo, hi uint64
	off    uintptr
	kind   fieldKind
	bit    uint8 // the field's index, for finding a member given twice
	// sub is the plan of the struct a fieldStruct, fieldStructPtr or
	// fieldStructs holds.
	sub *plan
	// alloc allocates the struct of a fieldStructPtr, or the elements of
	// a fieldStructs or fieldEmptyOnly.
	alloc allocator
}

// plan is how json_decode.go decodes one struct type.
type plan struct {
	typ    reflect.Type
	id     int     // its index among the plans the planner made
	size   uintptr // the struct's size
	fields []field
	// byLen holds, for each length of name, the indexes in fields of the
	// names of that length.
	byLen [][]uint8
}

// find returns the field whose name is exactly data[start:end], or nil.
// A name of up to sixteen bytes is compared as its first and last eight
// (see field.lo and hi), read as words where data holds them.
func (p *plan) find(data []byte, start, end int) *field {
	n := end - start
	if n >= len(p.byLen) {
		return nil
	}
	cands := p.byLen[n]
	switch {
	case len(cands) == 0:
		return nil
	case n <= 8 && start+8 <= len(data):
		lo := word(data, start) & (1<<(8*n) - 1) // 1<<64 is 0: all of it
		for _, k := range cands {
			if p.fields[k].lo == lo {
				return &p.fields[k]
			}
		}
		return nil
	case n > 8 && n <= 16 && start+8 <= len(data):
		lo, hi := word(data, start), word(data, end-8)
		for _, k := range cands {
			if f := &p.fields[k]; f.lo == lo && f.hi == hi {
				return f
			}
		}
		return nil
	}
	name := unsafeString(data[start:end])
	for _, k := range cands {
		if p.fields[k].name == name {
			return &p.fields[k]
		}
	}
	return nil
}

// nameWords returns name's first eight bytes (fewer: zeros above them)
// and, when it has more, its last eight, as little-endian words.
func nameWords(name string) (lo, hi uint64) {
	var b [16]byte
	copy(b[:], name)
	lo = word(b[:], 0)
	if len(name) > 8 {
		copy(b[:8], name[len(name)-8:])
		hi = word(b[:], 0)
	}
	return lo, hi
}

// folds reports whether name, not a field's exact name, is one of them in
// another letter case (ASCII), which the JSON codec also takes.
func (p *plan) folds(name string) bool {
	if len(name) >= len(p.byLen) {
		return false
	}
	for _, k := range p.byLen[len(name)] {
		if strings.EqualFold(p.fields[k].name, name) {
			return true
		}
	}
	return false
}

// resourcePlans are the plans of the resource types newResource models,
// by resourceType, but Bundle and Parameters (whose entries and parameters
// hold resources of any type: bundle_codec.go and parameters_codec.go read
// them); plainBundlePlan is the Bundle's own members' (splitBundle's
// head). Both are made once and only read.
// planned is the planner that made them all (each plan's id indexes its
// slab, json_slab.go).
var (
	planned         = newPlanner()
	resourcePlans   = makeResourcePlans(planned)
	plainBundlePlan = planned.plan(reflect.TypeFor[plainBundle]())
)

// makeResourcePlans plans the resource types newResource models.
func makeResourcePlans(pl *planner) map[string]*plan {
	out := map[string]*plan{}
	for _, t := range []string{"MessageHeader", "MedicationRequest", "MedicationDispense", "Patient", "Practitioner",
		"PractitionerRole", "Organization", "HealthcareService", "Location", "Provenance", "CommunicationRequest",
		"List", "Task", "Claim", "OperationOutcome"} {
		out[t] = pl.plan(reflect.TypeOf(newResource(t)).Elem())
	}
	return out
}

// planner makes plans, each struct type's once (so recursive types, such
// as Extension, end).
type planner struct{ plans map[reflect.Type]*plan }

func newPlanner() *planner { return &planner{plans: map[reflect.Type]*plan{}} }

// Types the kinds are told by.
var (
	stringType    = reflect.TypeFor[string]()
	boolType      = reflect.TypeFor[bool]()
	intType       = reflect.TypeFor[int]()
	numberType    = reflect.TypeFor[json.Number]() // goccy's is encoding/json's
	rawType       = reflect.TypeFor[json.RawMessage]()
	resourcesType = reflect.TypeFor[ResourceList]()
	stringsType   = reflect.TypeFor[[]string]()
)

// plan returns the plan of the struct type t.
func (pl *planner) plan(t reflect.Type) *plan {
	if p, ok := pl.plans[t]; ok {
		return p
	}
	p := &plan{typ: t, id: len(pl.plans), size: t.Size()}
	pl.plans[t] = p
	pl.addFields(p, t, 0, map[string]bool{})
	for i := range p.fields {
		p.fields[i].bit = uint8(i)
		n := len(p.fields[i].name)
		for len(p.byLen) <= n {
			p.byLen = append(p.byLen, nil)
		}
		p.byLen[n] = append(p.byLen[n], uint8(i))
	}
	if len(p.fields) > 64 {
		// More than the decoder's bit set holds: every member leaves the
		// object to the JSON codec.
		for i := range p.fields {
			p.fields[i].kind = fieldOther
		}
	}
	return p
}

// addFields adds the fields of struct t at offset off to p: its own
// first, then those its embedded structs promote (Go's rule for names at
// different depths; taken names are skipped).
func (pl *planner) addFields(p *plan, t reflect.Type, off uintptr, taken map[string]bool) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			embedded = append(embedded, sf)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if taken[name] {
			continue
		}
		taken[name] = true
		f := field{name: name, off: off + sf.Offset}
		f.lo, f.hi = nameWords(name)
		pl.kindOf(&f, sf.Type)
		p.fields = append(p.fields, f)
	}
	for _, sf := range embedded {
		pl.addFields(p, sf.Type, off+sf.Offset, taken)
	}
}

// kindOf sets what f holds, a value of type t.
func (pl *planner) kindOf(f *field, t reflect.Type) {
	switch {
	case t == resourcesType:
		f.kind = fieldResources
		return
	case t.Kind() == reflect.Pointer && t.Elem() == rawType:
		f.kind = fieldRawPtr // json.RawMessage's UnmarshalJSON keeps the bytes
		return
	case hasOwnDecoding(t):
		if t.Kind() == reflect.Slice {
			f.kind, f.alloc = fieldEmptyOnly, allocatorFor(t.Elem())
		}
		return // fieldOther
	}
	switch t {
	case stringType:
		f.kind = fieldString
	case boolType:
		f.kind = fieldBool
	case intType:
		f.kind = fieldInt
	case numberType:
		f.kind = fieldNumber
	}
	if f.kind != fieldOther {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		e := t.Elem()
		switch {
		case e == stringType:
			f.kind = fieldStringPtr
		case e == boolType:
			f.kind = fieldBoolPtr
		case e == intType:
			f.kind = fieldIntPtr
		case e == numberType:
			f.kind = fieldNumberPtr
		case e.Kind() == reflect.Struct && !hasOwnDecoding(e):
			f.kind, f.sub, f.alloc = fieldStructPtr, pl.plan(e), allocatorFor(e)
		}
	case reflect.Slice:
		e := t.Elem()
		switch {
		case e == stringType:
			if t == stringsType {
				f.kind = fieldStrings
			}
		case hasOwnDecoding(e):
			f.kind, f.alloc = fieldEmptyOnly, allocatorFor(e)
		case e.Kind() == reflect.Struct:
			f.kind, f.sub, f.alloc = fieldStructs, pl.plan(e), allocatorFor(e)
		}
	case reflect.Struct:
		f.kind, f.sub = fieldStruct, pl.plan(t)
	}
}

// unmarshalerTypes are the interfaces through which a type decodes itself.
var unmarshalerTypes = []reflect.Type{
	reflect.TypeFor[stdjson.Unmarshaler](),
	reflect.TypeFor[json.Unmarshaler](),
	reflect.TypeFor[json.UnmarshalerContext](),
	reflect.TypeFor[encoding.TextUnmarshaler](),
}

// hasOwnDecoding reports whether t, or a pointer to it, decodes itself.
func hasOwnDecoding(t reflect.Type) bool {
	for _, u := range unmarshalerTypes {
		if t.Implements(u) || reflect.PointerTo(t).Implements(u) {
			return true
		}
	}
	return false
}

// allocator allocates the values of one struct type: one, or the
// elements of a slice of capacity c with the n of elems (nil when n is 0)
// copied to its start. Its elements are never nil, an empty slice's
// neither (as the codec's empty slice is not nil).
type allocator struct {
	one  func() unsafe.Pointer
	grow func(elems unsafe.Pointer, n, c int) unsafe.Pointer
}

// allocatorOf returns T's allocator.
func allocatorOf[T any]() allocator {
	return allocator{
		one: func() unsafe.Pointer { return unsafe.Pointer(new(T)) },
		grow: func(elems unsafe.Pointer, n, c int) unsafe.Pointer {
			s := make([]T, c)
			if n > 0 {
				copy(s, unsafe.Slice((*T)(elems), n))
			}
			return unsafe.Pointer(unsafe.SliceData(s))
		},
	}
}

// allocators are those of the structs the resources hold, by type: with
// its type known, a value is allocated without reflection (whose
// MakeSlice allocates a slice header on the heap besides the elements).
// A struct type not listed is allocated by reflection (allocatorFor).
var allocators = map[reflect.Type]allocator{
	reflect.TypeFor[Coding]():                allocatorOf[Coding](),
	reflect.TypeFor[CodeableConcept]():       allocatorOf[CodeableConcept](),
	reflect.TypeFor[Identifier]():            allocatorOf[Identifier](),
	reflect.TypeFor[Reference]():             allocatorOf[Reference](),
	reflect.TypeFor[Quantity]():              allocatorOf[Quantity](),
	reflect.TypeFor[Period]():                allocatorOf[Period](),
	reflect.TypeFor[Range]():                 allocatorOf[Range](),
	reflect.TypeFor[Ratio]():                 allocatorOf[Ratio](),
	reflect.TypeFor[HumanName]():             allocatorOf[HumanName](),
	reflect.TypeFor[Address]():               allocatorOf[Address](),
	reflect.TypeFor[ContactPoint]():          allocatorOf[ContactPoint](),
	reflect.TypeFor[Meta]():                  allocatorOf[Meta](),
	reflect.TypeFor[Annotation]():            allocatorOf[Annotation](),
	reflect.TypeFor[Signature]():             allocatorOf[Signature](),
	reflect.TypeFor[Extension]():             allocatorOf[Extension](),
	reflect.TypeFor[MessageDestination]():    allocatorOf[MessageDestination](),
	reflect.TypeFor[MessageSource]():         allocatorOf[MessageSource](),
	reflect.TypeFor[MessageHeaderResponse](): allocatorOf[MessageHeaderResponse](),
	reflect.TypeFor[DispenseRequest]():       allocatorOf[DispenseRequest](),
	reflect.TypeFor[Substitution]():          allocatorOf[Substitution](),
	reflect.TypeFor[ProvenanceAgent]():       allocatorOf[ProvenanceAgent](),
	reflect.TypeFor[CommunicationPayload]():  allocatorOf[CommunicationPayload](),
	reflect.TypeFor[ListEntry]():             allocatorOf[ListEntry](),
	reflect.TypeFor[DispensePerformer]():     allocatorOf[DispensePerformer](),
	reflect.TypeFor[TaskParameter]():         allocatorOf[TaskParameter](),
	reflect.TypeFor[ClaimPayee]():            allocatorOf[ClaimPayee](),
	reflect.TypeFor[ClaimInsurance]():        allocatorOf[ClaimInsurance](),
	reflect.TypeFor[ClaimItem]():             allocatorOf[ClaimItem](),
	reflect.TypeFor[ClaimDetail]():           allocatorOf[ClaimDetail](),
	reflect.TypeFor[ClaimSubDetail]():        allocatorOf[ClaimSubDetail](),
	reflect.TypeFor[Dosage]():                allocatorOf[Dosage](),
	reflect.TypeFor[DoseAndRate]():           allocatorOf[DoseAndRate](),
	reflect.TypeFor[Timing]():                allocatorOf[Timing](),
	reflect.TypeFor[TimingRepeat]():          allocatorOf[TimingRepeat](),
	reflect.TypeFor[Issue]():                 allocatorOf[Issue](),
	reflect.TypeFor[BundleLink]():            allocatorOf[BundleLink](),
	reflect.TypeFor[Entry]():                 allocatorOf[Entry](),
	reflect.TypeFor[EntrySearch]():           allocatorOf[EntrySearch](),
}

// allocatorFor returns the allocator of the struct type t: the one
// listed, or one by reflection.
func allocatorFor(t reflect.Type) allocator {
	if a, ok := allocators[t]; ok {
		return a
	}
	st := reflect.SliceOf(t)
	return allocator{
		one: func() unsafe.Pointer { return reflect.New(t).UnsafePointer() },
		grow: func(elems unsafe.Pointer, n, c int) unsafe.Pointer {
			s := reflect.MakeSlice(st, c, c)
			if n > 0 {
				reflect.Copy(s, reflect.NewAt(st, unsafe.Pointer(&sliceHeader{elems, n, n})).Elem())
			}
			return s.UnsafePointer()
		},
	}
}
