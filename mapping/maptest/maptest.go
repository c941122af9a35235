// Package maptest holds what the tests of mapping's packages share: the
// project's own test messages (the repository's testdata folder, found from
// this file so a test reads it from any package depth) and FHIR values shaped
// as the EPS API writes them. It imports no mapping package, so every one of
// them, the shared core included, may use it in its tests.
package maptest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
)

// Testdata returns a file of the repository's testdata folder by its path
// under it (such as "release/release_request.xml"), failing the test when it
// cannot be read.
func Testdata(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(TestdataDir(), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("testdata %s: %v", rel, err)
	}
	return b
}

// TestdataDir returns the repository's testdata folder.
func TestdataDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "testdata"
	}
	// file is <repo>/mapping/maptest/maptest.go
	return filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(file))), "testdata")
}

// Issue returns an OperationOutcome issue as the EPS API writes it: a
// severity, an issue type, diagnostics and, when code is set, one coding of
// system.
func Issue(severity, issueType, system, code, display, diagnostics string) fhir.Issue {
	iss := fhir.Issue{Severity: severity, Code: issueType, Diagnostics: diagnostics}
	if code != "" {
		iss.Details = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: system, Code: code, Display: display}}}
	}
	return iss
}

// Descendants returns every element below el, in document order.
func Descendants(el *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		out = append(out, c)
		out = append(out, Descendants(c)...)
	}
	return out
}

// EachAttributeEmptied empties, one at a time, each attribute of el and of
// the elements below it (namespace declarations, and attributes already
// empty, aside), writes doc so, and calls f with the element, the attribute
// (emptied) and the document as written; the value is put back after each.
// It returns how many attributes it emptied.
func EachAttributeEmptied(t testing.TB, doc *etree.Document, el *etree.Element, f func(el *etree.Element, a *etree.Attr, variant []byte)) int {
	t.Helper()
	n := 0
	for _, e := range append([]*etree.Element{el}, Descendants(el)...) {
		for i := range e.Attr {
			a := &e.Attr[i]
			if a.Space == "xmlns" || a.Key == "xmlns" || a.Value == "" {
				continue
			}
			n++
			was := a.Value
			a.Value = ""
			variant, err := doc.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			f(e, a, variant)
			a.Value = was
		}
	}
	return n
}
