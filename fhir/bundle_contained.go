package fhir

import (
	"bytes"
	"strings"
)

// An entry's contained resources read in splitBundle's one pass, where the
// package's own decoder, which reads them in place (json_decode.go), gives
// up on the MedicationDispense holding them. Decoded the general way, a resource's contained array is gone over three times
// more than the rest of it: the decoder skips it to find its end and
// copies it for ResourceList.UnmarshalJSON, which decodes it into a
// json.RawMessage of each resource (skipping and copying each again)
// before decoding each. A dispense notification's MedicationDispenses
// carry most of their bytes so (a MedicationRequest and a
// PractitionerRole each). For a MedicationDispense, splitBundle's scan
// walks the resource's members (readContained) and decodes each contained
// resource straight from its place as it reaches it (decodeAt); the
// resource is then decoded from a copy of its bytes with an empty array in
// place of them. Anything unusual (another case of the name, the name
// twice, an element that is not an object, a resource that does not
// decode) leaves the resource to the general way, so results and errors
// stay its. Other resources with contained ones still decode the general
// way: only a MedicationDispense (which EPS gives a MedicationRequest and
// a PractitionerRole) is worth the walk over its members, which costs more
// than passing over a resource whole.

// span is where a JSON value is: data[start:end].
type span struct{ start, end int }

// readContained reads the MedicationDispense starting at data[i] member by
// member, its contained resources decoded as they are found, and then the
// resource itself from a copy of its bytes with "[]" in place of its
// contained array, and returns the index after it. end is 0 when the
// resource is of another shape or anything in it does not decode: the
// caller then decodes it whole, the general way. A resource without a
// contained member is decoded as it is (ok false when it does not decode).
func (s *bundleScan) readContained(i int) (res Resource, end int, ok bool) {
	data := s.data
	var contained span
	var list ResourceList
	w := walkObject(data, i)
	for w.more() {
		name, vs, ok := w.member()
		if !ok {
			return nil, 0, false
		}
		var ve int
		if strings.EqualFold(name, "contained") {
			if name != "contained" || contained.end != 0 {
				return nil, 0, false
			}
			if ve, list, ok = s.readContainedList(vs); !ok {
				return nil, 0, false
			}
			contained = span{vs, ve}
		} else if ve, ok = skipJSONValue(data, vs); !ok {
			return nil, 0, false
		}
		w.next(ve)
	}
	if end, ok = w.end(); !ok {
		return nil, 0, false
	}
	if contained.end == 0 {
		// None to read apart: the resource as walked.
		r, err := decodeResourceAs(data[i:end:end], s.ref)
		return r, end, err == nil
	}
	head := make([]byte, 0, end-i-(contained.end-contained.start)+2)
	head = append(append(append(head, data[i:contained.start]...), "[]"...), data[contained.end:end]...)
	r, err := decodeResourceAs(head, s.ref)
	if err != nil {
		return nil, 0, false
	}
	h, ok := r.(containedHolder)
	if !ok {
		return nil, 0, false
	}
	*h.containedList() = list
	return r, end, true
}

// readContainedList reads the contained array starting at data[i], each
// element an object and at least one, and decodes its resources; end is
// the index after the array. ok is false for any other shape, or when a
// resource does not decode.
func (s *bundleScan) readContainedList(i int) (end int, list ResourceList, ok bool) {
	w := walkArray(s.data, i)
	if !w.more() {
		return 0, nil, false // no array, or an empty one
	}
	list = make(ResourceList, 0, 4)
	for w.more() {
		vs := w.element()
		if vs >= len(s.data) || s.data[vs] != '{' {
			return 0, nil, false
		}
		t, typed := peekResourceType(s.data[vs:])
		res, ve, ok := s.decodeAt(vs, t, typed)
		if !ok {
			return 0, nil, false
		}
		list = append(list, res)
		w.next(ve)
	}
	end, ok = w.end()
	return end, list, ok
}

// containedHolder is a resource that may contain resources (every one
// that embeds Base).
type containedHolder interface{ containedList() *ResourceList }

// containedList returns the resource's contained resources.
func (b *Base) containedList() *ResourceList { return &b.Contained }

// lineEnd guesses the index after the object or array whose bracket is
// data[i] from the lines it is written on, for JSON indented to be read:
// when the bracket ends its line, the value is taken to end with the
// first later line that holds the closing bracket after the same white
// space as the line it opened on. The closing brackets are found by a
// search for them (bytes.IndexByte), without reading what is between, up
// to data[limit] at most. ok is false when the value does not open so or
// no such line comes before limit.
//
// It is a guess: an irregularly indented value may end elsewhere. A caller
// takes it only when data[i:end] then decodes as exactly one JSON value,
// which it does only when end is right: valid JSON from data[i] on ends
// its first value where skipJSONValue finds the end (a line break is never
// inside a valid string).
func lineEnd(data []byte, i, limit int) (end int, ok bool) {
	closer := data[i] + 2 // '{' + 2 is '}', '[' + 2 is ']'
	limit = min(limit, len(data))
	j := i + 1
	if j < limit && data[j] == '\r' {
		j++
	}
	if j >= limit || data[j] != '\n' {
		return 0, false
	}
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	k := start
	for k < i && (data[k] == ' ' || data[k] == '\t') {
		k++
	}
	indent := data[start:k]
	for {
		p := bytes.IndexByte(data[j:limit], closer)
		if p < 0 {
			return 0, false
		}
		c := j + p // a closing bracket, after a line break and indent?
		if b := c - len(indent) - 1; data[b] == '\n' && bytes.Equal(data[b+1:c], indent) {
			return c + 1, true
		}
		j = c + 1
	}
}
