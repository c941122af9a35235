package retry

import (
	"testing"
	"time"
)

func TestExponentialNth(t *testing.T) {
	tests := []struct {
		name string
		e    Exponential
		n    int
		want time.Duration
	}{
		{"first", Exponential{30 * time.Second, 15 * time.Minute}, 1, 30 * time.Second},
		{"zero counts as first", Exponential{30 * time.Second, 15 * time.Minute}, 0, 30 * time.Second},
		{"negative counts as first", Exponential{30 * time.Second, 15 * time.Minute}, -3, 30 * time.Second},
		{"doubles", Exponential{30 * time.Second, 15 * time.Minute}, 3, 2 * time.Minute},
		{"capped", Exponential{30 * time.Second, 15 * time.Minute}, 6, 15 * time.Minute},
		{"far past the cap", Exponential{5 * time.Minute, 6 * time.Hour}, 10000, 6 * time.Hour},
		{"just below the cap", Exponential{5 * time.Minute, 6 * time.Hour}, 7, 5*time.Hour + 20*time.Minute},
		{"max below first", Exponential{time.Minute, time.Second}, 1, time.Second},
		{"zero first", Exponential{0, time.Second}, 4, 0},
		{"zero max", Exponential{time.Second, 0}, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Nth(tt.n); got != tt.want {
				t.Fatalf("Nth(%d) = %s, want %s", tt.n, got, tt.want)
			}
		})
	}
}

func TestExponentialNewSequence(t *testing.T) {
	b := Exponential{200 * time.Millisecond, time.Second}.New()
	want := []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := b.NextBackOff(); got != w {
			t.Fatalf("wait %d = %s, want %s", i+1, got, w)
		}
	}
}
