package fhir

import (
	"strings"
	"unsafe"
)

// Reading a message Bundle without a pass over its entries. decodeBundle's
// one pass still reads every entry twice: the decoder skips over each
// resource to find its end and copies its bytes, and then each resource is
// decoded from the copy. splitBundle finds the entries' parts in the
// caller's bytes with a small scanner instead (jsonWalk): the Bundle's own
// members are decoded apart (with the entry array left empty), each
// entry's resource straight from its place in data as the scan reaches it.
// It takes the usual shape only (entries of "fullUrl" and "resource"
// written plainly, each member once); anything else is left to
// decodeBundle's general steps, so results and errors stay theirs.
//
// Each resource is read in place by the package's own decoder
// (decodeFastAt, json_decode.go), which finds its end as it reads it.
// Where that decoder gives up, and the resource is left to the JSON codec:
// where the Bundle is indented to be read, as EPS and its clients write
// it, a resource's end is found from its lines (lineEnd) without reading
// what is between them, and taken only when the resource then decodes
// from exactly those bytes; otherwise it is found by skipping the resource
// byte by byte (skipJSONValue), as it is in a Bundle written compactly.

// splitBundle decodes a Bundle whose entries are all of the usual shape;
// ok is false for anything else (the caller then goes the general way).
// The structs of its resources and its entry list are taken from sp
// (ParseBundleIn), or fresh when sp is nil.
func splitBundle(data []byte, ref bool, sp *Space) (b *Bundle, ok bool) {
	s := bundleScan{data: data, ref: ref, guesses: 2 * len(data)}
	listed := sp != nil && !sp.listed // the entries go into the Space's list
	if sp != nil {
		s.slabs = sp.messageSlabs()
	}
	if listed {
		s.entries = sp.entries[:0]
	}
	start, end, ok := s.entryArray(nil)
	if listed {
		sp.keepEntries(s.entries)
	}
	if !ok {
		return nil, false
	}
	head := data
	if start >= 0 {
		// The Bundle's own members, with an empty entry array in place of
		// the entries.
		head = make([]byte, 0, len(data)-(end-start)+2)
		head = append(append(append(head, data[:start]...), "[]"...), data[end:]...)
	}
	b = &Bundle{}
	if !decodeStruct(head, plainBundlePlan, unsafe.Pointer(b), ref) {
		*b = Bundle{} // what the package's decoder wrote before it gave up
		if unmarshal(head, (*plainBundle)(b), ref) != nil {
			return nil, false
		}
	}
	if b.ResourceType != "Bundle" {
		return nil, false
	}
	if start >= 0 {
		b.Entry = s.entries
	}
	return b, true
}

// bundleScan is one pass over a Bundle as written: its entries found, and
// each entry's resource decoded (splitBundle) or, when its methods are
// given an each, each of its members given to each instead
// (EachEntryMember). each is passed along, not kept, so that it stays on
// its caller's stack.
type bundleScan struct {
	data []byte
	ref  bool // as decodeResourceAs's
	// guesses is how many more bytes lineEnd may search and decode may
	// try in vain: the right guesses take no more than data, and the
	// wrong ones, with this, no more than data again, so that a Bundle
	// indented to mislead costs at most about three passes over it, not
	// one for each resource.
	guesses int
	// entries are the entries read, each with its resource decoded
	// (unless an each is given); n counts them. A Space's list when
	// not nil at the start (splitBundle), else made by readEntries.
	entries []Entry
	n       int
	// slabs hand out the structs of the resources the package's decoder
	// reads, when ref (json_slab.go).
	slabs slabs
}

// entryMembers is EachEntryMember's fn.
type entryMembers func(entry int, name string, value []byte) bool

// entryArray finds the value of the top-level "entry" member of the JSON
// object s.data, data[start:end], and reads its entries (see
// readEntries): start is -1 when there is none. ok is false when data is
// not an object of plainly written member names, or names an entry member
// more than once or in another case, or an entry is of another shape or
// its resource does not decode.
func (s *bundleScan) entryArray(each entryMembers) (start, end int, ok bool) {
	data := s.data
	start = -1
	w := walkObject(data, skipSpace(data, 0))
	for w.more() {
		name, vs, ok := w.member()
		if !ok {
			return 0, 0, false
		}
		var ve int
		if strings.EqualFold(name, "entry") {
			if name != "entry" || start >= 0 {
				return 0, 0, false
			}
			if ve, ok = s.readEntries(vs, each); !ok {
				return 0, 0, false
			}
			start, end = vs, ve
		} else if ve, ok = skipJSONValue(data, vs); !ok {
			return 0, 0, false
		}
		w.next(ve)
	}
	after, ok := w.end()
	return start, end, ok && skipSpace(data, after) == len(data)
}

// readEntries reads the entry array starting at data[start] and returns
// the index after it: each entry an object of a "fullUrl" string without
// escapes or non-ASCII bytes and a "resource" object, each at most once,
// in any order; ok is false for any other shape.
func (s *bundleScan) readEntries(start int, each entryMembers) (end int, ok bool) {
	w := walkArray(s.data, start)
	if each == nil && s.entries == nil {
		s.entries = make([]Entry, 0, 16) // as many as a message usually has
	}
	for w.more() {
		ve, ok := s.readEntry(w.element(), each)
		if !ok {
			return 0, false
		}
		w.next(ve)
	}
	return w.end()
}

// readEntry reads the entry object starting at data[i] into s.entries and
// returns the index after it.
func (s *bundleScan) readEntry(i int, each entryMembers) (end int, ok bool) {
	data := s.data
	var e Entry
	seenURL, seenResource := false, false
	w := walkObject(data, i)
	for w.more() {
		name, vs, ok := w.member()
		if !ok {
			return 0, false
		}
		var ve int
		switch name {
		case "fullUrl":
			if ve, ok = skipJSONValue(data, vs); !ok || seenURL || !plainString(data[vs:ve]) {
				return 0, false
			}
			seenURL = true
			if e.FullURL = unsafeString(data[vs+1 : ve-1]); !s.ref {
				e.FullURL = strings.Clone(e.FullURL)
			}
		case "resource":
			if seenResource || vs >= len(data) || data[vs] != '{' {
				return 0, false
			}
			seenResource = true
			if each != nil {
				// The resource read member by member, which finds its
				// end as skipping it would.
				entry, stopped := s.n, false
				ve, ok = eachMember(data, vs, func(n string, v []byte) bool {
					stopped = !each(entry, n, v)
					return !stopped
				})
				ok = ok && !stopped
			} else {
				e.Resource, ve, ok = s.readResource(vs)
			}
			if !ok {
				return 0, false
			}
		default:
			return 0, false // an inline entry, search, or another member: the general way
		}
		w.next(ve)
	}
	if end, ok = w.end(); ok {
		if s.n++; each == nil {
			s.entries = append(s.entries, e)
		}
	}
	return end, ok
}

// readResource decodes the resource object starting at data[i] and
// returns the index after it: with the package's decoder in place where it
// reads it (decodeFastAt), else as decodeAt decodes it, a
// MedicationDispense's contained resources read as they are found
// (readContained).
func (s *bundleScan) readResource(i int) (res Resource, end int, ok bool) {
	t, typed := peekResourceType(s.data[i:])
	if typed {
		// The package's decoder finds the resource's end as it reads it,
		// contained resources included (json_decode.go).
		if s.ref && s.slabs == nil {
			s.slabs = newSlabs()
		}
		if res, end, ok = decodeFastAt(s.data, i, t, s.ref, s.slabs); ok {
			return res, end, true
		}
	}
	if typed && t == "MedicationDispense" {
		if res, end, ok = s.readContained(i); end != 0 {
			return res, end, ok
		}
	}
	return s.decodeAt(i, t, typed)
}

// decodeAt decodes the resource object starting at data[i], of type t when
// typed (its first member, peekResourceType), and returns the index after
// it. Its end is taken from its lines when they give one and the resource
// decodes from exactly those bytes in one pass (decodeAs: a resource that
// declares another type, or a Bundle or Parameters, whose decoding is not
// of exactly its bytes, is not tried so); otherwise the resource is skipped
// to find its end and decoded as decodeResourceAs decodes it.
func (s *bundleScan) decodeAt(i int, t string, typed bool) (res Resource, end int, ok bool) {
	data := s.data
	if typed && t != "Bundle" && t != "Parameters" && s.guesses > 0 {
		end, ok := lineEnd(data, i, i+s.guesses)
		if ok {
			if res, ok := decodeAs(t, data[i:end:end], s.ref, nil); ok {
				s.guesses -= end - i
				return res, end, true
			}
		} else {
			end = min(i+s.guesses, len(data))
		}
		s.guesses -= end - i // searched, and decoded in vain
	}
	if end, ok = skipJSONValue(data, i); !ok {
		return nil, 0, false
	}
	res, err := decodeResourceAs(data[i:end:end], s.ref)
	if err != nil {
		return nil, 0, false
	}
	return res, end, true
}
