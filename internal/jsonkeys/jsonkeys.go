// Package jsonkeys finds what encoding/json passes over in silence in a
// configuration file: an object key given twice, of which json keeps the
// last.
package jsonkeys

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Duplicates returns the keys of the top-level JSON object in b that occur
// more than once, each once, in the order of their second occurrence. It
// returns nil when b is not an object or cannot be read: the caller's own
// decoding reports that.
func Duplicates(b []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen := map[string]int{}
	var dups []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return dups
		}
		k, ok := t.(string)
		if !ok {
			return dups
		}
		if seen[k]++; seen[k] == 2 {
			dups = append(dups, k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return dups
		}
	}
	return dups
}

// Check returns an error naming the keys Duplicates finds in b, each as
// what (for example "party"), or nil.
func Check(b []byte, what string) error {
	dups := Duplicates(b)
	if len(dups) == 0 {
		return nil
	}
	return fmt.Errorf("%s %q given more than once (JSON keeps only the last): %q", what, dups[0], dups)
}
