package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestParsePersistDurations(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]time.Duration
		wantErr string
	}{
		{"", map[string]time.Duration{}, ""},
		{" PORX_IN020101SM31 = 1h ,, PORX_IN080101UK31=30m ", map[string]time.Duration{"PORX_IN020101UK31": time.Hour, "PORX_IN080101UK31": 30 * time.Minute}, ""},
		{"PORX_IN020101UK31", nil, "want INTERACTION=duration"},
		{"PORX_IN020101XX31=1h", nil, "unknown family"},
		{"PORX_IN020101UK31=soon", nil, "invalid duration"},
		{"PORX_IN020101UK31=0s", nil, "must be positive"},
		{"PORX_IN020101UK31=-1m", nil, "must be positive"},
		// SDS writes nhsMHSPersistDuration in ISO 8601; it was refused.
		{"PORX_IN020101UK31=PT1H,PORX_IN080101UK31=PT30M", map[string]time.Duration{"PORX_IN020101UK31": time.Hour, "PORX_IN080101UK31": 30 * time.Minute}, ""},
		// The UK and SM ids of one interaction share a window: two values
		// for it kept the last in silence.
		{"PORX_IN020101UK31=1h,PORX_IN020101SM31=2h", nil, "PORX_IN020101UK31 has 1h0m0s already"},
		{"PORX_IN020101UK31=1h,PORX_IN020101SM31=PT1H", map[string]time.Duration{"PORX_IN020101UK31": time.Hour}, ""},
	}
	for _, tt := range tests {
		got, err := ParsePersistDurations(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePersistDurations(%q) err = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("ParsePersistDurations(%q) = %v, %v", tt.in, got, err)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("ParsePersistDurations(%q)[%s] = %s, want %s", tt.in, k, got[k], v)
			}
		}
	}
}

// FuzzParsePersistDurations checks that no input panics and that every
// accepted entry is a positive duration under a UK-family id.
func FuzzParsePersistDurations(f *testing.F) {
	f.Add("PORX_IN020101UK31=1h,PORX_IN080101SM31=30m")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParsePersistDurations(s)
		if err != nil {
			return
		}
		for id, d := range m {
			if d <= 0 || !strings.Contains(id, "UK") {
				t.Fatalf("accepted %s=%s", id, d)
			}
		}
	})
}
