package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestPayloadDigestCopiesNothing checks that a payload's digest is the
// first half of its SHA-256 in hex, and that taking it allocates the hex
// string alone: the payload (a 14 KB prescription) is not copied to be
// hashed, as it was for every legacy request step recorded.
func TestPayloadDigestCopiesNothing(t *testing.T) {
	tests := []struct {
		name, body string
	}{
		{"empty", ""},
		{"short", "<PORX_IN020101UK31/>"},
		{"a prescription's size", strings.Repeat("<component>café</component>", 14000/27)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum := sha256.Sum256([]byte(tt.body))
			if got, want := payloadDigest(tt.body), hex.EncodeToString(sum[:16]); got != want {
				t.Fatalf("digest %s, want %s", got, want)
			}
			if allocs := testing.AllocsPerRun(50, func() { payloadDigest(tt.body) }); allocs > 1 {
				t.Errorf("%.0f allocations a digest, want at most 1 (its hex string)", allocs)
			}
		})
	}
}
