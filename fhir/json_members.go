package fhir

// Reading JSON as written, without decoding it: the members of an object
// and the elements of an array, each as its bytes. For checks that compare
// what a sender wrote and would otherwise decode it again and again (the
// simulator's EPS consistency checks). Built on bundle_split.go's scanner,
// which finds where a value ends without checking all of its grammar: a
// caller wanting valid JSON checks that itself, or decodes what it keeps.

// EachMember calls fn with the name and the value's bytes of each member of
// the JSON object obj (white space before it allowed), in order, until fn
// returns false. ok is false when obj is no object, or when a member name
// is not plainly written (printable ASCII without escapes: as written, it
// is the name decoded), which a caller comparing names must read the
// general way. name refers to obj's bytes.
func EachMember(obj []byte, fn func(name string, value []byte) bool) (ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true
	}
	for {
		name, next, ok := plainName(obj, i)
		if !ok {
			return false
		}
		vs := skipSpace(obj, next)
		ve, ok := skipJSONValue(obj, vs)
		if !ok {
			return false
		}
		if !fn(name, obj[vs:ve:ve]) {
			return true
		}
		i = skipSpace(obj, ve)
		if i >= len(obj) {
			return false
		}
		switch obj[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(obj, i+1)
		default:
			return false
		}
	}
}

// EachElement calls fn with the bytes of each element of the JSON array
// arr (white space before it allowed), in order, until fn returns false.
// ok is false when arr is no array.
func EachElement(arr []byte, fn func(elem []byte) bool) (ok bool) {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return false
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return true
	}
	for {
		ve, ok := skipJSONValue(arr, i)
		if !ok {
			return false
		}
		if !fn(arr[i:ve:ve]) {
			return true
		}
		i = skipSpace(arr, ve)
		if i >= len(arr) {
			return false
		}
		switch arr[i] {
		case ']':
			return true
		case ',':
			i = skipSpace(arr, i+1)
		default:
			return false
		}
	}
}

// EntryResources returns the bytes of each entry's resource of the Bundle
// data as written, in order (nil for an entry without one), found as
// DecodeResource's quick way finds them. ok is false when data is not of
// the usual shape that way takes: an object of plainly written member
// names holding "entry" (so spelled) at most once, each entry an object
// of at most a plainly written "fullUrl" string and a "resource" object;
// a caller then reads it the general way.
func EntryResources(data []byte) (resources [][]byte, ok bool) {
	start, _, spans, ok := entryArray(data, true)
	if !ok || start < 0 {
		return nil, ok
	}
	resources = make([][]byte, len(spans))
	for i, s := range spans {
		if s.resEnd != 0 {
			resources[i] = data[s.resStart:s.resEnd:s.resEnd]
		}
	}
	return resources, true
}
