package fhir

import (
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Strings, numbers and indentation as the JSON codec writes them with
// Marshal's options (no HTML escaping, UTF-8 normalised as encoding/json
// normalises it).

// appendString appends s as a JSON string. Most strings of a resource
// (codes, ids, URLs, dates) need no escape: where the buffer has room for
// the string, its quotes and what appendPlain may write past it, the
// string is copied into it quoted as it is looked at (appendPlain). The
// generated writers (json_encode_gen.go) call appendPlain themselves and
// take appendStringSlow's way only when it gives buf back as it was.
func appendString(buf []byte, s string) []byte {
	if out := appendPlain(buf, s); len(out) != len(buf) {
		return out
	}
	return appendStringSlow(buf, s)
}

// appendStringSlow is appendString's way for a buffer without the room
// or a string that needs an escape: the room made, the string quoted
// as it is, or when it needs an escape after all, written over with its
// escapes.
func appendStringSlow(buf []byte, s string) []byte {
	if cap(buf)-len(buf) < len(s)+plainRoom {
		buf = grow(buf, len(s)+plainRoom)
	}
	if out := appendPlain(buf, s); len(out) != len(buf) {
		return out
	}
	return appendEscaped(buf, s)
}

// plainRoom is the room appendPlain needs past a string's length: its
// two quotes and the sixteen bytes it may write however short the string
// is.
const plainRoom = 2 + 16

// appendPlainWords is appendPlain a word at a time (copyPlainWords): the
// other architectures' appendPlain, and its reference where it is written
// in vector instructions.
func appendPlainWords(buf []byte, s string) []byte {
	l, n := len(buf), len(s)
	if cap(buf)-l < n+plainRoom {
		return buf
	}
	dst := unsafe.Add(unsafe.Pointer(unsafe.SliceData(buf)), l)
	*(*byte)(dst) = '"'
	if !copyPlainWords(unsafe.Add(dst, 1), unsafe.Pointer(unsafe.StringData(s)), n) {
		return buf
	}
	*(*byte)(unsafe.Add(dst, n+1)) = '"'
	return buf[:l+n+2]
}

// copyPlainWords copies the n bytes at src to dst, looking at them a word
// at a time (mayEscape; the last word overlapping the one before), or a
// byte at a time when they are fewer than eight, or, when there are
// longString of them or more (a signature's base64, most often), first
// (plainLong); false when one needs an escape.
func copyPlainWords(dst, src unsafe.Pointer, n int) bool {
	switch {
	case n < 8:
		for i := range n {
			c := *(*byte)(unsafe.Add(src, i))
			if notASCIIPlain[c] {
				return false
			}
			*(*byte)(unsafe.Add(dst, i)) = c
		}
	case n < longString:
		var m uint64
		for i := 0; i < n-8; i += 8 {
			w := *(*uint64)(unsafe.Add(src, i))
			m |= mayEscape(w)
			*(*uint64)(unsafe.Add(dst, i)) = w
		}
		w := *(*uint64)(unsafe.Add(src, n-8))
		if m|mayEscape(w) != 0 {
			return false
		}
		*(*uint64)(unsafe.Add(dst, n-8)) = w
	default:
		s := unsafe.String((*byte)(src), n)
		if !plainLong(s) {
			return false
		}
		copy(unsafe.Slice((*byte)(dst), n), s)
	}
	return true
}

// notASCIIPlain marks the bytes a string may not hold as they are:
// control bytes, the quote, the backslash and bytes of 0x80 or more
// (which escapeString looks at).
var notASCIIPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80
	}
	return t
}()

// longString is the length from which copyPlainWords looks at a string
// with plainLong.
const longString = 128

// plainLong reports whether s, of longString bytes or more, needs no
// escape: its quotes and backslashes are looked for by strings.IndexByte
// (in vector instructions), and its control bytes and bytes of 0x80 or
// more thirty-two bytes at a time.
func plainLong(s string) bool {
	if strings.IndexByte(s, '"') >= 0 || strings.IndexByte(s, '\\') >= 0 {
		return false
	}
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	n := len(b)
	var m uint64
	i := 0
	for ; i+32 <= n; i += 32 {
		w0, w1, w2, w3 := word(b, i), word(b, i+8), word(b, i+16), word(b, i+24)
		m |= w0 | (w0 - controls) | w1 | (w1 - controls) | w2 | (w2 - controls) | w3 | (w3 - controls)
	}
	for ; i+8 <= n; i += 8 {
		w := word(b, i)
		m |= w | (w - controls)
	}
	w := word(b, n-8)
	return (m|w|(w-controls))&highBits == 0
}

// mayEscape marks the bytes of w that may need an escape: control bytes,
// quotes, backslashes and bytes of 0x80 or more (the high bit of each
// set; a byte after one of them may be marked too, by a borrow). It marks
// none of a word of other ASCII.
func mayEscape(w uint64) uint64 {
	return (w | (w - controls) | (w ^ quotes - ones) | (w ^ slashes - ones)) & highBits
}

// grow returns buf with room for n more bytes: at least twice its
// capacity, so that a buffer grown from a pooled one's first size to a
// large message's (a release response's 200 KB and more) is made again a
// few times, not the dozen or so append's smaller steps take.
func grow(buf []byte, n int) []byte {
	return slices.Grow(buf, max(n, cap(buf)))
}

// appendEscaped appends s, which needs an escape, as a JSON string.
func appendEscaped(buf []byte, s string) []byte {
	return append(escapeString(append(buf, '"'), s, 0), '"')
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

// validNumber reports whether n is a JSON number, as the decoder reads
// one (numberEnd): an optional minus, an integer part without leading
// zeros, an optional fraction and an optional exponent.
func validNumber(n string) bool {
	end, ok := numberEnd(unsafe.Slice(unsafe.StringData(n), len(n)), 0)
	return ok && end == len(n)
}

// appendIndent appends src, compact JSON the codec wrote, indented as
// MarshalIndent indents, from depth levels on: each member and element on
// a line of its own, two spaces a level, a space after each colon, and an
// empty object or array left as {} or []. The encoder indents what it
// writes itself as it writes it; this is for what it leaves to the codec.
func appendIndent(dst, src []byte, depth int) []byte {
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

// lineStarts is a line break and the indentation of the levels newLine
// writes in one piece.
const lineStarts = "\n                                                                "

// newLine appends a line break and the indentation of depth levels.
func newLine(dst []byte, depth int) []byte {
	if n := 1 + 2*depth; n <= len(lineStarts) {
		return append(dst, lineStarts[:n]...)
	}
	dst = append(dst, lineStarts...)
	for range depth - (len(lineStarts)-1)/2 {
		dst = append(dst, ' ', ' ')
	}
	return dst
}
