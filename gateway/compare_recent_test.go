package gateway

import (
	"fmt"
	"testing"
	"time"
)

// TestRecentSet: a key is remembered for its ttl and no longer; past max
// keys the oldest is forgotten first; a key remembered again many times
// does not grow the set's order without bound.
func TestRecentSet(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		run  func(s *recentSet) (key string, at time.Time)
		want bool
	}{
		{"within its ttl", func(s *recentSet) (string, time.Time) { s.add("a", "", t0); return "a", t0.Add(59 * time.Minute) }, true},
		{"past its ttl", func(s *recentSet) (string, time.Time) { s.add("a", "", t0); return "a", t0.Add(time.Hour) }, false},
		{"the oldest past max", func(s *recentSet) (string, time.Time) {
			for i := range 4 {
				s.add(fmt.Sprint(i), "", t0.Add(time.Duration(i)))
			}
			return "0", t0.Add(time.Second)
		}, false},
		{"the newest within max", func(s *recentSet) (string, time.Time) {
			for i := range 4 {
				s.add(fmt.Sprint(i), "", t0.Add(time.Duration(i)))
			}
			return "3", t0.Add(time.Second)
		}, true},
		{"remembered again: its ttl from then", func(s *recentSet) (string, time.Time) {
			s.add("a", "", t0)
			s.add("a", "", t0.Add(30*time.Minute))
			return "a", t0.Add(80 * time.Minute)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRecentSet(3, time.Hour)
			key, at := tt.run(s)
			if _, got := s.get(key, at); got != tt.want {
				t.Errorf("get(%q) = %v, want %v", key, got, tt.want)
			}
		})
	}
	s := newRecentSet(3, time.Hour)
	if !s.add("a", "", t0) || s.add("a", "", t0.Add(time.Second)) {
		t.Error("add: the first time new, the second not")
	}
	for i := range 10_000 {
		s.add("a", "", t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(s.fifo); n > 2*len(s.at)+64 {
		t.Errorf("a key remembered 10000 times holds %d entries", n)
	}
}
