package fhir

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unsafe"
)

// Reading a message Bundle without a pass over its entries. decodeBundle's
// one pass still reads every entry twice: the decoder skips over each
// resource to find its end and copies its bytes, and then each resource is
// decoded from the copy. splitBundle finds the entries' parts in the
// caller's bytes with a small scanner instead: the Bundle's own members
// are decoded apart (with the entry array left empty), each entry's
// resource straight from its place in data. It takes the usual shape only
// (entries of "fullUrl" and "resource" written plainly, each member once);
// anything else is left to decodeBundle's general steps, so results and
// errors stay theirs.

// entrySpan is where an entry's parts are in the Bundle's bytes.
type entrySpan struct {
	fullURL          string
	resStart, resEnd int // the resource object, or both 0 when absent
	// contained is the resource's contained array when scanResource
	// found one (end 0 when not), its objects elems[elemFirst:elemEnd]
	// of the Bundle's.
	contained          span
	elemFirst, elemEnd int
}

// splitBundle decodes a Bundle whose entries are all of the usual shape;
// ok is false for anything else (the caller then goes the general way).
func splitBundle(data []byte, ref bool) (b *Bundle, ok bool) {
	start, end, spans, elems, ok := entryArray(data, ref, nil)
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
	if unmarshal(head, (*plainBundle)(b), ref) != nil || b.ResourceType != "Bundle" {
		return nil, false
	}
	if start < 0 {
		return b, true
	}
	b.Entry = make([]Entry, len(spans))
	var heads []byte // the resources with contained ones, each without them
	if len(elems) > 0 {
		n := 0
		for _, s := range spans {
			if s.contained.end != 0 {
				n += headSize(span{s.resStart, s.resEnd}, s.contained)
			}
		}
		heads = make([]byte, 0, n)
	}
	for i, s := range spans {
		b.Entry[i].FullURL = s.fullURL
		if s.resEnd == 0 {
			continue
		}
		if s.contained.end != 0 {
			res, ok := decodeContained(data, span{s.resStart, s.resEnd}, s.contained, elems[s.elemFirst:s.elemEnd], &heads, ref)
			if !ok {
				return nil, false
			}
			b.Entry[i].Resource = res
			continue
		}
		res, err := decodeResourceAs(data[s.resStart:s.resEnd:s.resEnd], ref)
		if err != nil {
			return nil, false
		}
		b.Entry[i].Resource = res
	}
	return b, true
}

// entryArray finds the value of the top-level "entry" member of the JSON
// object data, data[start:end], and reads its entries (see entrySpans):
// start is -1 when there is none. ok is false when data is not an object
// of plainly written member names, or names an entry member more than once
// or in another case, or an entry is of another shape. each, when not nil,
// is given each member of each entry's resource (see EachEntryMember).
func entryArray(data []byte, ref bool, each func(entry int, name string, value []byte) bool) (start, end int, spans []entrySpan, elems []span, ok bool) {
	start = -1
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return 0, 0, nil, nil, false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return start, 0, nil, nil, skipSpace(data, i+1) == len(data)
	}
	for {
		name, next, ok := plainName(data, i)
		if !ok {
			return 0, 0, nil, nil, false
		}
		vs := skipSpace(data, next)
		var ve int
		if strings.EqualFold(name, "entry") {
			if name != "entry" || start >= 0 || vs >= len(data) || data[vs] != '[' {
				return 0, 0, nil, nil, false
			}
			if spans, elems, ve, ok = entrySpans(data, vs, ref, each); !ok {
				return 0, 0, nil, nil, false
			}
			start, end = vs, ve
		} else if ve, ok = skipJSONValue(data, vs); !ok {
			return 0, 0, nil, nil, false
		}
		i = skipSpace(data, ve)
		if i >= len(data) {
			return 0, 0, nil, nil, false
		}
		if data[i] == '}' {
			return start, end, spans, elems, skipSpace(data, i+1) == len(data)
		}
		if data[i] != ',' {
			return 0, 0, nil, nil, false
		}
		i = skipSpace(data, i+1)
	}
}

// entrySpans reads the entry array starting at data[start] and returns
// the index after it: each entry an object of a "fullUrl" string without
// escapes or non-ASCII bytes and a "resource" object, each at most once,
// in any order; ok is false for any other shape. each, when not nil, is
// given each member of each resource as it is read (entryArray). The
// objects of the resources' contained arrays are in elems (see
// scanResource) when each is nil.
func entrySpans(data []byte, start int, ref bool, each func(entry int, name string, value []byte) bool) (spans []entrySpan, elems []span, end int, ok bool) {
	arr := data // the array and what follows it
	i := skipSpace(arr, start+1)
	if i < len(arr) && arr[i] == ']' {
		return []entrySpan{}, nil, i + 1, true
	}
	spans = make([]entrySpan, 0, 16)
	for {
		if i >= len(arr) || arr[i] != '{' {
			return nil, nil, 0, false
		}
		var s entrySpan
		seenURL := false
		i = skipSpace(arr, i+1)
		if i < len(arr) && arr[i] == '}' {
			i++
		} else {
			for {
				name, next, ok := plainName(arr, i)
				if !ok {
					return nil, nil, 0, false
				}
				vs := skipSpace(arr, next)
				var ve int
				if each != nil && name == "resource" {
					// The resource read member by member, which finds its
					// end as skipping it would.
					entry, stopped := len(spans), false
					ve, ok = eachMember(arr, vs, func(n string, v []byte) bool {
						stopped = !each(entry, n, v)
						return !stopped
					})
					ok = ok && !stopped
				} else if name == "resource" && vs < len(arr) && arr[vs] == '{' && s.resEnd == 0 && mayContain(arr[vs:]) {
					first := len(elems)
					if ve, s.contained, elems, ok = scanResource(arr, vs, elems); ok && s.contained.end != 0 {
						s.elemFirst, s.elemEnd = first, len(elems)
					}
				} else {
					ve, ok = skipJSONValue(arr, vs)
				}
				if !ok {
					return nil, nil, 0, false
				}
				switch name {
				case "fullUrl":
					if seenURL || !plainString(arr[vs:ve]) {
						return nil, nil, 0, false
					}
					seenURL = true
					if s.fullURL = unsafeString(arr[vs+1 : ve-1]); !ref {
						s.fullURL = strings.Clone(s.fullURL)
					}
				case "resource":
					if s.resEnd != 0 || arr[vs] != '{' {
						return nil, nil, 0, false
					}
					s.resStart, s.resEnd = vs, ve
				default:
					return nil, nil, 0, false // an inline entry, search, or another member: the general way
				}
				i = skipSpace(arr, ve)
				if i < len(arr) && arr[i] == ',' {
					i = skipSpace(arr, i+1)
					continue
				}
				if i >= len(arr) || arr[i] != '}' {
					return nil, nil, 0, false
				}
				i++
				break
			}
		}
		spans = append(spans, s)
		i = skipSpace(arr, i)
		if i >= len(arr) {
			return nil, nil, 0, false
		}
		if arr[i] == ']' {
			return spans, elems, i + 1, true
		}
		if arr[i] != ',' {
			return nil, nil, 0, false
		}
		i = skipSpace(arr, i+1)
	}
}

// plainName reads a member name at data[i] and the colon after it: a
// string of printable ASCII without escapes. next is the index after the
// colon.
func plainName(data []byte, i int) (name string, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	for j < len(data) && data[j] != '"' {
		if c := data[j]; c == '\\' || c < 0x20 || c >= 0x7f {
			return "", 0, false
		}
		j++
	}
	if j >= len(data) {
		return "", 0, false
	}
	name = unsafeString(data[i+1 : j])
	j = skipSpace(data, j+1)
	if j >= len(data) || data[j] != ':' {
		return "", 0, false
	}
	return name, j + 1, true
}

// plainString reports whether v is a JSON string of printable ASCII
// without escapes (decoded, it is its bytes between the quotes).
func plainString(v []byte) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' || c < 0x20 || c >= 0x7f || c == '"' {
			return false
		}
	}
	return true
}

// skipJSONValue returns the index after the JSON value starting at
// data[i]: a string, an object or array (strings inside skipped with
// their escapes), or a literal or number (up to the next delimiter). It
// finds where a value ends without checking all of its grammar: the
// decoder that reads the value checks that. The indentation after a line
// break, most of the bytes between a pretty-printed Bundle's strings, is
// passed over eight spaces at a time.
func skipJSONValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return skipJSONString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			if !jsonMarkup[data[j]] {
				continue
			}
			switch data[j] {
			case '\n':
				for j+9 <= len(data) && binary.LittleEndian.Uint64(data[j+1:]) == eightSpaces {
					j += 8
				}
			case '"':
				end, ok := skipJSONString(data, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	case '}', ']', ',', ':':
		return 0, false
	}
	j := i
	for j < len(data) {
		c := data[j]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		j++
	}
	return j, true
}

// jsonMarkup marks the bytes skipJSONValue looks at inside an object or
// array.
var jsonMarkup = [256]bool{'"': true, '{': true, '[': true, '}': true, ']': true, '\n': true}

// eightSpaces is eight bytes of indentation read as one little-endian word.
const eightSpaces = 0x2020202020202020

// skipJSONString returns the index after the string starting at data[i].
func skipJSONString(data []byte, i int) (int, bool) {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return 0, false
		}
		q := j + k
		escapes := 0
		for p := q - 1; p > i && data[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

// unsafeString returns b's bytes as a string without copying them; the
// caller keeps b unchanged for as long as the string lives.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
