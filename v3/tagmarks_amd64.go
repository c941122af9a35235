//go:build !purego

package v3

import "unsafe"

// marksTags is whether markTag and markEnd read tags (amd64, unless built
// with the purego tag, which tests the Go readers alone).
const marksTags = true

// markTag reads the start tag at src[i:] (after its '<') when it is
// written the plain way plainTag reads (see plainTag) and has at most
// maxN attributes, its value bytes printable ASCII (no tab or line feed,
// which plainTagWords reads), every sixteen-byte block it looks at within
// src; it writes where the parts are into m and returns the index after
// the tag's '>', and the usual indentation after it (tagMarks.textEnd).
// For any other tag it returns 0, and what it wrote into m means nothing.
// Sixteen bytes a step (SSE2, tagmarks_amd64.s).
//
//go:noescape
func markTag(src string, i, maxN int, m *tagMarks) (end int)

// markEnd reads the end tag at src[i:] ("</" at i) when it closes the
// element whose name stands at src[at:at+n] (at before i), with white
// space at most before its '>', every sixteen-byte block it looks at
// within src; it returns the index after the '>', and marks the usual
// indentation after it (m.textFrom and m.textEnd) as markTag does. For
// any other end tag it returns 0, and what it wrote into m means nothing.
// Sixteen bytes a step (SSE2, tagmarks_amd64.s).
//
//go:noescape
func markEnd(src string, i, at, n int, m *tagMarks) (end int)

// The offsets tagmarks_amd64.s writes at: each pair of array lengths must
// be 0 (a layout that differs fails the build).
var (
	_ [unsafe.Offsetof(tagMarks{}.n) - 32]struct{}
	_ [32 - unsafe.Offsetof(tagMarks{}.n)]struct{}
	_ [unsafe.Offsetof(tagMarks{}.flags) - 40]struct{}
	_ [40 - unsafe.Offsetof(tagMarks{}.flags)]struct{}
	_ [unsafe.Offsetof(tagMarks{}.textFrom) - 48]struct{}
	_ [48 - unsafe.Offsetof(tagMarks{}.textFrom)]struct{}
	_ [unsafe.Offsetof(tagMarks{}.textEnd) - 56]struct{}
	_ [56 - unsafe.Offsetof(tagMarks{}.textEnd)]struct{}
	_ [unsafe.Offsetof(tagMarks{}.attr) - 64]struct{}
	_ [64 - unsafe.Offsetof(tagMarks{}.attr)]struct{}
	_ [unsafe.Sizeof(attrMarks{}) - 48]struct{}
	_ [48 - unsafe.Sizeof(attrMarks{})]struct{}
	_ [unsafe.Offsetof(attrMarks{}.keyStart) - 16]struct{}
	_ [16 - unsafe.Offsetof(attrMarks{}.keyStart)]struct{}
	_ [unsafe.Offsetof(attrMarks{}.valStart) - 32]struct{}
	_ [32 - unsafe.Offsetof(attrMarks{}.valStart)]struct{}
	_ [unsafe.Offsetof(attrMarks{}.valLen) - 40]struct{}
	_ [40 - unsafe.Offsetof(attrMarks{}.valLen)]struct{}
)
