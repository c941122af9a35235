package fhir

// specialRun returns the index of the first byte of b that is a quote, a
// backslash, a control byte or one of 0x80 or more, looking at b sixteen
// bytes at a time (SSE2, json_str_amd64.s), in its whole blocks of
// sixteen only: when none of them holds one, the index after the last.
//
//go:noescape
func specialRun(b []byte) int
