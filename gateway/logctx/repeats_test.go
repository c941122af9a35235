package logctx

import (
	"fmt"
	"testing"
	"time"
)

func TestRepeats(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := &Repeats{Now: func() time.Time { return now }}
	steps := []struct {
		line    string
		advance time.Duration
		write   bool
		held    int
	}{
		{"a", 0, true, 0},
		{"a", time.Second, false, 0},
		{"b", 0, true, 0},
		{"a", 30 * time.Second, false, 0},
		{"a", DefaultQuiet, true, 2},
		{"a", time.Second, false, 0},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		held, write := r.Note(s.line)
		if write != s.write || held != s.held {
			t.Errorf("step %d (%s): write %v held %d, want %v %d", i, s.line, write, held, s.write, s.held)
		}
	}
	// More distinct lines at once than it remembers: each still written.
	for i := range 2 * repeatsSeen {
		if _, write := r.Note(fmt.Sprint("line ", i)); !write {
			t.Fatalf("distinct line %d held back", i)
		}
	}
	if _, write := (&Repeats{Quiet: -1}).Note("x"); !write {
		t.Error("negative Quiet held a line back")
	}
}
