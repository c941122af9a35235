package v3

import (
	"testing"

	"github.com/beevik/etree"
)

// TestScannedName checks where ScannedName says an element's name stands:
// after "<" or its prefix's ':' in the message the Space read, and
// nowhere for an element the scanner did not read.
func TestScannedName(t *testing.T) {
	const doc = `<r xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"><s a="1">x</s><hl7:s/></r>`
	sp := NewScratch().Get()
	_, root, err := sp.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	kids := root.El.ChildElements()
	for i, want := range []int{len(`<r xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"><`), len(`<r xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"><s a="1">x</s><hl7:`)} {
		src, at := sp.ScannedName(kids[i])
		if at != want || string(src) != doc || string(src[at:at+1]) != "s" {
			t.Errorf("element %d at %d, want %d", i, at, want)
		}
	}
	var nilSpace *Space
	made := etree.NewElement("s")
	for name, at := range map[string]int{
		"no Space":        func() int { _, at := nilSpace.ScannedName(kids[0]); return at }(),
		"made":            func() int { _, at := sp.ScannedName(made); return at }(),
		"nil":             func() int { _, at := sp.ScannedName(nil); return at }(),
		"another Space's": func() int { _, at := NewScratch().Get().ScannedName(kids[0]); return at }(),
	} {
		if at != -1 {
			t.Errorf("%s element at %d, want -1", name, at)
		}
	}
	// A message etree's reader read (the scanner leaves a DOCTYPE to it).
	sp2 := NewScratch().Get()
	_, root2, err := sp2.Parse([]byte(`<!DOCTYPE r>` + doc))
	if err != nil {
		t.Fatal(err)
	}
	if _, at := sp2.ScannedName(root2.El.ChildElements()[0]); at != -1 {
		t.Errorf("element etree read at %d, want -1", at)
	}
}

// TestStartTagEnd checks where a start tag ends: at its own '>', not one
// in a quoted attribute value; -1 when there is none.
func TestStartTagEnd(t *testing.T) {
	for _, tt := range []struct {
		tag  string
		want int
	}{
		{`<s>x`, 2},
		{`<s a="1" b='2'>`, 14},
		{`<s a="x>y" b='>'/>`, 17},
		{`<s a='"'>`, 8},
		{`<s a="x>y`, -1},
		{`<s`, -1},
	} {
		if got := StartTagEnd([]byte(tt.tag), 2); got != tt.want {
			t.Errorf("StartTagEnd(%q) = %d, want %d", tt.tag, got, tt.want)
		}
	}
}
