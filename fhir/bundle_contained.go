package fhir

import "strings"

// An entry's contained resources read in splitBundle's one pass. Decoded
// the general way, a resource's contained array is gone over three times
// more than the rest of it: the decoder skips it to find its end and
// copies it for ResourceList.UnmarshalJSON, which decodes it into a
// json.RawMessage of each resource (skipping and copying each again)
// before decoding each. A dispense notification's MedicationDispenses
// carry most of their bytes so (a MedicationRequest and a
// PractitionerRole each). For a MedicationDispense (mayContain),
// splitBundle's scan finds the array's resources while it finds the
// entry's end (scanResource); the resource is then
// decoded from a copy of its bytes with an empty array in place of them,
// and each contained resource straight from its place (decodeContained).
// Anything unusual (another case of the name, the name twice, an element
// that is not an object, a resource type without contained resources, a
// resource that does not decode) leaves the resource or the Bundle to the
// general way, so results and errors stay its.

// mayContain reports whether the resource at the start of data is of a
// type whose contained resources are worth scanResource's walk over its
// members: a MedicationDispense (which EPS gives a MedicationRequest and
// a PractitionerRole). The walk costs more than skipJSONValue's pass for a
// resource without contained resources (a cancellation's 13 kB Bundle of
// six: about 10,000 instructions more), and other resources with contained
// ones still decode the general way.
func mayContain(data []byte) bool {
	t, ok := peekResourceType(data)
	return ok && t == "MedicationDispense"
}

// span is where a JSON value is: data[start:end].
type span struct{ start, end int }

// scanResource returns the index after the resource object starting at
// data[i] (as skipJSONValue) and, when it has a plainly written
// "contained" member holding a non-empty array of objects, where that
// array and its objects are (the objects appended to elems, from index
// first on). A resource of any other shape is only skipped (contained.end
// is 0).
func scanResource(data []byte, i int, elems []span) (end int, contained span, out []span, ok bool) {
	first := len(elems)
	whole := func() (int, span, []span, bool) {
		end, ok := skipJSONValue(data, i)
		return end, span{}, elems[:first], ok
	}
	j := skipSpace(data, i+1)
	if j >= len(data) || data[j] == '}' {
		return whole()
	}
	for {
		name, next, ok := plainName(data, j)
		if !ok {
			return whole()
		}
		vs := skipSpace(data, next)
		var ve int
		if strings.EqualFold(name, "contained") {
			if name != "contained" || contained.end != 0 || vs >= len(data) || data[vs] != '[' {
				return whole()
			}
			if ve, elems, ok = containedSpans(data, vs, elems); !ok || len(elems) == first {
				return whole()
			}
			contained = span{vs, ve}
		} else if ve, ok = skipJSONValue(data, vs); !ok {
			return whole()
		}
		j = skipSpace(data, ve)
		if j >= len(data) {
			return whole()
		}
		if data[j] == '}' {
			return j + 1, contained, elems, true
		}
		if data[j] != ',' {
			return whole()
		}
		j = skipSpace(data, j+1)
	}
}

// containedSpans reads the array starting at data[start], each element an
// object, appending each object's place to elems; end is the index after
// the array.
func containedSpans(data []byte, start int, elems []span) (end int, out []span, ok bool) {
	i := skipSpace(data, start+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, elems, true
	}
	if elems == nil {
		elems = make([]span, 0, 16)
	}
	for {
		if i >= len(data) || data[i] != '{' {
			return 0, elems, false
		}
		e, ok := skipJSONValue(data, i)
		if !ok {
			return 0, elems, false
		}
		elems = append(elems, span{i, e})
		i = skipSpace(data, e)
		if i >= len(data) {
			return 0, elems, false
		}
		if data[i] == ']' {
			return i + 1, elems, true
		}
		if data[i] != ',' {
			return 0, elems, false
		}
		i = skipSpace(data, i+1)
	}
}

// containedHolder is a resource that may contain resources (every one
// that embeds Base).
type containedHolder interface{ containedList() *ResourceList }

// containedList returns the resource's contained resources.
func (b *Base) containedList() *ResourceList { return &b.Contained }

// headSize is the size of the copy decodeContained makes of the resource
// data[res.start:res.end] with "[]" in place of its contained array.
func headSize(res, contained span) int {
	return res.end - res.start - (contained.end - contained.start) + 2
}

// decodeContained decodes the resource data[res.start:res.end], whose
// contained array is data[contained.start:contained.end] holding the
// objects elems: the resource from a copy of its bytes with "[]" in place
// of the array, appended to heads (whose room, made for the Bundle's
// resources at once, is not outgrown: see headSize), then each contained
// resource from its place in data (ref as decodeResourceAs's). ok is
// false when any of them does not decode or the resource's type holds no
// contained resources.
func decodeContained(data []byte, res, contained span, elems []span, heads *[]byte, ref bool) (Resource, bool) {
	at := len(*heads)
	*heads = append(append(append(*heads, data[res.start:contained.start]...), "[]"...), data[contained.end:res.end]...)
	head := (*heads)[at:len(*heads):len(*heads)]
	r, err := decodeResourceAs(head, ref)
	if err != nil {
		return nil, false
	}
	h, ok := r.(containedHolder)
	if !ok {
		return nil, false
	}
	list := make(ResourceList, len(elems))
	for k, e := range elems {
		if list[k], err = decodeResourceAs(data[e.start:e.end:e.end], ref); err != nil {
			return nil, false
		}
	}
	*h.containedList() = list
	return r, true
}
