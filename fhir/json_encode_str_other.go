//go:build !amd64

package fhir

// appendPlain is json_encode_str_amd64.go's on other architectures: a
// word at a time (appendPlainWords).
func appendPlain(buf []byte, s string) []byte { return appendPlainWords(buf, s) }
