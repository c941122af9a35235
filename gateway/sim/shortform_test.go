package sim

import (
	"strings"
	"testing"
)

func TestCheckShortFormID(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string
	}{
		{"24F5DA-A83008-7EFE6Z", ""},
		{"FB6EC1-A83008-DC0346", ""},
		{"1E5135-A99968-4595BT", ""},
		{"A0548B-A99968-451485", ""},
		{"269CA9-A99968-4577BP", "invalid checksum"}, // corpus INVALID_CHECKSUM example
		{"24F5DA-A83008-7EFE6Y", "invalid checksum"},
		{"24f5da-A83008-7EFE6Z", "hexadecimal"},
		{"24F5DA-a83008-7EFE6Z", "not 0-9A-Z"},
		{"24F5DAA83008-7EFE6Z", "want the shape"},
		{"", "want the shape"},
		{"24F5DA-A83008-7EFE6*", "invalid checksum"},
		{"24F5DA_A83008_7EFE6Z", "want the shape"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := checkShortFormID(tt.id)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("checkShortFormID(%q) = %v, want nil", tt.id, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("checkShortFormID(%q) = %v, want error containing %q", tt.id, err, tt.wantErr)
			}
		})
	}
}

func TestMakeShortFormID(t *testing.T) {
	for _, n := range []uint32{0, 1, 0xABCDEF, 0xFFFFFFFF} {
		for _, ods := range []string{"A83008", "FH542", "y12"} {
			id, err := MakeShortFormID(n, ods)
			if err != nil {
				t.Fatalf("MakeShortFormID(%d, %q): %v", n, ods, err)
			}
			if err := checkShortFormID(id); err != nil {
				t.Fatalf("MakeShortFormID(%d, %q) = %q: %v", n, ods, id, err)
			}
		}
	}
	for _, ods := range []string{"", "TOOLONG1", "A-1"} {
		if _, err := MakeShortFormID(1, ods); err == nil {
			t.Errorf("MakeShortFormID(1, %q) accepted a bad ODS code", ods)
		}
	}
}

func FuzzCheckShortFormID(f *testing.F) {
	for _, s := range []string{"24F5DA-A83008-7EFE6Z", "269CA9-A99968-4577BP", "", "------------------+-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if checkShortFormID(id) == nil {
			// A valid id must be exactly what MakeShortFormID-style ids are.
			if len(id) != 20 {
				t.Fatalf("accepted %q of length %d", id, len(id))
			}
		}
	})
}
