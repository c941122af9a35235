package sim

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Decoding a stored prescription-order for its release (releasedOrder),
// and encoding it again when the release changes it, cost the simulator
// more than a quarter of its instructions with encoding/json.
// goccy/go-json, which the fhir package decodes with, builds the same tree
// (map[string]any, []any, string, json.Number, bool, nil) in about a third
// of the time from text it reads alike: valid UTF-8 with only simple
// escapes and no control bytes in its strings (plainJSONText). From such
// text without escapes, U+2028 or U+2029 it also writes what
// encoding/json writes. Other text encoding/json reads and writes, as it
// did all before.

// orderText is how plainly a stored prescription-order is written, which
// picks its decoder and encoder.
type orderText int

const (
	// textOther is read and written by encoding/json.
	textOther orderText = iota
	// textPlain is read by goccy/go-json (plainJSONText), written by
	// encoding/json.
	textPlain
	// textUnescaped is plain text without an escape, U+2028 or U+2029:
	// its strings need no escape but for a quote or a backslash, and
	// goccy/go-json writes them as encoding/json does.
	textUnescaped
)

// textOf is how plainly order is written.
func textOf(order []byte) orderText {
	switch {
	case !plainJSONText(order):
		return textOther
	case bytes.IndexByte(order, '\\') >= 0 || bytes.Contains(order, []byte("\u2028")) || bytes.Contains(order, []byte("\u2029")):
		return textPlain
	}
	return textUnescaped
}

// decodeOrder decodes a prescription-order Bundle written as text says
// as encoding/json does with UseNumber; ok is false when it does not
// decode.
func decodeOrder(order []byte, text orderText) (b jsonMap, ok bool) {
	if text != textOther {
		dec := gojson.NewDecoder(bytes.NewReader(order))
		dec.UseNumber()
		if dec.Decode(&b) == nil {
			return b, true
		}
		b = nil
	}
	return decodeOrderStd(order)
}

// decodeOrderStd is decodeOrder by encoding/json.
func decodeOrderStd(order []byte) (b jsonMap, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(order))
	dec.UseNumber()
	if dec.Decode(&b) != nil {
		return nil, false
	}
	return b, true
}

// encodeOrder encodes a tree decodeOrder gave of text so written as
// encodeJSON does.
func encodeOrder(b jsonMap, text orderText) ([]byte, bool) {
	if text == textUnescaped {
		out, err := gojson.MarshalWithOption(b, gojson.DisableHTMLEscape())
		return out, err == nil
	}
	return encodeJSON(b)
}

// plainJSONText reports whether data is valid UTF-8 whose strings hold
// no control byte and no escape but the simple ones (\" \\ \/ \b \f
// \n \r \t, and \u of a character outside the surrogates), none outside
// a string: the text goccy/go-json and encoding/json decode alike.
func plainJSONText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	inString := false
	for i := 0; i < len(data); i++ {
		if !plainTextStop[data[i]] {
			continue
		}
		switch c := data[i]; {
		case c == '"':
			inString = !inString
		case c == '\\':
			if !inString || i+1 >= len(data) {
				return false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(data) {
					return false
				}
				r := 0
				for _, h := range data[i+2 : i+6] {
					switch {
					case h >= '0' && h <= '9':
						r = r<<4 | int(h-'0')
					case h|0x20 >= 'a' && h|0x20 <= 'f':
						r = r<<4 | int(h|0x20-'a'+10)
					default:
						return false
					}
				}
				if r >= 0xd800 && r <= 0xdfff {
					return false
				}
				i += 5
			default:
				return false
			}
		case c < 0x20 && inString:
			return false
		}
	}
	return true
}

// plainTextStop marks the bytes plainJSONText looks at: quotes,
// backslashes and control bytes.
var plainTextStop = func() (stop [256]bool) {
	for c := range 0x20 {
		stop[c] = true
	}
	stop['"'], stop['\\'] = true, true
	return stop
}()
