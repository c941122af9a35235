package fhir

import (
	"bytes"
	"unicode/utf8"
	"unsafe"

	json "github.com/goccy/go-json"
)

// The package's own JSON decoder of the resources it models (but Bundle
// and Parameters), driven by their plans (json_plan.go) and the byte
// scanner of json_scan.go. The JSON codec's decoder finds a struct's
// fields by reflection-built tables, reads white space a byte at a time
// and grows each slice from four; this one reads the usual shape of a
// FHIR resource in one pass, each list allocated once at its length.
//
// It reads what the codec reads the same, and nothing else: anything
// unusual makes it give up (ok false), and the resource is then decoded
// by the codec as before, so results and errors stay the codec's. Given
// up on: a member name not plainly written (escapes, bytes that are not
// printable ASCII), a field's name in another letter case, a field given
// twice, null, a value of another JSON type than the field's, a string
// with a control byte, invalid UTF-8 or a \u escape of a surrogate, a
// number into a string field or a string into a number (which the codec
// takes when it holds one), an int that is not plain digits, a field of a
// kind the plans do not read (fieldOther), a contained resource that does
// not decode, and nesting deeper than maxFastDepth. A member of no field
// is passed over when it is valid JSON (the codec passes it over too)
// and given up on otherwise.
//
// Strings refer to data when ref is set (as DecodeResourceRef's do) and
// are copies of their own otherwise.

// maxFastDepth is the deepest nesting of objects and arrays read here;
// deeper, the codec reads the resource.
const maxFastDepth = 64

// fastDecoder is one resource's decoding.
type fastDecoder struct {
	data  []byte
	ref   bool
	depth int
	// slabs, when not nil, hand out the structs decoded (json_slab.go).
	slabs slabs
}

// decodeFast decodes the resource of type t (one resourcePlans models)
// that data holds, white space around it allowed; ok is false when t has
// no plan or the decoder gives up (see above).
func decodeFast(t string, data []byte, ref bool) (res Resource, ok bool) {
	p := resourcePlans[t]
	if p == nil {
		return nil, false
	}
	res = newResource(t)
	if !decodeStruct(data, p, resourcePointer(res), ref) {
		return nil, false
	}
	return res, true
}

// decodeFastAt decodes the resource object at data[i], of type t (its
// first member, peekResourceType), in place, and returns the index after
// it: as decodeAs decodes data[i:end] when the package's decoder reads it;
// ok is false otherwise (nothing to be kept). Its structs come from slabs
// when they are not nil.
func decodeFastAt(data []byte, i int, t string, ref bool, slabs slabs) (res Resource, end int, ok bool) {
	p := resourcePlans[t]
	if p == nil {
		return nil, 0, false
	}
	res = newResource(t)
	d := fastDecoder{data: data, ref: ref, slabs: slabs}
	if end, ok = d.object(i, p, resourcePointer(res)); !ok || !declares(res, t) {
		return nil, 0, false
	}
	return res, end, true
}

// declares reports whether res declares the resourceType t, as decodeAs
// requires.
func declares(res Resource, t string) bool {
	d, ok := res.(interface{ declaredType() string })
	return ok && d.declaredType() == t
}

// resourcePointer returns where the struct a resource's pointer points
// at is.
func resourcePointer(r Resource) unsafe.Pointer {
	type iface struct{ typ, data unsafe.Pointer }
	return (*iface)(unsafe.Pointer(&r)).data
}

// decodeStruct decodes data, one JSON object with white space around it
// allowed, into the struct of plan p at v; false when the decoder gives
// up, and then what it wrote in v is to be thrown away.
func decodeStruct(data []byte, p *plan, v unsafe.Pointer, ref bool) bool {
	d := fastDecoder{data: data, ref: ref}
	end, ok := d.object(skipSpace(data, 0), p, v)
	return ok && skipSpace(data, end) == len(data)
}

// object decodes the object at data[i] into the struct of plan p at v
// and returns the index after it.
func (d *fastDecoder) object(i int, p *plan, v unsafe.Pointer) (int, bool) {
	data := d.data
	// open's, without a call.
	if i >= len(data) || data[i] != '{' || d.depth >= maxFastDepth {
		return 0, false
	}
	if i = skipSpace(data, i+1); i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	d.depth++
	var seen uint64
	for {
		// The member's name: a field's exactly as written, or one
		// plainly written that is no field's in any letter case.
		if i >= len(data) || data[i] != '"' {
			return 0, false
		}
		// A name shorter than sixteen bytes, most of them, is found in
		// the words its quote is looked for in.
		start, end := i+1, -1
		var f *field
		if start+16 <= len(data) {
			w := word(data, start)
			if m := zeroBytes(w ^ quotes); m != 0 {
				n := firstByte(m)
				f, end = p.short(w&(1<<(8*n)-1), 0, n), start+n
			} else if m := zeroBytes(word(data, start+8) ^ quotes); m != 0 {
				n := 8 + firstByte(m)
				var hi uint64 // none for eight bytes
				if n > 8 {
					hi = word(data, start+n-8)
				}
				f, end = p.short(w, hi, n), start+n
			}
		}
		if end < 0 {
			if end = quoteAt(data, start); end < 0 {
				return 0, false
			}
			f = p.find(data, start, end)
		}
		if f == nil {
			name := data[start:end]
			if !plainString(data[i:end+1]) || p.folds(unsafeString(name)) {
				return 0, false
			}
		}
		// The colon, and the value's start: ": " as indented JSON has
		// it, or ":" alone, read from the word after the name.
		i = -1
		if end+9 <= len(data) {
			switch c := word(data, end+1); {
			case c&0xffff == ':'|' '<<8 && byte(c>>16) > ' ':
				i = end + 3
			case byte(c) == ':' && byte(c>>8) > ' ':
				i = end + 2
			}
		}
		if i < 0 {
			if i = d.colon(end + 1); i < 0 {
				return 0, false
			}
		}
		var ok bool
		if f != nil {
			if seen&f.bit != 0 {
				return 0, false
			}
			seen |= f.bit
			if f.kind == fieldString { // the usual case, without a call to value
				var x string
				if x, i, ok = d.str(i); !ok {
					return 0, false
				}
				*(*string)(unsafe.Add(v, f.off)) = x
			} else if i, ok = d.value(i, f, unsafe.Add(v, f.off)); !ok {
				return 0, false
			}
		} else if i, ok = d.skip(i); !ok {
			return 0, false
		}
		if i < len(data) && data[i] == ',' { // the usual case, without a call
			i = skipSpace(data, i+1)
			continue
		}
		// next's, without a call.
		if i = skipSpace(data, i); i < len(data) && data[i] == '}' {
			d.depth--
			return i + 1, true
		}
		if i >= len(data) || data[i] != ',' {
			return 0, false
		}
		i = skipSpace(data, i+1)
	}
}

// colon reads the colon of a member whose name ended before data[i], and
// the white space around it, and returns where the value starts; -1 when
// there is no colon.
func (d *fastDecoder) colon(i int) int {
	data := d.data
	if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipSpace(data, i+1)
}

// open enters the object or array opened by open at data[i], one level
// deeper: next is where its first member or element starts; empty when
// it closes at once (next is then the index after it, and the level
// left). ok is false when data[i] is not open, or nesting is too deep.
func (d *fastDecoder) open(i int, open byte) (next int, empty, ok bool) {
	data := d.data
	if i >= len(data) || data[i] != open || d.depth >= maxFastDepth {
		return 0, false, false
	}
	d.depth++
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == open+2 { // '{' + 2 is '}', '[' + 2 is ']'
		d.depth--
		return i + 1, true, true
	}
	return i, false, true
}

// next moves past the value of a container closed by close that ended
// before data[i]: to the next member or element after a comma (more), or
// past the closing bracket (not more, the container's depth left); ok is
// false for anything else.
func (d *fastDecoder) next(i int, close byte) (next int, more, ok bool) {
	data := d.data
	if i = skipSpace(data, i); i >= len(data) {
		return 0, false, false
	}
	switch data[i] {
	case ',':
		return skipSpace(data, i+1), true, true
	case close:
		d.depth--
		return i + 1, false, true
	}
	return 0, false, false
}

// value decodes the value at data[i] into the field f at v and returns
// the index after it.
func (d *fastDecoder) value(i int, f *field, v unsafe.Pointer) (int, bool) {
	switch f.kind {
	case fieldString: // object reads it without this call; here so that value reads every kind
		x, end, ok := d.str(i)
		return end, ok && put(v, false, x)
	case fieldStringPtr:
		x, end, ok := d.str(i)
		if ok {
			p := &d.newStrings(1)[0]
			*p = x
			*(**string)(v) = p
		}
		return end, ok
	case fieldBool, fieldBoolPtr:
		x, end, ok := d.boolean(i)
		return end, ok && put(v, f.kind == fieldBoolPtr, x)
	case fieldNumber:
		x, end, ok := d.number(i)
		return end, ok && put(v, false, x)
	case fieldNumberPtr:
		x, end, ok := d.number(i)
		if ok {
			// A json.Number is a string: its place is one of the
			// slabs' strings.
			p := (*json.Number)(unsafe.Pointer(&d.newStrings(1)[0]))
			*p = x
			*(**json.Number)(v) = p
		}
		return end, ok
	case fieldInt, fieldIntPtr:
		x, end, ok := d.integer(i)
		return end, ok && put(v, f.kind == fieldIntPtr, x)
	case fieldRawPtr:
		if i >= len(d.data) || d.data[i] == 'n' {
			return 0, false // null: the codec's
		}
		end, ok := d.skip(i)
		if ok {
			raw := json.RawMessage(bytes.Clone(d.data[i:end]))
			*(**json.RawMessage)(v) = &raw
		}
		return end, ok
	case fieldStruct:
		return d.object(i, f.sub, v)
	case fieldStructPtr:
		s := d.one(f)
		end, ok := d.object(i, f.sub, s)
		if ok {
			*(*unsafe.Pointer)(v) = s
		}
		return end, ok
	case fieldStructs:
		return d.structs(i, f, v)
	case fieldStrings:
		return d.strings(i, v)
	case fieldResources:
		return d.resources(i, v)
	case fieldEmptyOnly:
		return d.emptyList(i, f, v)
	}
	return 0, false
}

// put stores x in the field at v, a T or, when ptr, a *T; it returns
// true.
func put[T any](v unsafe.Pointer, ptr bool, x T) bool {
	if ptr {
		p := new(T) // allocated here only: x does not escape
		*p = x
		*(**T)(v) = p
	} else {
		*(*T)(v) = x
	}
	return true
}

// sliceHeader is how a slice is laid out.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// array calls read with where each element of the array at data[i]
// starts; read returns where the element ended. It returns the index
// after the array.
func (d *fastDecoder) array(i int, read func(j int) (int, bool)) (int, bool) {
	i, empty, ok := d.open(i, '[')
	if !ok || empty {
		return i, ok
	}
	for {
		end, ok := read(i)
		if !ok {
			return 0, false
		}
		if end < len(d.data) && d.data[end] == ',' { // the usual case, without a call
			i = skipSpace(d.data, end+1)
			continue
		}
		var more bool
		if i, more, ok = d.next(end, ']'); !ok || !more {
			return i, ok
		}
	}
}

// structs decodes the array of objects at data[i] into the slice of
// structs f at v. The slice grows as its elements are read, its capacity
// doubling from one, so that a list is read once (most lists hold one
// element).
func (d *fastDecoder) structs(i int, f *field, v unsafe.Pointer) (int, bool) {
	size := f.sub.typ.Size()
	var elems unsafe.Pointer
	n, c := 0, 0
	end, ok := d.array(i, func(j int) (int, bool) {
		if n == c {
			if c = max(1, 2*c); c == 1 {
				elems = d.one(f) // most lists hold one element
			} else {
				elems = d.more(f, elems, n, c)
			}
		}
		n++
		return d.object(j, f.sub, unsafe.Add(elems, uintptr(n-1)*size))
	})
	if !ok {
		return 0, false
	}
	if c == 0 {
		elems = f.alloc.grow(nil, 0, 0)
	}
	*(*sliceHeader)(v) = sliceHeader{elems, n, c}
	return end, true
}

// strings decodes the array of strings at data[i] into the []string at
// v, allocated at its length, which a first pass over the strings finds
// (skipJSONString: it costs less than growing the slice).
func (d *fastDecoder) strings(i int, v unsafe.Pointer) (int, bool) {
	n, ok := d.countStrings(i)
	if !ok {
		return 0, false
	}
	out := d.newStrings(n)
	k := 0
	end, ok := d.array(i, func(j int) (int, bool) {
		if k == n {
			return 0, false
		}
		s, end, ok := d.str(j)
		out[k], k = s, k+1
		return end, ok
	})
	if !ok || k != n {
		return 0, false
	}
	*(*[]string)(v) = out
	return end, true
}

// countStrings returns the number of elements of the array of strings at
// data[i], found without checking the strings; ok is false when the array
// holds anything but strings or does not end.
func (d *fastDecoder) countStrings(i int) (n int, ok bool) {
	_, ok = d.array(i, func(j int) (int, bool) {
		if j >= len(d.data) || d.data[j] != '"' {
			return 0, false
		}
		n++
		return skipJSONString(d.data, j)
	})
	return n, ok
}

// resources decodes the array of resources at data[i] into the
// ResourceList at v as ResourceList.UnmarshalJSON does, each as
// decodeResourceAs reads it from bytes of its own: in place where the
// package's decoder reads it, else from its bytes (data's, when ref).
func (d *fastDecoder) resources(i int, v unsafe.Pointer) (int, bool) {
	var out ResourceList
	end, ok := d.array(i, func(j int) (int, bool) {
		if j >= len(d.data) || d.data[j] != '{' {
			return 0, false
		}
		if t, typed := peekResourceType(d.data[j:]); typed && resourcePlans[t] != nil {
			// In place, as decodeResourceAs would read it from its bytes.
			res := newResource(t)
			end, ok := d.object(j, resourcePlans[t], resourcePointer(res))
			if ok && declares(res, t) {
				out = append(out, res)
				return end, true
			}
		}
		end, ok := skipJSONValue(d.data, j)
		if !ok {
			return 0, false
		}
		raw := d.data[j:end:end]
		if !d.ref {
			raw = bytes.Clone(raw)
		}
		r, err := decodeResourceAs(raw, true)
		if err != nil {
			return 0, false
		}
		out = append(out, r)
		return end, true
	})
	if !ok {
		return 0, false
	}
	if out == nil {
		out = ResourceList{}
	}
	*(*ResourceList)(v) = out
	return end, true
}

// emptyList reads an empty array at data[i] into the slice f at v (empty,
// not nil, as the codec gives it); false for any other value.
func (d *fastDecoder) emptyList(i int, f *field, v unsafe.Pointer) (int, bool) {
	end, ok := d.array(i, func(int) (int, bool) { return 0, false })
	if !ok {
		return 0, false
	}
	*(*sliceHeader)(v) = sliceHeader{f.alloc.grow(nil, 0, 0), 0, 0}
	return end, true
}

// text returns b as a string: b's bytes when ref, a copy otherwise.
func (d *fastDecoder) text(b []byte) string {
	if d.ref {
		return unsafeString(b)
	}
	return string(b)
}

// str decodes the string at data[i]. Printable ASCII and valid UTF-8 are
// taken as written; escapes are decoded into a string of their own. The
// bytes are looked at a word at a time up to the first that is not
// printable ASCII: the closing quote (most strings), a backslash, a
// control byte or one of 0x80 or more; from a byte of the last two on
// (and in the last bytes of data, fewer than a word) they are looked at
// one at a time (strRest).
func (d *fastDecoder) str(i int) (string, int, bool) {
	data := d.data
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	start := i + 1
	j := start
	// Sixteen bytes at a time where the machine has a way (specialRun),
	// then, or else, eight.
	if start+16 <= len(data) {
		j += specialRun(data[start:])
	}
	if j == start || j-start == (len(data)-start)&^15 {
		for {
			if j+8 > len(data) {
				return d.strRest(start, j)
			}
			if m := special(word(data, j)); m != 0 {
				j += firstByte(m)
				break
			}
			j += 8
		}
	}
	switch data[j] {
	case '"':
		return d.text(data[start:j]), j + 1, true
	case '\\':
		return unescape(data, start, j)
	}
	return d.strRest(start, j)
}

// special marks the bytes of w that are not printable ASCII (DEL is) or
// are a quote or a backslash: the lowest marked is the first such byte
// (see zeroBytes; w - controls borrows only from a byte below 0x20, which
// is marked, and sets the high bit of a byte of 0x80 or more, as w does).
func special(w uint64) uint64 {
	q, s := w^quotes, w^slashes
	return ((q-ones)&^q | (s-ones)&^s | (w - controls) | w) & highBits
}

// strRest is str from data[j] on, one byte at a time, the bytes from
// data[start] to it being printable ASCII without a quote or backslash.
func (d *fastDecoder) strRest(start, j int) (string, int, bool) {
	data := d.data
	high := false
	for ; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"' || c == '\\':
			if high && !utf8.Valid(data[start:j]) {
				return "", 0, false
			}
			if c == '\\' {
				return unescape(data, start, j)
			}
			return d.text(data[start:j]), j + 1, true
		case c < 0x20:
			return "", 0, false
		case c >= 0x80:
			high = true
		}
	}
	return "", 0, false
}

// quoteAt returns the index of the first quote from data[j] on, or -1;
// words without one are passed eight bytes at a time (member names are
// short: a search call costs more).
func quoteAt(data []byte, j int) int {
	for ; j+8 <= len(data); j += 8 {
		if m := zeroBytes(word(data, j) ^ quotes); m != 0 {
			return j + firstByte(m)
		}
	}
	for ; j < len(data); j++ {
		if data[j] == '"' {
			return j
		}
	}
	return -1
}

// unescape decodes the string whose bytes start at data[start] and whose
// first escape is at data[j]; false for what the codec may read otherwise
// (a surrogate's \u escape, invalid UTF-8, a control byte).
func unescape(data []byte, start, j int) (string, int, bool) {
	out := make([]byte, 0, j-start+16)
	out = append(out, data[start:j]...)
	for j < len(data) {
		c := data[j]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return "", 0, false
			}
			return unsafeString(out), j + 1, true
		case c < 0x20:
			return "", 0, false
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(data) {
			return "", 0, false
		}
		switch e := data[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(data, j+2)
			if !ok || r >= 0xd800 && r < 0xe000 {
				return "", 0, false
			}
			out = utf8.AppendRune(out, r)
			j += 4
		default:
			return "", 0, false
		}
		j += 2
	}
	return "", 0, false
}

// hex4 reads the four hexadecimal digits at data[i].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// boolean decodes true or false at data[i].
func (d *fastDecoder) boolean(i int) (b bool, end int, ok bool) {
	data := d.data[i:]
	switch {
	case len(data) >= 4 && string(data[:4]) == "true":
		return true, i + 4, delimited(d.data, i+4)
	case len(data) >= 5 && string(data[:5]) == "false":
		return false, i + 5, delimited(d.data, i+5)
	}
	return false, 0, false
}

// delimited reports whether a literal or number ending before data[i]
// ends there: the data ends, or white space or punctuation follows.
func delimited(data []byte, i int) bool {
	if i >= len(data) {
		return true
	}
	switch data[i] {
	case ',', '}', ']', ' ', '\n', '\t', '\r':
		return true
	}
	return false
}

// numberEnd returns the index after the JSON number at data[i], written
// as JSON's grammar has it; ok is false for anything else.
func numberEnd(data []byte, i int) (int, bool) {
	j := i
	if j < len(data) && data[j] == '-' {
		j++
	}
	digits := func() bool {
		k := j
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		return j > k
	}
	switch {
	case j < len(data) && data[j] == '0':
		j++
	case !digits():
		return 0, false
	}
	if j < len(data) && data[j] == '.' {
		j++
		if !digits() {
			return 0, false
		}
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		j++
		if j < len(data) && (data[j] == '+' || data[j] == '-') {
			j++
		}
		if !digits() {
			return 0, false
		}
	}
	return j, delimited(data, j)
}

// number decodes the number at data[i] as its text.
func (d *fastDecoder) number(i int) (json.Number, int, bool) {
	end, ok := numberEnd(d.data, i)
	if !ok {
		return "", 0, false
	}
	return json.Number(d.text(d.data[i:end])), end, true
}

// integer decodes an int at data[i] written as plain digits (a sign
// allowed), at most 18 of them.
func (d *fastDecoder) integer(i int) (int, int, bool) {
	data := d.data
	j, neg := i, false
	if j < len(data) && data[j] == '-' {
		j, neg = j+1, true
	}
	n, k := 0, j
	for ; k < len(data) && data[k] >= '0' && data[k] <= '9'; k++ {
		n = n*10 + int(data[k]-'0')
	}
	if k == j || k-j > 18 || data[j] == '0' && k-j > 1 || !delimited(data, k) {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, k, true
}

// skip returns the index after the valid JSON value at data[i], read as
// JSON's grammar has it (strings as str reads them); ok is false for
// anything else.
func (d *fastDecoder) skip(i int) (int, bool) {
	data := d.data
	if i >= len(data) {
		return 0, false
	}
	switch c := data[i]; {
	case c == '"':
		end, ok := skipJSONString(data, i)
		if !ok || !validString(data[i+1:end-1]) {
			return 0, false
		}
		return end, true
	case c == '{':
		j, empty, ok := d.open(i, '{')
		if !ok || empty {
			return j, ok
		}
		for {
			if j >= len(data) || data[j] != '"' {
				return 0, false
			}
			end, ok := skipJSONString(data, j)
			if !ok || !validString(data[j+1:end-1]) {
				return 0, false
			}
			j = skipSpace(data, end)
			if j >= len(data) || data[j] != ':' {
				return 0, false
			}
			if j, ok = d.skip(skipSpace(data, j+1)); !ok {
				return 0, false
			}
			var more bool
			if j, more, ok = d.next(j, '}'); !ok || !more {
				return j, ok
			}
		}
	case c == '[':
		return d.array(i, d.skip)
	case c == 't':
		_, end, ok := d.boolean(i)
		return end, ok
	case c == 'f':
		_, end, ok := d.boolean(i)
		return end, ok
	case c == 'n':
		if len(data)-i >= 4 && string(data[i:i+4]) == "null" && delimited(data, i+4) {
			return i + 4, true
		}
		return 0, false
	}
	return numberEnd(data, i)
}

// validString reports whether s, a string's bytes between its quotes (as
// skipJSONString found them), is one str decodes: no control byte, valid
// escapes, valid UTF-8.
func validString(s []byte) bool {
	for j := 0; j < len(s); j++ {
		switch c := s[j]; {
		case c < 0x20:
			return false
		case c == '\\':
			if j+1 >= len(s) {
				return false
			}
			switch s[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				r, ok := hex4(s, j+2)
				if !ok || r >= 0xd800 && r < 0xe000 {
					return false
				}
				j += 5
			default:
				return false
			}
		}
	}
	return utf8.Valid(s)
}
