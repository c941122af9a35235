package gateway

import (
	"log/slog"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestGCShare: the collector's share of the CPU the program used between
// two collections, from the runtime's figures.
func TestGCShare(t *testing.T) {
	base := gcFigures{busy: 1, used: 10, cycles: 5}
	tests := []struct {
		name string
		to   gcFigures
		want float64
	}{
		{"a quarter", gcFigures{busy: 2, used: 14, cycles: 6}, 0.25},
		{"several collections", gcFigures{busy: 4, used: 16, cycles: 9}, 0.5},
		{"no collection since", gcFigures{busy: 1, used: 10, cycles: 5}, 0},
		{"no CPU used", gcFigures{busy: 2, used: 10, cycles: 6}, 0},
		{"figures going back", gcFigures{busy: 0.5, used: 12, cycles: 6}, 0},
		{"all of it, overestimated", gcFigures{busy: 5, used: 12, cycles: 6}, 1},
	}
	for _, tt := range tests {
		if got := gcShare(base, tt.to); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestGCNearLimit: only a soft memory limit set and nearly reached counts.
func TestGCNearLimit(t *testing.T) {
	tests := []struct {
		name         string
		inUse, limit uint64
		want         bool
	}{
		{"no limit", 1 << 30, math.MaxInt64, false},
		{"limit unknown", 1 << 30, 0, false},
		{"half", 50 << 20, 100 << 20, false},
		{"just below", 89 << 20, 100 << 20, false},
		{"at 90 %", 90 << 20, 100 << 20, true},
		{"past it", 120 << 20, 100 << 20, true},
	}
	for _, tt := range tests {
		if got := (gcFigures{inUse: tt.inUse, limit: tt.limit}).nearLimit(); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestGCPressureObserve: the first reading only sets the base; a reading
// with collections ended since gives their share; without one for
// gcQuiet the share falls to 0, so that doors that stopped the allocation
// (shedding) take messages again; and messages are refused only past the
// bound with the memory near the limit.
func TestGCPressureObserve(t *testing.T) {
	near := func(busy, used float64, cycles uint64) gcFigures {
		return gcFigures{busy: busy, used: used, cycles: cycles, inUse: 95, limit: 100}
	}
	p := newGCPressure(30, slog.New(slog.DiscardHandler))
	t0 := time.Unix(1000, 0)
	steps := []struct {
		name  string
		f     gcFigures
		at    time.Duration
		share float64
		over  bool
	}{
		{"first reading", near(50, 100, 10), 0, 0, false},
		{"collections at 40 %", near(54, 110, 12), 200 * time.Millisecond, 0.4, true},
		{"none since, within gcQuiet", near(54, 110, 12), 900 * time.Millisecond, 0.4, true},
		{"none for gcQuiet", near(54, 110, 12), 1300 * time.Millisecond, 0, false},
		{"collections at 20 %", near(56, 120, 13), 1400 * time.Millisecond, 0.2, false},
		{"at 50 %, memory not near the limit", gcFigures{busy: 61, used: 130, cycles: 14, inUse: 50, limit: 100}, 1500 * time.Millisecond, 0.5, false},
		{"at 50 %, near it again", near(66, 140, 15), 1600 * time.Millisecond, 0.5, true},
	}
	for _, s := range steps {
		p.mu.Lock()
		p.observe(s.f, t0.Add(s.at))
		share, nearLimit := p.share, p.near
		p.mu.Unlock()
		over := p.max > 0 && nearLimit && share > p.max
		if math.Abs(share-s.share) > 1e-9 || over != s.over {
			t.Errorf("%s: share %v over %v, want %v %v", s.name, share, over, s.share, s.over)
		}
	}
}

// TestReadGCFigures: the figures read from the runtime move as a
// collection ends, and carry the soft memory limit set.
func TestReadGCFigures(t *testing.T) {
	s := newGCSamples()
	before := readGCFigures(s)
	runtime.GC()
	after := readGCFigures(s)
	if after.cycles <= before.cycles {
		t.Errorf("collections %d then %d, want more after runtime.GC", before.cycles, after.cycles)
	}
	if after.busy <= before.busy || after.used < after.busy || after.inUse == 0 {
		t.Errorf("figures after a collection: %+v (before %+v), want the collector's CPU grown, within the CPU used, memory in use", after, before)
	}
	if want := uint64(debug.SetMemoryLimit(-1)); after.limit != want {
		t.Errorf("limit %d, want the runtime's %d", after.limit, want)
	}
}
