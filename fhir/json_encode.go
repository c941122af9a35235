package fhir

import (
	"reflect"
	"strconv"
	"unsafe"
)

//go:generate go test -run=TestEncodeGenerated -update-encoders .

// The package's own JSON encoder of the resources it models, by writers
// generated from their plans (json_encode_gen.go, written by
// json_encode_gen_test.go from json_encode_plan.go's plans), or by a walk
// over the plans themselves (object, below) where the package is built
// without the generated writers (-tags noencgen) or a test asks for the
// walk (encoder.plans). The JSON codec's encoder writes each entry of a
// Bundle apart (Entry.MarshalJSON), compacts and copies what that gave,
// and grows its buffer as it goes; this one writes a whole resource, its
// entries and the Bundles nested in them, into one buffer in one pass.
//
// It writes exactly what the codec writes (Marshal's options: no HTML
// escaping): members in the order of the fields, omitempty as the codec
// reads it, strings escaped as the codec escapes them (escapeString),
// numbers as they were given once they are valid JSON numbers, and
// ExtensionList and Entry as their MarshalJSON methods write them
// (resourceTypes stamped on the entries' resources, as Entry.MarshalJSON
// stamps them). What it does not write itself (a resource type it does
// not model, a RawResource, a json.RawMessage, a struct planned as codec)
// the codec writes, into the same buffer. When anything fails (a
// json.Number that is not a number) the caller encodes the value the
// codec's way, for the codec's own error.

// encoder is one value's encoding; err is its first failure. With indent
// it writes as MarshalIndent writes: each member and element on a line of
// its own, two spaces a level (depth is the level of the object or array
// being written), a space after each colon. With plans it writes every
// struct by the walk over its plan, not by its generated writer: the
// tests hold the walk to the codec that way.
type encoder struct {
	err    error
	indent bool
	plans  bool
	depth  int
}

// appendResource appends r as JSON to buf.
func (e *encoder) appendResource(buf []byte, r Resource) []byte {
	if !e.plans {
		if out, ok := e.generatedResource(buf, r); ok {
			return out
		}
	}
	if i := resourceIndex(r); i >= 0 {
		v := resourcePointer(r)
		if v == nil {
			return append(buf, "null"...)
		}
		return e.object(buf, encResourcePlans[i], v)
	}
	return e.codec(buf, r)
}

// codec appends v as the JSON codec writes it (indented from the
// encoder's depth on, when it indents).
func (e *encoder) codec(buf []byte, v any) []byte {
	out, err := marshalCodec(v)
	if err != nil {
		e.fail(err)
		return buf
	}
	if e.indent {
		return appendIndent(buf, out, e.depth)
	}
	return append(buf, out...)
}

// fail records err unless an earlier failure is recorded.
func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// object appends the struct of plan p at v as a JSON object. Each member
// is written after a comma (its key's), and the first comma then made
// the brace (closeAt).
func (e *encoder) object(buf []byte, p *encPlan, v unsafe.Pointer) []byte {
	if p.codec {
		return e.codec(buf, reflect.NewAt(p.typ, v).Interface())
	}
	open := len(buf)
	e.depth++
	fields := p.fields[:len(p.emptyAt)]
	for i, at := range p.emptyAt {
		if at != alwaysWritten && *(*uintptr)(unsafe.Add(v, at)) == 0 {
			continue // omitempty, and empty
		}
		f := &fields[i]
		if e.indent {
			buf = e.key(buf, f.key)
		} else {
			buf = appendKey(buf, f)
		}
		buf = e.value(buf, f, unsafe.Add(v, f.off))
	}
	return e.closeAt(buf, open, '}')
}

// key appends a member's key, `,"name":` (constant, or a field's): as it
// is, or indented (indentKey).
func (e *encoder) key(buf []byte, key string) []byte {
	if e.indent {
		return e.indentKey(buf, key)
	}
	return append(buf, key...)
}

// indentKey appends a key indented: the comma, a new line at the
// encoder's depth, the name and a colon and a space.
func (e *encoder) indentKey(buf []byte, key string) []byte {
	buf = newLine(append(buf, ','), e.depth)
	return append(append(buf, key[1:len(key)-1]...), ':', ' ')
}

// sep appends the comma before an element of an array: and, indented,
// a new line at the encoder's depth.
func (e *encoder) sep(buf []byte) []byte {
	if e.indent {
		return newLine(append(buf, ','), e.depth)
	}
	return append(buf, ',')
}

// closeAt ends the object or array (closer '}' or ']') whose members or
// elements were written from buf[open] on, each after a comma, and goes
// back up a level: the first comma is made its opening bracket; an empty
// object is {}.
func (e *encoder) closeAt(buf []byte, open int, closer byte) []byte {
	e.depth--
	if len(buf) == open {
		return append(buf, closer-2, closer) // '{' is '}' - 2, '[' is ']' - 2
	}
	buf[open] = closer - 2
	if e.indent {
		buf = newLine(buf, e.depth)
	}
	return append(buf, closer)
}

// appendKey appends f's key: as words where it fits them and the buffer
// has room for them (the words past the key are overwritten after), so
// that a key costs a few stores rather than a call.
func appendKey(buf []byte, f *encField) []byte {
	n := len(f.key)
	if l := len(buf); n <= len(f.keyWords)*8 && cap(buf)-l >= len(f.keyWords)*8 {
		*(*[4]uint64)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), l)) = f.keyWords
		return buf[:l+n]
	}
	return append(buf, f.key...)
}

// value appends the value of field f at v.
func (e *encoder) value(buf []byte, f *encField, v unsafe.Pointer) []byte {
	switch f.kind {
	case encString:
		return appendString(buf, *(*string)(v))
	case encNumber:
		return e.number(buf, *(*string)(v))
	case encBool:
		return strconv.AppendBool(buf, *(*bool)(v))
	case encInt:
		return strconv.AppendInt(buf, int64(*(*int)(v)), 10)
	case encStruct:
		return e.object(buf, f.sub, v)
	case encResource:
		return e.resourceOrNull(buf, *(*Resource)(v))
	case encCodec:
		return e.codec(buf, reflect.NewAt(f.typ, v).Elem().Interface())
	case encPointer:
		if p := *(*unsafe.Pointer)(v); p != nil {
			return e.value(buf, f.elem, p)
		}
		return append(buf, "null"...)
	}
	return e.list(buf, f, (*sliceHeader)(v))
}

// list appends the slice field f, s: null when it is nil.
func (e *encoder) list(buf []byte, f *encField, s *sliceHeader) []byte {
	switch f.kind {
	case encStrings:
		return e.stringList(buf, unsafe.Slice((*string)(s.data), s.len))
	case encResources:
		return e.resourceList(buf, unsafe.Slice((*Resource)(s.data), s.len))
	case encEntries:
		return e.entryList(buf, unsafe.Slice((*Entry)(s.data), s.len))
	}
	if s.data == nil {
		return append(buf, "null"...)
	}
	if s.len == 0 {
		return append(buf, '[', ']')
	}
	open := len(buf)
	e.depth++
	for i := range s.len {
		buf = e.object(e.sep(buf), f.sub, unsafe.Add(s.data, uintptr(i)*f.size))
	}
	return e.closeAt(buf, open, ']')
}

// appendList appends the list l, each element written by write: null
// when it is nil, [] when it is empty, else each element after a comma
// (sep), the first comma then made the bracket.
func appendList[T any](e *encoder, buf []byte, l []T, write func(*encoder, []byte, *T) []byte) []byte {
	if l == nil {
		return append(buf, "null"...)
	}
	if len(l) == 0 {
		return append(buf, '[', ']')
	}
	open := len(buf)
	e.depth++
	for i := range l {
		buf = write(e, e.sep(buf), &l[i])
	}
	return e.closeAt(buf, open, ']')
}

// The lists of strings, resources and entries.

func (e *encoder) stringList(buf []byte, l []string) []byte {
	return appendList(e, buf, l, func(_ *encoder, buf []byte, s *string) []byte { return appendString(buf, *s) })
}

func (e *encoder) resourceList(buf []byte, l []Resource) []byte {
	return appendList(e, buf, l, func(e *encoder, buf []byte, r *Resource) []byte { return e.resourceOrNull(buf, *r) })
}

func (e *encoder) entryList(buf []byte, l []Entry) []byte {
	return appendList(e, buf, l, (*encoder).entry)
}

// resourceOrNull appends r, or null when there is none.
func (e *encoder) resourceOrNull(buf []byte, r Resource) []byte {
	if r == nil {
		return append(buf, "null"...)
	}
	return e.appendResource(buf, r)
}

// entry appends a Bundle entry as Entry.MarshalJSON writes it: its inline
// resource where it has one, else its own members, its resource's
// resourceType stamped.
func (e *encoder) entry(buf []byte, en *Entry) []byte {
	if en.Inline != nil {
		return e.appendResource(buf, Stamp(en.Inline))
	}
	if en.Resource != nil {
		Stamp(en.Resource)
	}
	if !e.plans {
		if out, ok := e.generatedEntry(buf, en); ok {
			return out
		}
	}
	return e.object(buf, plainEntryPlan, unsafe.Pointer(en))
}

// number appends a json.Number as the codec writes it: "" as 0, a valid
// JSON number as it is; anything else is a failure.
func (e *encoder) number(buf []byte, n string) []byte {
	if n == "" {
		return append(buf, '0')
	}
	if !validNumber(n) {
		e.fail(&invalidNumberError{n})
		return buf
	}
	return append(buf, n...)
}

// invalidNumberError is a json.Number that is no JSON number (the caller
// gives the codec's own error for it).
type invalidNumberError struct{ n string }

func (e *invalidNumberError) Error() string {
	return "json: invalid number literal " + strconv.Quote(e.n)
}
