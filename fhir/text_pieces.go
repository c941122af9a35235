package fhir

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Text in pieces. The EPS API reads Spine's v3 with xml-js in compact
// mode, which gives the text of an element holding a comment (or another
// node between its text) as an array of the pieces around it:
// <family>TWIT<!--c-->CHETT</family> becomes "family": ["TWIT", "CHETT"],
// and a line of an address "line": [["10 HEATH", "FIELD"], "COBHAM"]. Its
// release and tracker answers carry such text wherever it takes an
// element's text: dosage and name text, name parts, address lines and
// postcodes, organisation names, a reference's display. A comment is no
// part of an element's text (nor of the signed fragments), so the text
// Spine released is the pieces joined. A resource that does not decode is
// read again with them joined (joinTextPieces), so a well-formed one costs
// nothing more.

// piecedStrings are the keys of the string elements EPS may give in
// pieces; piecedStringLists those of the lists of strings whose items it
// may give in pieces.
var (
	piecedStrings     = map[string]bool{"text": true, "family": true, "postalCode": true, "name": true, "display": true}
	piecedStringLists = map[string]bool{"given": true, "prefix": true, "suffix": true, "line": true}
)

// joinTextPieces returns data with every text given in pieces joined, and
// whether there was any; false also when data is not JSON.
func joinTextPieces(data []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || !joinPiecesIn(v) {
		return nil, false
	}
	out, err := Marshal(v)
	return out, err == nil
}

// joinPiecesIn joins the text pieces inside v and reports whether it found
// any.
func joinPiecesIn(v any) bool {
	found := false
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			switch {
			case piecedStrings[k]:
				if s, ok := joinedPieces(c); ok {
					x[k], found = s, true
					continue
				}
			case piecedStringLists[k]:
				if items, ok := c.([]any); ok {
					for i, it := range items {
						if s, ok := joinedPieces(it); ok {
							items[i], found = s, true
						}
					}
					continue
				}
			}
			found = joinPiecesIn(c) || found
		}
	case []any:
		for _, c := range x {
			found = joinPiecesIn(c) || found
		}
	}
	return found
}

// joinedPieces returns v joined when it is an array of strings.
func joinedPieces(v any) (string, bool) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, p := range arr {
		s, ok := p.(string)
		if !ok {
			return "", false
		}
		b.WriteString(s)
	}
	return b.String(), true
}
