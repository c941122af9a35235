package fhir

import "unsafe"

// copyPlain copies the n bytes at src to dst, looking at them sixteen at
// a time (SSE2, json_encode_str_amd64.s) for a byte a JSON string may not
// hold as it is (notASCIIPlain); false when one does. It may write up to
// sixteen bytes at dst however short the string (the caller leaves room,
// plainRoom) and reads nothing past the string that is on another page.
//
//go:noescape
func copyPlain(dst, src unsafe.Pointer, n int) bool
