package fhir

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The byte scanner under the walkers of json_members.go and the Bundle's
// split: where white space, a string, a member name or a whole value ends,
// without checking all of JSON's grammar (the decoder that reads a value
// checks that). Most of a message Bundle's bytes are strings and
// indentation, so both are read eight bytes at a time, as one word whose
// bytes of interest are found at once (SWAR: the bytes of a word equal to
// a value are those of w^(value in each byte) that are zero, which
// zeroBytes marks).

// Words of a byte repeated eight times.
const (
	ones      = 0x0101010101010101
	highBits  = 0x8080808080808080
	quotes    = ones * '"'
	slashes   = ones * '\\'
	dels      = ones * 0x7f
	controls  = ones * 0x20
	bracketed = ones * 0x59 // '{', '}', '[', ']' masked by brackets
	brackets  = ones * 0xd9 // the bits '{', '}', '[' and ']' share (see markup)
)

// eightSpaces is eight bytes of indentation read as one little-endian
// word; lineStart a line break and seven.
const (
	eightSpaces = ones * ' '
	lineStart   = eightSpaces&^0xff | '\n'
)

// word returns the eight bytes of data from i on as a little-endian word;
// the caller has checked that they are there.
func word(data []byte, i int) uint64 {
	return binary.LittleEndian.Uint64(data[i : i+8])
}

// zeroBytes returns w with the high bit set in its lowest zero byte, and
// maybe in bytes above that one (a borrow), but in no byte below it: the
// lowest bit set of zeroBytes(w), or of several such words or'ed
// together, is the first byte looked for.
func zeroBytes(w uint64) uint64 {
	return (w - ones) &^ w & highBits
}

// firstByte returns the index in its word of the byte whose high bit is
// the lowest set in m (not 0).
func firstByte(m uint64) int {
	return bits.TrailingZeros64(m) >> 3
}

// quoteOrSlash marks the quotes and backslashes of w (see zeroBytes).
func quoteOrSlash(w uint64) uint64 {
	return zeroBytes(w^quotes) | zeroBytes(w^slashes)
}

// markup marks the bytes of w that skipJSONValue looks at inside an
// object or array: quotes and brackets. Masked by brackets, '{', '}', '['
// and ']' are all 0x59, as are 'Y', '_', 'y' and DEL, which are no JSON
// outside a string (the caller looks at the byte itself).
func markup(w uint64) uint64 {
	return zeroBytes(w^quotes) | zeroBytes(w&brackets^bracketed)
}

// notPlain marks the bytes of w that end a plainly written name: a quote,
// a backslash, a control byte, DEL or a byte of 0x80 or more (see
// zeroBytes; w - controls borrows only from a byte below 0x20).
func notPlain(w uint64) uint64 {
	return quoteOrSlash(w) | zeroBytes(w^dels) | (w-controls)&^w&highBits | w&highBits
}

// skipSpace returns the index of the first byte from i on that is not
// JSON white space; a run of spaces (indentation) is passed eight bytes
// at a time. No white space at all, the most common case, is found
// without a call.
func skipSpace(data []byte, i int) int {
	if i < len(data) && data[i] > ' ' {
		return i
	}
	return skipSpaceRun(data, i)
}

// skipSpaceRun is skipSpace past white space. The usual runs, a line
// break and its indentation or spaces alone, are passed a word at a time:
// the first compared with a line break and seven spaces (or eight
// spaces), the next ones with eight spaces; anything else (a tab, a
// carriage return, lines without indentation) a byte at a time. It is
// not inlined, so that skipSpace is.
//
//go:noinline
func skipSpaceRun(data []byte, i int) int {
	// The usual run first, without a loop: a line break and up to
	// fifteen spaces of indentation.
	if i+17 <= len(data) && data[i] == '\n' {
		if x := word(data, i+1) ^ eightSpaces; x != 0 {
			if j := i + 1 + bits.TrailingZeros64(x)>>3; data[j] > ' ' {
				return j
			}
		} else if x := word(data, i+9) ^ eightSpaces; x != 0 {
			if j := i + 9 + bits.TrailingZeros64(x)>>3; data[j] > ' ' {
				return j
			}
		}
	}
	if i+8 <= len(data) {
		var x uint64
		run := true
		switch data[i] {
		case '\n':
			x = word(data, i) ^ lineStart
		case ' ':
			x = word(data, i) ^ eightSpaces
		default:
			run = false
		}
		if run {
			for x == 0 && i+16 <= len(data) {
				i += 8
				x = word(data, i) ^ eightSpaces
			}
			if x != 0 {
				if i += bits.TrailingZeros64(x) >> 3; data[i] > ' ' {
					return i
				}
			}
		}
	}
	for i < len(data) {
		switch data[i] {
		case ' ', '\n', '\t', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// plainName reads a member name at data[i] and the colon after it: a
// string of printable ASCII without escapes. next is the index after the
// colon.
func plainName(data []byte, i int) (name string, next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	for {
		if j+8 <= len(data) {
			if m := notPlain(word(data, j)); m != 0 {
				j += firstByte(m)
			} else {
				j += 8
				continue
			}
		}
		if j >= len(data) {
			return "", 0, false
		}
		if c := data[j]; c == '"' {
			break
		} else if c == '\\' || c < 0x20 || c >= 0x7f {
			return "", 0, false
		}
		j++
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
// decoder that reads the value checks that. Inside an object or array the
// bytes between strings are looked at eight at a time, for a quote or a
// bracket.
func skipJSONValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return skipJSONString(data, i)
	case '{', '[':
		depth := 0
		j := i
		for j < len(data) {
			if j+8 <= len(data) {
				m := markup(word(data, j))
				if m == 0 {
					j += 8
					continue
				}
				j += firstByte(m)
			}
			switch data[j] {
			case '"':
				end, ok := skipJSONString(data, j)
				if !ok {
					return 0, false
				}
				j = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
			j++
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

// skipJSONString returns the index after the string starting at data[i].
// Its first sixteen bytes are looked at a word at a time, for a quote or
// a backslash (most strings of a Bundle, member names and codes, end
// there); a longer string's rest is searched for its quotes.
func skipJSONString(data []byte, i int) (int, bool) {
	j := i + 1
	for w := 0; w < 2 && j+8 <= len(data); w++ {
		m := quoteOrSlash(word(data, j))
		if m == 0 {
			j += 8
			continue
		}
		j += firstByte(m)
		if data[j] == '"' {
			return j + 1, true
		}
		j += 2 // a backslash and the byte it escapes
		w--    // which did not pass a word
	}
	for {
		if j >= len(data) {
			return 0, false
		}
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
