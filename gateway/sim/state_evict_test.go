package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStateCapacity: past the cap the oldest prescriptions are forgotten,
// newest kept; no cap keeps all; lowering the cap evicts at once.
func TestStateCapacity(t *testing.T) {
	tests := []struct {
		name      string
		cap, add  int
		wantLen   int
		wantEvict int
	}{
		{"under the cap", 5, 3, 3, 0},
		{"at the cap", 3, 3, 3, 0},
		{"over the cap", 3, 8, 3, 5},
		{"cap of one", 1, 4, 1, 3},
		{"no cap", -1, 20, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(nil)
			s.SetCapacity(tt.cap)
			var ids []rx
			for i := 0; i < tt.add; i++ {
				ids = append(ids, seed(t, s, uint32(i+1)))
			}
			if s.Len() != tt.wantLen || s.Evicted() != tt.wantEvict {
				t.Fatalf("Len %d Evicted %d, want %d and %d", s.Len(), s.Evicted(), tt.wantLen, tt.wantEvict)
			}
			for i, p := range ids {
				_, ok := s.Get(p.sf)
				if want := i >= tt.add-tt.wantLen; ok != want {
					t.Errorf("prescription %d kept %v, want %v", i, ok, want)
				}
			}
			if len(s.order)-s.head != s.Len() {
				t.Fatalf("order queue holds %d live ids for %d prescriptions", len(s.order)-s.head, s.Len())
			}
		})
	}
	s := NewState(nil)
	for i := 0; i < 10; i++ {
		seed(t, s, uint32(i+1))
	}
	s.SetCapacity(4)
	if s.Len() != 4 || s.Evicted() != 6 {
		t.Fatalf("after lowering the cap: Len %d Evicted %d", s.Len(), s.Evicted())
	}
}

// TestEvictedPrescriptionIsUnknown: a forgotten prescription is answered
// as EPS answers one it never had, and its id may be used again.
func TestEvictedPrescriptionIsUnknown(t *testing.T) {
	s := NewState(nil)
	s.SetCapacity(1)
	first := seed(t, s, 1)
	seed(t, s, 2)
	if _, err := s.lookup(first.sf); err == nil {
		t.Fatal("an evicted prescription was found")
	} else {
		wantReason(t, err, ReasonNotFound)
	}
}

// TestResolutionsBounded: cancel resolutions are numbered without gaps
// and only the newest maxResolutions are kept.
func TestResolutionsBounded(t *testing.T) {
	s := NewState(nil)
	for i := 0; i < maxResolutions+25; i++ {
		s.addResolution(CancelResolution{ShortFormID: fmt.Sprint(i)})
	}
	all := s.CancelResolutions(0)
	if len(all) != maxResolutions {
		t.Fatalf("%d resolutions kept, want %d", len(all), maxResolutions)
	}
	if all[0].Seq != 26 || all[len(all)-1].Seq != maxResolutions+25 {
		t.Fatalf("kept seq %d..%d", all[0].Seq, all[len(all)-1].Seq)
	}
	if got := s.CancelResolutions(maxResolutions + 20); len(got) != 5 {
		t.Fatalf("after seq %d: %d resolutions, want 5", maxResolutions+20, len(got))
	}
}

// BenchmarkStateMemory reports the heap a stored prescription costs with a
// real prescription-order Bundle (the load generator's), which sets
// DefaultMaxPrescriptions.
func BenchmarkStateMemory(b *testing.B) {
	order, err := os.ReadFile(filepath.Join("..", "..", "internal", "loadgen", "prescription.json"))
	if err != nil {
		b.Fatal(err)
	}
	const n = 2000
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := NewState(nil)
		for j := 0; j < n; j++ {
			p := newRx(b, uint32(j+1), "FH542")
			err := s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008",
				Nominated: p.pharmacy, ItemIDs: []string{p.item1, p.item2}, Order: append([]byte(nil), order...), TaskID: "t"}, t0)
			if err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/prescription")
		runtime.KeepAlive(s)
	}
}
