package core

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/porxgate/porxgate/fhir"
)

// FHIRError is a problem found in a FHIR message on its way to v3: it names
// the interaction being made (or the message event), the FHIR element path
// (e.g. Bundle.entry[3].resource.groupIdentifier) and what was wrong there.
type FHIRError struct {
	// Interaction is the v3 interaction the FHIR message was to become.
	Interaction string
	// Path is the FHIR element path of the offending element.
	Path string
	// Msg says what was wrong.
	Msg string
}

// Error implements the error interface.
func (e *FHIRError) Error() string {
	switch {
	case e.Interaction != "" && e.Path != "":
		return fmt.Sprintf("%s: %s: %s", e.Interaction, e.Path, e.Msg)
	case e.Path != "":
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	default:
		return fmt.Sprintf("%s: %s", e.Interaction, e.Msg)
	}
}

// BundleContext walks a FHIR Bundle on its way to v3 and remembers the first
// problem it meets, so mapping code can read top-down and check Err once at
// the end (the FHIR twin of v3.Reader). It is not safe for concurrent use.
type BundleContext struct {
	// Bundle is the message being translated.
	Bundle *fhir.Bundle
	// Interaction is the v3 interaction id being made, for error messages.
	Interaction string
	err         *FHIRError
	// paths caches Path's answer per entry index (writers ask it for the
	// same resources over and over).
	paths []string
	// upperFrom[i] is an id UpperUUID (the method) copied in upper case,
	// upperTo[i] the copy; uppers of them are set.
	upperFrom, upperTo [8]string
	uppers             int
	// trusted marks a bundle porxgate made itself (a regeneration check):
	// values it wrote are not checked again.
	Trusted bool
	// Released marks a prescription-order Bundle of a release answer: the
	// EPS API's translation of a prescription Spine holds, whose v3 is
	// written back as Spine has it (AgentPersonOptions.Released, and the
	// ParentPrescription's effectiveTime from meta.lastUpdated).
	Released bool
}

// NewBundleContext returns a context over b for making interaction.
func NewBundleContext(b *fhir.Bundle, interaction string) *BundleContext {
	return &BundleContext{Bundle: b, Interaction: interaction}
}

// entryIndex returns the index of r among the bundle's entries (the last
// entry holding it), or -1. A message has a few dozen entries at most and
// Path is asked about a handful of them: a scan costs less than the map of
// every entry each context built before (four allocations a message).
func (c *BundleContext) entryIndex(r fhir.Resource) int {
	if r == nil || c.Bundle == nil {
		return -1
	}
	for i := len(c.Bundle.Entry) - 1; i >= 0; i-- {
		if c.Bundle.Entry[i].Resource == r {
			return i
		}
	}
	return -1
}

// Fail records a problem at a FHIR path unless one is already recorded.
// The error is of memory of its own (its path a copy, its message
// formatted), so that it may outlive a Bundle whose strings refer to the
// caller's bytes (fhir.ParseBundleBorrowed).
func (c *BundleContext) Fail(path, format string, args ...any) {
	if c.err == nil {
		c.err = &FHIRError{Interaction: c.Interaction, Path: strings.Clone(path), Msg: fmt.Sprintf(format, args...)}
	}
}

// Failed reports whether a problem has been recorded.
func (c *BundleContext) Failed() bool { return c.err != nil }

// Err returns the first problem met, or nil.
func (c *BundleContext) Err() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

// Path returns the FHIR path of a resource of the bundle
// ("Bundle.entry[3].resource"), or its resourceType when it is not an entry
// (e.g. a resource made up from an identifier reference).
func (c *BundleContext) Path(r fhir.Resource) string {
	if i := c.entryIndex(r); i >= 0 {
		if i < len(entryPaths) {
			return entryPaths[i]
		}
		if c.paths == nil {
			c.paths = make([]string, len(c.Bundle.Entry))
		}
		if i < len(c.paths) {
			if c.paths[i] == "" {
				c.paths[i] = "Bundle.entry[" + strconv.Itoa(i) + "].resource"
			}
			return c.paths[i]
		}
		return "Bundle.entry[" + strconv.Itoa(i) + "].resource"
	}
	if r == nil {
		return "Bundle"
	}
	return r.GetResourceType()
}

// entryPaths are the paths of the first entries' resources
// ("Bundle.entry[i].resource"), made once: Path's answer for all the
// entries of most messages, which contexts made one after another (the
// regeneration checks) would each make again.
var entryPaths = func() (p [64]string) {
	for i := range p {
		p[i] = "Bundle.entry[" + strconv.Itoa(i) + "].resource"
	}
	return p
}()

// Resolve returns the bundle resource a literal reference points at. A
// missing reference or one that resolves to nothing is recorded as a problem
// at path.
func (c *BundleContext) Resolve(ref *fhir.Reference, path string) fhir.Resource {
	return c.ResolveAt(ref, path, "")
}

// ResolveAt is Resolve recording a problem at path+suffix, joined only
// then (most references resolve, and the path is not needed).
func (c *BundleContext) ResolveAt(ref *fhir.Reference, path, suffix string) fhir.Resource {
	if ref == nil {
		c.Fail(path+suffix, "missing mandatory reference")
		return nil
	}
	if ref.Reference == "" {
		c.Fail(path+suffix+".reference", "literal reference required")
		return nil
	}
	r := c.Bundle.Resolve(ref.Reference)
	if r == nil {
		c.Fail(path+suffix+".reference", "reference %q does not resolve to a bundle entry", ref.Reference)
	}
	return r
}

// IsLiteral reports whether a reference points at a resource by URL (as
// opposed to a logical reference by identifier only).
func IsLiteral(ref *fhir.Reference) bool { return ref != nil && ref.Reference != "" }

// Identifier returns the value of the only identifier of a system; none is
// "" and more than one is recorded as a problem at path.
func (c *BundleContext) Identifier(ids []fhir.Identifier, system, path string) string {
	return c.IdentifierAt(ids, system, path, "")
}

// IdentifierAt is Identifier recording a problem at path+suffix, joined
// only then (most identifiers are there once).
func (c *BundleContext) IdentifierAt(ids []fhir.Identifier, system, path, suffix string) string {
	v, n := "", 0
	for i := range ids {
		if ids[i].System == system {
			v = ids[i].Value
			n++
		}
	}
	if n > 1 {
		c.Fail(path+suffix, "more than one identifier with system %s", system)
	}
	return v
}

// RequireIdentifier is Identifier for an identifier that must be present.
func (c *BundleContext) RequireIdentifier(ids []fhir.Identifier, system, path string) string {
	return c.RequireIdentifierAt(ids, system, path, "")
}

// RequireIdentifierAt is RequireIdentifier recording a problem at
// path+suffix, joined only then.
func (c *BundleContext) RequireIdentifierAt(ids []fhir.Identifier, system, path, suffix string) string {
	v := c.IdentifierAt(ids, system, path, suffix)
	if v == "" {
		c.Fail(path+suffix, "missing mandatory identifier with system %s", system)
	}
	return v
}

// Extension returns the only extension with a URL, or nil; more than one is
// recorded as a problem at path.
func (c *BundleContext) Extension(exts []fhir.Extension, url, path string) *fhir.Extension {
	return c.ExtensionAt(exts, url, path, "")
}

// ExtensionAt is Extension recording a problem at path+suffix, joined only
// then (most lists hold one extension of a URL, and the path is not
// needed).
func (c *BundleContext) ExtensionAt(exts []fhir.Extension, url, path, suffix string) *fhir.Extension {
	var found *fhir.Extension
	for i := range exts {
		if exts[i].URL == url {
			if found != nil {
				c.Fail(path+suffix, "more than one extension %s", url)
				return found
			}
			found = &exts[i]
		}
	}
	return found
}

// Coding returns the only coding of a system in the concepts, or nil; more
// than one is recorded as a problem at path.
func (c *BundleContext) Coding(ccs []fhir.CodeableConcept, system, path string) *fhir.Coding {
	return c.CodingAt(ccs, system, path, "")
}

// CodingOf is Coding over the one concept cc at path (a problem is
// recorded at path.coding), without the copy of the concept, and the path
// joined, that a call of Coding would need.
func (c *BundleContext) CodingOf(cc *fhir.CodeableConcept, system, path string) *fhir.Coding {
	if cc == nil {
		return nil
	}
	return c.CodingAt(unsafe.Slice(cc, 1), system, path, ".coding")
}

// CodingAt is Coding recording a problem at path+suffix, joined only
// then.
func (c *BundleContext) CodingAt(ccs []fhir.CodeableConcept, system, path, suffix string) *fhir.Coding {
	var found *fhir.Coding
	for i := range ccs {
		for j := range ccs[i].Coding {
			if ccs[i].Coding[j].System == system {
				if found != nil {
					c.Fail(path+suffix, "more than one coding with system %s", system)
					return found
				}
				found = &ccs[i].Coding[j]
			}
		}
	}
	return found
}

// Indexed formats "path[i]".
func Indexed(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// lazyPath is a FHIR path joined only when a problem is recorded there:
// base+field, then "[i]" when i is not negative. Writers pass one where
// they would join a path for every element they write (a telecom, an
// address, a name) and need it only for a refusal.
type lazyPath struct {
	base, field string
	i           int
}

// pathOf is the lazyPath of a path already joined.
func pathOf(path string) lazyPath { return lazyPath{base: path, i: -1} }

// String joins the path.
func (p lazyPath) String() string {
	if p.i < 0 {
		return p.base + p.field
	}
	return Indexed(p.base+p.field, p.i)
}

// UpperUUID is the function UpperUUID remembering the copies it makes for
// the message: an id a message names twice (a dispense notification's
// message id, its dispense item numbers) is copied in upper case once.
func (c *BundleContext) UpperUUID(s string) string {
	for i := 0; i < c.uppers; i++ {
		if c.upperFrom[i] == s {
			return c.upperTo[i]
		}
	}
	u := UpperUUID(s)
	if u != s && c.uppers < len(c.upperFrom) {
		c.upperFrom[c.uppers], c.upperTo[c.uppers] = s, u
		c.uppers++
	}
	return u
}

// UpperUUID upper-cases an id when it is a UUID, as Spine writes them: s
// itself when it has no lower-case letter, else one copy. The shape and
// the case are read in one pass over a table (IsUUID's checks, then a
// second scan for a lower-case letter, cost several times more: a
// dispense notification upper-cases a dozen ids).
func UpperUUID(s string) string {
	if ok, lower := uuidCase(s); !ok || !lower {
		return s
	}
	var b [36]byte
	copy(b[:], s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b[:])
}

// LowerID is strings.ToLower(s) for the ids a message carries: s itself
// when it has no upper-case letter, else, when it is ASCII, one copy
// lowered in place (strings.ToLower writes an ASCII string byte by byte
// through a Builder, several times the cost for a UUID), and anything
// else through strings.ToLower.
func LowerID(s string) string {
	i := 0
	// Eight bytes at a time while they are ASCII without a capital, as a
	// fresh id is all through (it was about 180 instructions a UUID byte
	// by byte, for each of a release response's some 500 ids): a byte b
	// below 0x80 is a capital when b+0x3f reaches 0x80 (b >= 'A') and
	// b+0x25 does not (b <= 'Z'), neither sum carrying into the next byte.
	const each, high = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		if x&high != 0 || (x+(0x80-'A')*each)&^(x+(0x7f-'Z')*each)&high != 0 {
			break // the bytes are read one by one from here
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return strings.ToLower(s)
		} else if 'A' <= c && c <= 'Z' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return unsafe.String(&b[0], len(b)) // b is not kept: the string owns it
}

// IsUUID reports whether s has the 8-4-4-4-12 hexadecimal shape of a UUID.
func IsUUID(s string) bool {
	ok, _ := uuidCase(s)
	return ok
}

// uuidCase reports whether s has the shape of a UUID and, if so, whether
// it has a lower-case hexadecimal letter.
func uuidCase(s string) (ok, lower bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false, false
	}
	all, anyOf := uint8(hexDigit), uint8(0)
	for _, seg := range [...][2]uint8{{0, 8}, {9, 13}, {14, 18}, {19, 23}, {24, 36}} {
		for i := seg[0]; i < seg[1]; i++ {
			k := hexClass[s[i]]
			all &= k
			anyOf |= k
		}
	}
	return all != 0, anyOf&hexLower != 0
}

// hexClass classes bytes: hexDigit for a hexadecimal digit, with hexLower
// for a lower-case letter a to f; 0 for any other byte.
var hexClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = hexDigit
	}
	for c := 'A'; c <= 'F'; c++ {
		t[c] = hexDigit
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = hexDigit | hexLower
	}
	return t
}()

const (
	hexDigit = 1 << iota
	hexLower
)
