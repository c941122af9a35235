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
// text whose strings hold no character the two encoders escape
// differently (textOf) it also writes what encoding/json writes. Other
// text encoding/json reads and writes, as it did all before.

// orderText is how plainly a stored prescription-order is written, which
// picks its decoder and encoder.
type orderText int

const (
	// textOther is read and written by encoding/json.
	textOther orderText = iota
	// textPlain is read by goccy/go-json (plainJSONText), written by
	// encoding/json.
	textPlain
	// textAlike is plain text without U+2028 or U+2029 whose escapes
	// give only characters both encoders write alike (textOf):
	// goccy/go-json writes its tree as encoding/json does.
	textAlike
)

// textOf is how plainly order is written: textAlike allows, of the
// escapes plainJSONText allows, those of a quote, a backslash, a slash, a
// newline, a return or a tab, and \u of any character from U+0020 on but
// U+2028 and U+2029: both encoders write those characters alike.
func textOf(order []byte) orderText {
	switch escapes, ok := plainJSONTextEscapes(order); {
	case !ok:
		return textOther
	case escapes&^alikeEscapes != 0 || bytes.Contains(order, []byte("\u2028")) || bytes.Contains(order, []byte("\u2029")):
		return textPlain
	}
	return textAlike
}

// escapeKinds are sets of the kinds of escape a text holds.
type escapeKinds uint8

const (
	// escapeAlike is an escape of a character both encoders write
	// alike (see textOf).
	escapeAlike escapeKinds = 1 << iota
	// escapeOther is any other escape plainJSONText takes.
	escapeOther
	// alikeEscapes is what textAlike text may hold.
	alikeEscapes = escapeAlike
)

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
	if text == textAlike {
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
	_, ok := plainJSONTextEscapes(data)
	return ok
}

// plainJSONTextEscapes is plainJSONText, and the kinds of escape data
// holds.
func plainJSONTextEscapes(data []byte) (escapes escapeKinds, ok bool) {
	if !utf8.Valid(data) {
		return 0, false
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
				return 0, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'n', 'r', 't':
				escapes |= escapeAlike
				i++
			case 'b', 'f':
				escapes |= escapeOther
				i++
			case 'u':
				if i+5 >= len(data) {
					return 0, false
				}
				r := 0
				for _, h := range data[i+2 : i+6] {
					switch {
					case h >= '0' && h <= '9':
						r = r<<4 | int(h-'0')
					case h|0x20 >= 'a' && h|0x20 <= 'f':
						r = r<<4 | int(h|0x20-'a'+10)
					default:
						return 0, false
					}
				}
				switch {
				case r >= 0xd800 && r <= 0xdfff:
					return 0, false
				case r < 0x20 || r == 0x2028 || r == 0x2029:
					escapes |= escapeOther
				default:
					escapes |= escapeAlike
				}
				i += 5
			default:
				return 0, false
			}
		case c < 0x20 && inString:
			return 0, false
		}
	}
	return escapes, true
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
