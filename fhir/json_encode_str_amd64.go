package fhir

// appendPlain appends s to buf as a JSON string, quoted, where buf has
// room for it and sixteen bytes more (plainRoom) and s holds no byte a
// JSON string may not hold as it is (notASCIIPlain); otherwise it returns
// buf as it was (appendString then takes its slow way). It looks at s
// sixteen bytes at a time as it copies them (SSE2,
// json_encode_str_amd64.s) and reads nothing past s that is on another
// page.
//
//go:noescape
func appendPlain(buf []byte, s string) []byte
