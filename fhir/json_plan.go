package fhir

import (
	"encoding"
	stdjson "encoding/json"
	"math/bits"
	"reflect"
	"slices"
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
	bit    uint64 // 1 shifted by the field's index, for finding a member given twice
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
	// names of that length (folds and search read it).
	byLen [][]uint8
	// slots is a perfect hash of the fields' names (nameKey): each slot
	// the field whose name hashes to it, or noField; mul and shift are its
	// multiplier and 64 less its bits. shared is set when names share a
	// key (names of more than sixteen bytes can): a name not found in
	// slots is then searched for (search).
	slots  []*field
	mul    uint64
	shift  uint8
	shared bool
}

// nameKey is what a name's hash is of: its first and last eight bytes
// (nameWords) and its length, which tell names of up to sixteen bytes
// apart.
func nameKey(lo, hi uint64, n int) uint64 {
	return lo ^ bits.RotateLeft64(hi, 29) ^ uint64(n)<<58
}

// noField is the field of an empty slot: no name's words and length are
// its.
var noField = &field{lo: ^uint64(0), hi: ^uint64(0)}

// short returns the field whose name, shorter than sixteen bytes, is n
// bytes whose first and last eight are lo and hi (nameWords), or nil.
// It is small enough to be inlined in object's loop.
func (p *plan) short(lo, hi uint64, n int) *field {
	f := p.slots[(nameKey(lo, hi, n)*p.mul)>>p.shift]
	if f.lo != lo || f.hi != hi || len(f.name) != n {
		return nil
	}
	return f
}

// find returns the field whose name is exactly data[start:end], or nil.
// The name's first and last eight bytes are read as words where data
// holds them (see field.lo and hi).
func (p *plan) find(data []byte, start, end int) *field {
	n := end - start
	var lo, hi uint64
	switch {
	case n <= 8 && start+8 <= len(data):
		lo = word(data, start) & (1<<(8*n) - 1) // 1<<64 is 0: all of it
	case n > 8:
		lo, hi = word(data, start), word(data, end-8)
	default:
		lo, hi = nameWords(unsafeString(data[start:end]))
	}
	f := p.slots[(nameKey(lo, hi, n)*p.mul)>>p.shift]
	if f.lo == lo && f.hi == hi && len(f.name) == n && (n <= 16 || f.name == unsafeString(data[start:end])) {
		return f
	}
	if p.shared {
		return p.search(data[start:end])
	}
	return nil
}

// search returns the field whose name is name, or nil, looked for among
// the names of its length.
func (p *plan) search(name []byte) *field {
	if len(name) >= len(p.byLen) {
		return nil
	}
	for _, k := range p.byLen[len(name)] {
		if p.fields[k].name == unsafeString(name) {
			return &p.fields[k]
		}
	}
	return nil
}

// hashNames makes p's perfect hash of its fields' names (slots, mul,
// shift): the smallest table of more than twice as many slots as keys
// for which one of a fixed sequence of odd multipliers gives each key a
// slot of its own. A name whose key another has already is left out of
// it, and p shared.
func (p *plan) hashNames() {
	var keys []uint64
	var fields []*field
	for i := range p.fields {
		f := &p.fields[i]
		k := nameKey(f.lo, f.hi, len(f.name))
		if slices.Contains(keys, k) {
			p.shared = true
			continue
		}
		keys, fields = append(keys, k), append(fields, f)
	}
	for b := bits.Len(uint(2 * len(keys))); ; b++ {
		table := make([]*field, 1<<b)
		x := uint64(0x9e3779b97f4a7c15)
	tries:
		for range 1000 {
			x = x*6364136223846793005 + 1442695040888963407 // an LCG: the same multipliers every start
			mul := x | 1
			clear(table)
			for i, k := range keys {
				h := (k * mul) >> (64 - b)
				if table[h] != nil {
					continue tries
				}
				table[h] = fields[i]
			}
			for i := range table {
				if table[i] == nil {
					table[i] = noField
				}
			}
			p.slots, p.mul, p.shift = table, mul, uint8(64-b)
			return
		}
	}
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
		p.fields[i].bit = 1 << (i % 64) // all fieldOther past 64 (below)
		n := len(p.fields[i].name)
		for len(p.byLen) <= n {
			p.byLen = append(p.byLen, nil)
		}
		p.byLen[n] = append(p.byLen[n], uint8(i))
	}
	p.hashNames()
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
