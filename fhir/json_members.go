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
	_, ok = eachMember(obj, skipSpace(obj, 0), fn)
	return ok
}

// eachMember is EachMember of the object starting at data[i]; end is the
// index after it (when fn stopped early: after the member it stopped at).
func eachMember(data []byte, i int, fn func(name string, value []byte) bool) (end int, ok bool) {
	if i >= len(data) || data[i] != '{' {
		return 0, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		name, next, ok := plainName(data, i)
		if !ok {
			return 0, false
		}
		vs := skipSpace(data, next)
		ve, ok := skipJSONValue(data, vs)
		if !ok {
			return 0, false
		}
		if !fn(name, data[vs:ve:ve]) {
			return ve, true
		}
		i = skipSpace(data, ve)
		if i >= len(data) {
			return 0, false
		}
		switch data[i] {
		case '}':
			return i + 1, true
		case ',':
			i = skipSpace(data, i+1)
		default:
			return 0, false
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

// EachEntryMember calls fn with each top-level member of each entry's
// resource of the Bundle data as written, in order: the entry's index, the
// member's name and its value's bytes (an entry without a resource, or
// with an empty one, gives none). ok is false when data is not of the
// usual shape DecodeResource's quick way takes (an object of plainly
// written member names holding "entry", so spelled, at most once, each
// entry an object of at most a plainly written "fullUrl" string and a
// "resource" object), when a resource's member name is not plainly
// written, or when fn returns false; a caller then reads data the general
// way. It reads data once.
func EachEntryMember(data []byte, fn func(entry int, name string, value []byte) bool) (ok bool) {
	_, _, _, _, ok = entryArray(data, true, fn)
	return ok
}
