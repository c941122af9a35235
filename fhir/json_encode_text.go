package fhir

import (
	"unicode/utf8"
	"unsafe"
)

// Strings, numbers and indentation as the JSON codec writes them with
// Marshal's options (no HTML escaping, UTF-8 normalised as encoding/json
// normalises it).

// appendString appends s as a JSON string. Most strings of a resource
// (codes, ids, URLs, dates) need no escape: they are looked at eight
// bytes at a time (mayEscape), the last eight overlapping the ones
// before, and copied whole.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	n := len(s)
	if n >= 8 {
		b := unsafe.Slice(unsafe.StringData(s), n)
		var m uint64
		i := 0
		for ; i+8 < n && m == 0; i += 8 {
			m = mayEscape(word(b, i))
		}
		if m == 0 {
			m = mayEscape(word(b, n-8))
		}
		if m != 0 {
			return append(escapeString(buf, s, 0), '"')
		}
	} else {
		for i := range n {
			if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				return append(escapeString(buf, s, i), '"')
			}
		}
	}
	buf = append(buf, s...)
	return append(buf, '"')
}

// mayEscape marks the bytes of w that may need an escape: control bytes,
// quotes, backslashes and bytes of 0x80 or more (the high bit of each
// set; a byte after one of them may be marked too, by a borrow). It marks
// none of a word of other ASCII.
func mayEscape(w uint64) uint64 {
	return (w | (w - controls) | (w ^ quotes - ones) | (w ^ slashes - ones)) & highBits
}

// hexDigits are the digits of \u escapes.
const hexDigits = "0123456789abcdef"

// escapeString appends s, whose bytes before s[i] need no escape, with
// the escapes the codec writes: '"' and '\\' after a backslash, \b, \f,
// \n, \r and \t, other control bytes as \u00XX, U+2028 and U+2029 as
// \u2028 and \u2029, and each byte of invalid UTF-8 as \ufffd.
func escapeString(buf []byte, s string, i int) []byte {
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(buf, s[start:]...)
}

// validNumber reports whether n is a JSON number: an optional minus, an
// integer part without leading zeros, an optional fraction and an
// optional exponent.
func validNumber(n string) bool {
	i := 0
	if i < len(n) && n[i] == '-' {
		i++
	}
	switch {
	case i < len(n) && n[i] == '0':
		i++
	case i < len(n) && n[i] >= '1' && n[i] <= '9':
		i = digits(n, i+1)
	default:
		return false
	}
	if i < len(n) && n[i] == '.' {
		if j := digits(n, i+1); j > i+1 {
			i = j
		} else {
			return false
		}
	}
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			i++
		}
		if j := digits(n, i); j > i {
			i = j
		} else {
			return false
		}
	}
	return i == len(n)
}

// digits returns the index of the first byte of n from i on that is not
// a decimal digit.
func digits(n string, i int) int {
	for i < len(n) && n[i] >= '0' && n[i] <= '9' {
		i++
	}
	return i
}

// appendIndent appends src, compact JSON the encoder wrote, indented as
// MarshalIndent indents: each member and element on a line of its own,
// two spaces a level, a space after each colon, and an empty object or
// array left as {} or [].
func appendIndent(dst, src []byte) []byte {
	depth := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			end, _ := skipJSONString(src, i)
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			if i+1 < len(src) && src[i+1] == c+2 { // '{' + 2 is '}', '[' + 2 is ']'
				dst = append(dst, c, c+2)
				i++
				continue
			}
			depth++
			dst = newLine(append(dst, c), depth)
		case '}', ']':
			depth--
			dst = append(newLine(dst, depth), c)
		case ',':
			dst = newLine(append(dst, ','), depth)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// newLine appends a line break and the indentation of depth levels.
func newLine(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}
