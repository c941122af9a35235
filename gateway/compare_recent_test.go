package gateway

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	v3 "github.com/porxgate/porxgate/v3"
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

// TestUntriedHoldsNoPayload: the prescription ids comparison mode keeps
// for skipped shadow runs are copies: read out of the request, they
// shared its memory, and each kept id held its whole payload (up to 4
// MiB) for as long as it was remembered: 20 skipped runs of 1 MiB held
// 20 MiB.
func TestUntriedHoldsNoPayload(t *testing.T) {
	p := comparingOf(NewComparing(CompareConfig{Primary: "fhir"}, newFakeProcessor(), &compare.Legacy{URL: "http://127.0.0.1:1"}, nil, NewMetrics(), quietLog()))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range 20 {
		payload := []byte(fmt.Sprintf(`<PORX_IN030101UK32 xmlns="urn:hl7-org:v3"><id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="A1B2C3-A99968-4DCF%02d"/><note>`, i) +
			strings.Repeat("x", 1<<20) + `</note></PORX_IN030101UK32>`)
		p.untry(t.Context(), shadowJob{in: Inbound{Interaction: v3.CancelRequest, MessageID: fmt.Sprint(i), Payload: payload}}, "skipped", "test")
	}
	after := heap()
	if n := len(p.memory.(*localMemory).untriedIDs.at); n != 20 {
		t.Fatalf("%d prescriptions remembered, want 20", n)
	}
	if grown := int64(after) - int64(before); grown > 4<<20 {
		t.Errorf("20 remembered prescriptions hold %d KiB", grown>>10)
	}
}
