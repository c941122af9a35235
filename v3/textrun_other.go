//go:build !amd64 || purego

package v3

// textRun is textrun_amd64.go's on other architectures (and with the
// purego tag): it looks at no block, and chars reads the run eight bytes
// at a time from its start.
func textRun(string, uint64) int { return 0 }
