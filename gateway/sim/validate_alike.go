package sim

import (
	"bytes"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// The consistency checks' quick way (validate_paths.go is the referee).
// Almost every message a sender writes holds its values alike on every
// path the EPS API compares, written alike byte for byte. alikeAlong
// finds that with a scan over the Bundle as received (fhir.EachMember,
// fhir.EachElement), decoding nothing and allocating next to nothing; the
// values of a path written byte for byte alike are deeply equal, so they
// give no issue, as consistencyIssuesDecoded finds. Anything else — values
// written differently, which may still be deeply equal, or JSON the scan
// does not read as encoding/json reads it (an escaped or case-folded
// member name, a name given twice) — is answered by
// consistencyIssuesDecoded, whose answers are EPS's.

// rawMember is one member of a JSON object as received.
type rawMember struct {
	name  string
	value []byte
}

// rawEntries is a message Bundle's entries' resources as received, each
// its resourceType and its top-level members (members[lo:hi]), scanned
// once a message; ok is false when the scan cannot stand for
// encoding/json's reading (then the checks decode).
type rawEntries struct {
	ok      bool
	members []rawMember
	entries []rawEntry
}

// rawEntry is one entry's resource in a rawEntries.
type rawEntry struct {
	resourceType []byte // as written, between its quotes
	lo, hi       int
}

// scanned returns m's Bundle scanned as received (scanEntries), once a
// message.
func (m *message) scanned() *rawEntries {
	if m.scan == nil {
		m.scan = scanEntries(m.body)
	}
	return m.scan
}

// scanEntries scans a Bundle as received as rawEntriesByType decodes it,
// in one pass: its entries' resources' members as fhir.EachEntryMember
// reads them, whose usual shape (each name written plainly, entry and
// resource once and so spelled) encoding/json reads alike, and each
// resource's resourceType given once, so spelled and without escapes.
// Else ok is false.
func scanEntries(body []byte) *rawEntries {
	out := &rawEntries{members: make([]rawMember, 0, 64), entries: make([]rawEntry, 0, 16)}
	entry := -1
	var typ []byte
	seenType := false
	end := func() {
		if entry >= 0 {
			lo := 0
			if n := len(out.entries); n > 0 {
				lo = out.entries[n-1].hi
			}
			out.entries = append(out.entries, rawEntry{resourceType: typ, lo: lo, hi: len(out.members)})
		}
	}
	if !fhir.EachEntryMember(body, func(e int, name string, v []byte) bool {
		if e != entry {
			end()
			entry, typ, seenType = e, nil, false
		}
		if strings.EqualFold(name, "resourceType") {
			if name != "resourceType" || seenType {
				return false
			}
			seenType = true
			if len(v) >= 2 && v[0] == '"' {
				if bytes.IndexByte(v, '\\') >= 0 {
					return false // escaped: decoding may give any name
				}
				typ = v[1 : len(v)-1]
			}
		}
		out.members = append(out.members, rawMember{name: name, value: v})
		return true
	}) {
		return &rawEntries{}
	}
	end()
	out.ok = true
	return out
}

// onlyMember returns the value of obj's member name, nil when it has none,
// as encoding/json fills a struct field of that name: ok is false when
// obj is no object of plainly written names, or holds the name (regardless
// of case) more than once or otherwise spelled.
func onlyMember(obj []byte, name string) (value []byte, ok bool) {
	return memberOf(obj, name, strings.EqualFold)
}

// exactMember returns the value of a member name, nil when there is none,
// as a map[string]json.RawMessage holds it, of an object given by its
// members, else (members nil) by its bytes: ok is false when that object
// is no object of plainly written names, or names name twice.
func exactMember(members []rawMember, obj []byte, name string) (value []byte, ok bool) {
	if members == nil {
		return memberOf(obj, name, func(a, b string) bool { return a == b })
	}
	for _, mb := range members {
		if mb.name == name {
			if value != nil {
				return nil, false
			}
			value = mb.value
		}
	}
	return value, true
}

// memberOf returns the value of the JSON object obj's member name, nil
// when it has none: ok is false when obj is no object of plainly written
// names, or holds more than one member whose name is like name, or one
// like it but not name itself.
func memberOf(obj []byte, name string, like func(a, b string) bool) (value []byte, ok bool) {
	ok = true
	if !fhir.EachMember(obj, func(n string, v []byte) bool {
		if like(n, name) {
			if n != name || value != nil {
				ok = false
				return false
			}
			value = v
		}
		return true
	}) {
		return nil, false
	}
	return value, ok
}

// count is how many of the entries' resources are of resourceType.
func (s *rawEntries) count(resourceType string) int {
	n := 0
	for _, e := range s.entries {
		if string(e.resourceType) == resourceType {
			n++
		}
	}
	return n
}

// quicklyConsistent reports whether the Bundle's entries of resourceType
// are found to give no consistency issue on paths without decoding: fewer
// than two of them, or each path's values written alike (alikeAlong).
// false when that is not so, or the scan cannot tell.
func quicklyConsistent(m *message, resourceType string, paths []string) bool {
	if fewerThanTwo(m.body, resourceType) {
		return true // no scan needed: the checks decoding would find nothing to compare either
	}
	s := m.scanned()
	if !s.ok {
		return false
	}
	if s.count(resourceType) < 2 {
		return true
	}
	for _, p := range paths {
		if !alikeAlong(m, resourceType, p) {
			return false
		}
	}
	return true
}

// fewerThanTwo reports whether body cannot hold two entries whose
// resourceType is resourceType (a name of letters), however it is read —
// by the scan or by encoding/json (rawEntriesOf): the name written as a
// JSON string, quotes included, at most once, and no \u escape anywhere
// in body (the only escape that could spell a letter). Each entry's
// resourceType is a string of its own in body, so there cannot be more of
// them than there are such strings; a single-item prescription-order is
// thus checked without scanning the Bundle.
func fewerThanTwo(body []byte, resourceType string) bool {
	// The name and its closing quote, then the opening quote before it:
	// searched for from the quote, as common in JSON as it is, the
	// search was twenty times slower.
	q := resourceType + `"`
	n := 0
	for off := 0; ; {
		i := bytes.Index(body[off:], []byte(q))
		if i < 0 {
			break
		}
		if at := off + i; at > 0 && body[at-1] == '"' {
			if n++; n > 1 {
				return false
			}
		}
		off += i + len(q)
	}
	for off := 0; ; {
		i := bytes.IndexByte(body[off:], '\\')
		if i < 0 {
			return true
		}
		if at := off + i; at+1 < len(body) && body[at+1] == 'u' {
			return false
		}
		off += i + 1
	}
}

// alikeAlong reports whether the values of a simple FHIR path (as
// fhirPathValues reads it) on the Bundle's entries of resourceType are all
// written alike, byte for byte (a missing value alike only another
// missing one): then they give no consistency issue. false when they are
// not, or the scan cannot tell (the checks then decode).
func alikeAlong(m *message, resourceType, path string) bool {
	s := m.scanned()
	if !s.ok {
		return false
	}
	var first []byte
	n := 0
	visit := func(v []byte) bool {
		if n == 0 {
			first = v
		} else if (first == nil) != (v == nil) || !bytes.Equal(first, v) {
			return false
		}
		n++
		return true
	}
	for _, e := range s.entries {
		if string(e.resourceType) == resourceType && !walkPath(s.members[e.lo:e.hi], nil, path, visit) {
			return false
		}
	}
	return true
}

// walkPath follows the simple FHIR path from an object, given by its
// members or else (members nil) by its bytes, as fhirPathValuesFrom does,
// calling visit with each value it reaches (nil: missing) until visit
// returns false. false when visit stopped it or the scan cannot stand for
// the decoding.
func walkPath(members []rawMember, obj []byte, path string, visit func([]byte) bool) bool {
	if members == nil && (obj == nil || obj[0] != '{') { // missing, null or no object: missing
		return visit(nil)
	}
	step, rest, last := nextFHIRPathStep(path)
	next := func(v []byte) bool {
		if last {
			return visit(v)
		}
		return walkPath(nil, v, rest, visit)
	}
	if url, ok := strings.CutPrefix(step, `extension("`); ok {
		x, ok := extensionOf(members, obj, strings.TrimSuffix(url, `")`))
		return ok && next(x)
	}
	field, ok := exactMember(members, obj, step)
	switch {
	case !ok:
		return false
	case field != nil && field[0] == '[':
		stopped := false
		return fhir.EachElement(field, func(el []byte) bool {
			stopped = !next(el)
			return !stopped
		}) && !stopped
	}
	return next(field)
}

// extensionOf is the first extension of url of an object (exactMember's
// members or obj), nil when it has none, as fhirPathValuesFrom finds it
// (each extension's url read as encoding/json fills a struct field); ok is
// false when the scan cannot stand for that reading.
func extensionOf(members []rawMember, obj []byte, url string) (x []byte, ok bool) {
	exts, ok := exactMember(members, obj, "extension")
	if !ok {
		return nil, false
	}
	if exts == nil || exts[0] != '[' {
		return nil, true // none, or not a list of them
	}
	if !fhir.EachElement(exts, func(el []byte) bool {
		if el[0] != '{' {
			return true // not an extension: passed over
		}
		u, okURL := onlyMember(el, "url")
		switch {
		case !okURL || len(u) > 0 && u[0] == '"' && bytes.IndexByte(u, '\\') >= 0:
			ok = false
			return false
		case len(u) >= 2 && u[0] == '"' && string(u[1:len(u)-1]) == url:
			x = el
			return false
		}
		return true
	}) {
		return nil, false
	}
	if !ok {
		return nil, false
	}
	return x, true
}

// nextFHIRPathStep cuts a simple FHIR path at its first dot outside
// double quotes (splitFHIRPath's steps, one at a time): last is true when
// step is the whole path.
func nextFHIRPathStep(path string) (step, rest string, last bool) {
	quoted := false
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '"':
			quoted = !quoted
		case path[i] == '.' && !quoted:
			return path[:i], path[i+1:], false
		}
	}
	return path, "", true
}
