//go:build !purego

package v3

// textRun returns the index of the first byte of s that chars must look
// at: '&', '<', the byte thirds holds in each of its eight (the run's
// closing quote, or '>' in text), a control byte (a tab and a line feed
// included) or one of 0x80 or more; looking at s sixteen bytes at a time
// (SSE2, textrun_amd64.s), in its whole blocks of sixteen only: when none
// of them holds one, the index after the last.
//
//go:noescape
func textRun(s string, thirds uint64) int
