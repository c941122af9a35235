//go:build !purego

package prescribe

import "golang.org/x/sys/cpu"

// base64Blocks writes the base64 of n runs of twelve bytes at src as n
// runs of sixteen characters at dst, a run at a time (SSSE3,
// base64_amd64.s). It loads sixteen bytes a run: src must hold four bytes
// past the last run. Only where haveBase64Blocks.
//
//go:noescape
func base64Blocks(dst, src *byte, n int)

// haveBase64Blocks tells whether base64Blocks runs here (the CPU has
// SSSE3).
var haveBase64Blocks = cpu.X86.HasSSSE3
