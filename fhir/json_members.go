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
	w := walkObject(data, i)
	for w.more() {
		name, vs, ok := w.member()
		if !ok {
			return 0, false
		}
		ve, ok := skipJSONValue(data, vs)
		if !ok {
			return 0, false
		}
		if !fn(name, data[vs:ve:ve]) {
			return ve, true
		}
		w.next(ve)
	}
	return w.end()
}

// EachElement calls fn with the bytes of each element of the JSON array
// arr (white space before it allowed), in order, until fn returns false.
// ok is false when arr is no array.
func EachElement(arr []byte, fn func(elem []byte) bool) (ok bool) {
	w := walkArray(arr, skipSpace(arr, 0))
	for w.more() {
		vs := w.element()
		ve, ok := skipJSONValue(arr, vs)
		if !ok {
			return false
		}
		if !fn(arr[vs:ve:ve]) {
			return true
		}
		w.next(ve)
	}
	_, ok = w.end()
	return ok
}

// jsonWalk walks the members of a JSON object or the elements of a JSON
// array as written, giving its caller where each value starts; the caller
// reads the value (or passes it: skipJSONValue) and says where it ended
// (next). It is the one walker of this package's scans: EachMember and
// EachElement, and the Bundle's split (its members, its entries, their
// members, a MedicationDispense's members and its contained resources).
//
//	w := walkObject(data, i)
//	for w.more() {
//		name, vs, ok := w.member()
//		... read the value at data[vs:] to ve ...
//		w.next(ve)
//	}
//	end, ok := w.end()
type jsonWalk struct {
	data  []byte
	i     int // the next member's name or element; after the closing bracket once closed
	close byte
	state walkState
}

// walkState is where a jsonWalk is.
type walkState uint8

const (
	walkOpen   walkState = iota // at a member or element
	walkClosed                  // past the closing bracket
	walkBad                     // the bytes are not of the shape walked
)

// walkObject starts a walk over the members of the object whose '{' is
// data[i]: a walk ending bad when there is none.
func walkObject(data []byte, i int) jsonWalk {
	return startWalk(data, i, '{', '}')
}

// walkArray starts a walk over the elements of the array whose '[' is
// data[i]: a walk ending bad when there is none.
func walkArray(data []byte, i int) jsonWalk {
	return startWalk(data, i, '[', ']')
}

// startWalk starts a walk over the container data[i] opens with open.
func startWalk(data []byte, i int, open, close byte) jsonWalk {
	if i >= len(data) || data[i] != open {
		return jsonWalk{state: walkBad}
	}
	w := jsonWalk{data: data, i: skipSpace(data, i+1), close: close}
	if w.i < len(data) && data[w.i] == close {
		w.i, w.state = w.i+1, walkClosed
	}
	return w
}

// more reports whether a member or element comes next.
func (w *jsonWalk) more() bool { return w.state == walkOpen }

// member reads the next member's name (plainly written: see plainName)
// and colon; vs is where its value starts. ok is false, and the walk bad,
// when the name is not so.
func (w *jsonWalk) member() (name string, vs int, ok bool) {
	name, next, ok := plainName(w.data, w.i)
	if !ok {
		w.state = walkBad
		return "", 0, false
	}
	return name, skipSpace(w.data, next), true
}

// element returns where the next element starts.
func (w *jsonWalk) element() int { return w.i }

// next moves past the value that ended before data[ve]: to the next member
// or element after a comma, or past the closing bracket.
func (w *jsonWalk) next(ve int) {
	j := skipSpace(w.data, ve)
	switch {
	case j >= len(w.data):
		w.state = walkBad
	case w.data[j] == ',':
		w.i = skipSpace(w.data, j+1)
	case w.data[j] == w.close:
		w.i, w.state = j+1, walkClosed
	default:
		w.state = walkBad
	}
}

// fail ends the walk as bad: its caller found a value not of the shape it
// reads.
func (w *jsonWalk) fail() { w.state = walkBad }

// end returns the index after the container and whether it was walked to
// its closing bracket as written.
func (w *jsonWalk) end() (int, bool) {
	if w.state != walkClosed {
		return 0, false
	}
	return w.i, true
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
	s := bundleScan{data: data, ref: true}
	_, _, ok = s.entryArray(fn)
	return ok
}
