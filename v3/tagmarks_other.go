//go:build !amd64

package v3

// markTag is tagmarks_amd64.go's on other architectures: it reads no tag,
// and plainTag reads every tag a word at a time (plainTagWords).
func markTag(string, int, int, *tagMarks) int { return 0 }
