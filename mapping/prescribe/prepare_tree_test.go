package prescribe

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestPrepareFromTreeAsReadBack checks that $prepare's parameters taken
// from the ParentPrescription as built alone (without the transmission
// wrapper) equal those of the whole v3 message serialised and read back,
// signed and unsigned, for every corpus $prepare and Send request and the
// project's own prescriptions, and that the tree is used for all of them.
func TestPrepareFromTreeAsReadBack(t *testing.T) {
	now := time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC)
	bundles := ownPrescriptions(t)
	bundles = append(bundles, corpustest.Files(t, func(rel string) bool {
		base := filepath.Base(rel)
		return strings.Contains(base, "Prepare-Request") || strings.HasSuffix(base, "-Process-Request-Send-200_OK.json")
	})...)
	compared := 0
	for i, raw := range bundles {
		b, err := fhir.ParseBundle(raw)
		if err != nil {
			continue
		}
		env := core.Env{Now: now, NewID: func() string { return "00000000-0000-4000-8000-000000000000" }}
		built, err := buildPrescription(nil, b, prescribeInteraction(core.Meta{}, env), core.Meta{}, env)
		tree, terr := buildParentPrescription(nil, b, prescribeInteraction(core.Meta{}, env), env)
		if (err == nil) != (terr == nil) || err != nil && err.Error() != terr.Error() {
			t.Errorf("bundle %d: the message refused with %v, the ParentPrescription alone with %v", i, err, terr)
		}
		if err != nil {
			continue // refused the same way on both paths
		}
		for _, opts := range [][]v3.FragmentsOption{nil, {v3.WithAuthorTime(now)}} {
			fromTree, ok := prepareFromTree(tree, v3.DigestSHA256, opts)
			if !ok {
				t.Errorf("bundle %d: the tree was not used", i)
				continue
			}
			readBack, err := prepareReadBack(built, v3.DigestSHA256, opts)
			if err != nil {
				t.Fatalf("bundle %d: %v", i, err)
			}
			if fromTree != readBack {
				t.Errorf("bundle %d: from the tree %+v, read back %+v", i, fromTree, readBack)
			}
			compared++
		}
	}
	if compared == 0 {
		t.Fatal("nothing compared")
	}
}

// TestSameWhenReadBack: what makes $prepare serialise and read back
// rather than take the tree as built.
func TestSameWhenReadBack(t *testing.T) {
	el := func(build func(e *etree.Element)) *etree.Element {
		e := etree.NewElement("ParentPrescription")
		build(e)
		return e
	}
	tests := []struct {
		name string
		el   *etree.Element
		want bool
	}{
		{"plain", el(func(e *etree.Element) {
			v3.AddText(e, "text", "Paracetamol 500mg & <co> 'é' \"x\"")
			v3.AddValue(e, "time", "20240607080910")
		}), true},
		{"LF and tab in text", el(func(e *etree.Element) { v3.AddText(e, "text", "a\n\tb") }), true},
		{"CR in text", el(func(e *etree.Element) { v3.AddText(e, "text", "a\r\nb") }), false},
		{"LF in attribute", el(func(e *etree.Element) { v3.Add(e, "code", "displayName", "a\nb") }), false},
		{"tab in attribute", el(func(e *etree.Element) { v3.Add(e, "code", "displayName", "a\tb") }), false},
		{"invalid UTF-8", el(func(e *etree.Element) { v3.AddText(e, "text", "a\xffb") }), false},
		{"non-character", el(func(e *etree.Element) { v3.AddText(e, "text", "a\uFFFEb") }), false},
		{"text beside elements", el(func(e *etree.Element) { e.CreateText("x"); v3.Add(e, "id") }), false},
		{"comment", el(func(e *etree.Element) { e.CreateComment("c") }), false},
		{"cdata", el(func(e *etree.Element) { e.CreateCData("c") }), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameWhenReadBack(tc.el, nil); got != tc.want {
				t.Errorf("sameWhenReadBack = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("skipped signatureText", func(t *testing.T) {
		e := etree.NewElement("author")
		st := v3.Add(e, "signatureText")
		st.CreateComment(core.SignatureMarker)
		if !sameWhenReadBack(e, st) {
			t.Error("the signature's marker counted")
		}
		if sameWhenReadBack(e, nil) {
			t.Error("a comment passed")
		}
	})
}

// FuzzPrepareFromTree checks, for whatever Bundle it is given, that when
// $prepare takes the fragments from the tree as built they are those of the
// serialised v3 read back (seeds: the project's own prescriptions).
func FuzzPrepareFromTree(f *testing.F) {
	for _, b := range ownPrescriptions(f) {
		f.Add(b)
	}
	now := time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := fhir.ParseBundle(raw)
		if err != nil {
			return
		}
		env := core.Env{Now: now, NewID: func() string { return "00000000-0000-4000-8000-000000000000" }}
		built, err := buildPrescription(nil, b, prescribeInteraction(core.Meta{}, env), core.Meta{}, env)
		if err != nil {
			return
		}
		tree, err := buildParentPrescription(nil, b, prescribeInteraction(core.Meta{}, env), env)
		if err != nil {
			t.Fatalf("the message was built, the ParentPrescription alone refused: %v", err)
		}
		opts := []v3.FragmentsOption{v3.WithAuthorTime(now)}
		fromTree, ok := prepareFromTree(tree, v3.DigestSHA256, opts)
		if !ok {
			return
		}
		readBack, err := prepareReadBack(built, v3.DigestSHA256, opts)
		if err != nil {
			t.Fatalf("the tree gave %+v, reading back failed: %v", fromTree, err)
		}
		if fromTree != readBack {
			t.Fatalf("from the tree %+v, read back %+v", fromTree, readBack)
		}
	})
}

// TestPlainXMLText checks plainXMLText against its byte loop alone
// (plainXMLTextFrom from the start, as plainXMLText was before it looked at
// eight bytes at once) for each byte value at each place of the first
// three words, after them and in the last bytes (which plainXMLText reads
// as one word overlapping the one before), and for characters of several
// bytes across those places, in text and attribute values.
func TestPlainXMLText(t *testing.T) {
	cases := []string{"", "plain", "2.16.840.1.113883.2.1.3.2.4.18.8", "tab\there", "line\nend", "cr\rhere",
		"caf\u00e9 \u2028", "\xff", "a\uFFFEb", "a\uFFFDb", "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "&<>\"' &amp;"}
	for c := 0; c < 256; c++ {
		for at := 0; at < 25; at++ {
			cases = append(cases, strings.Repeat("p", at)+string([]byte{byte(c)})+"plain text after")
			// Near the end too, where the last eight bytes are one load
			// overlapping the words before, and in strings under eight.
			for after := 0; after < 10; after++ {
				cases = append(cases, strings.Repeat("p", at)+string([]byte{byte(c)})+strings.Repeat("q", after))
			}
		}
	}
	for at := 0; at < 25; at++ {
		for after := 0; after < 10; after++ {
			for _, r := range []string{"é", " ", "😀", "￾", "Ã", "â", "	", ""} {
				cases = append(cases, strings.Repeat("p", at)+r+strings.Repeat("q", after))
			}
		}
	}
	for _, s := range cases {
		for _, text := range []bool{false, true} {
			if got, want := plainXMLText(s, text), plainXMLTextFrom(s, 0, text); got != want {
				t.Errorf("plainXMLText(%q, %v) = %v, want %v", s, text, got, want)
			}
		}
	}
}
