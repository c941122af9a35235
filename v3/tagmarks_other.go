//go:build !amd64 || purego

package v3

// marksTags is tagmarks_amd64.go's: no tag is read by markTag or markEnd.
const marksTags = false

// markTag is tagmarks_amd64.go's on other architectures (and with the
// purego tag): it reads no tag, and plainTag reads every tag a word at a
// time (plainTagWords).
func markTag(string, int, int, *tagMarks) int { return 0 }

// markEnd is tagmarks_amd64.go's on other architectures (and with the
// purego tag): it reads no end tag, and document reads every one as
// before.
func markEnd(string, int, int, int, *tagMarks) int { return 0 }
