package sim

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Decoding a stored prescription-order for its release (releasedOrder)
// cost the simulator more than a quarter of its instructions with
// encoding/json. goccy/go-json, which the fhir package decodes with,
// builds the same tree (map[string]any, []any, string, json.Number, bool,
// nil) in about a third of the time from text it reads alike: valid
// UTF-8 with only simple escapes and no control bytes in its strings
// (plainJSONText). Other text is decoded by encoding/json, as was all of
// it before.

// decodeOrder decodes a prescription-order Bundle as encoding/json does
// with UseNumber; ok is false when it does not decode.
func decodeOrder(order []byte) (b jsonMap, ok bool) {
	if plainJSONText(order) {
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
