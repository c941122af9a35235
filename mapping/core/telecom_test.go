package core

import (
	"strings"
	"testing"
)

// TestTelecomValueToV3 checks the v3 telecom value against the rule it
// keeps: every white space strings.Fields sees taken out (Unicode spaces
// included), then the tel: scheme added unless it is there.
func TestTelecomValueToV3(t *testing.T) {
	for _, v := range []string{
		"", "01234567890", "tel:01234567890", "0123 456 7890", "\t01234\r\n567890\v\f",
		"tel: 0123", "0123\u00a0456", "0123\u0085456", "0123\u2003456", "0123\u3000",
		"tél:0123", "mailto:a@b.c", " tel:0123",
	} {
		want := strings.Join(strings.Fields(v), "")
		if !strings.HasPrefix(want, "tel:") {
			want = "tel:" + want
		}
		if got := TelecomValueToV3(v); got != want {
			t.Errorf("TelecomValueToV3(%q) = %q, want %q", v, got, want)
		}
	}
}
