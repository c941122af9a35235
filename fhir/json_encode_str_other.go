//go:build !amd64

package fhir

import "unsafe"

// copyPlain is json_encode_str_amd64.go's on other architectures: a word
// at a time (copyPlainWords).
func copyPlain(dst, src unsafe.Pointer, n int) bool { return copyPlainWords(dst, src, n) }
