package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
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
// as EPS answers one it does not hold, saying that the cap forgot it.
func TestEvictedPrescriptionIsUnknown(t *testing.T) {
	s := NewState(nil)
	s.SetCapacity(1)
	first := seed(t, s, 1)
	seed(t, s, 2)
	if _, err := s.lookup(first.sf); err == nil {
		t.Fatal("an evicted prescription was found")
	} else if wantReason(t, err, ReasonNotFound); !IsForgotten(err) {
		t.Fatalf("refusal %v does not say the prescription was forgotten", err)
	}
}

// TestEvictionKeepsPrescriptionsInUse: the cap forgets the prescription
// least recently used, not the one created first: a prescription released,
// cancelled or downloaded again after newer ones were stored outlives
// them, and can still be dispensed. Before, the oldest created was
// forgotten however busy it was: the dispense of a prescription held by a
// dispenser was answered RESOURCE_NOT_FOUND and its pending cancellation
// never resolved.
func TestEvictionKeepsPrescriptionsInUse(t *testing.T) {
	uses := []struct {
		name string
		use  func(s *State, p rx) error
	}{
		{"released", func(s *State, p rx) error {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t0)
			return err
		}},
		{"cancellation pending", func(s *State, p rx) error {
			_, err := s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{p.item1}, Requester: "r"}, t0)
			return err
		}},
		{"downloaded again", func(s *State, p rx) error {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t0)
			return err
		}},
	}
	for _, tt := range uses {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(nil)
			s.SetCapacity(3)
			busy := seed(t, s, 1)
			_, err := s.Release(ReleaseRequest{Owner: busy.pharmacy, ShortFormID: busy.sf}, t0)
			mustDo(t, err)
			idle := seed(t, s, 2)
			seed(t, s, 3)
			mustDo(t, tt.use(s, busy))
			seed(t, s, 4) // over the cap: one must go
			if _, ok := s.Get(busy.sf); !ok {
				t.Fatal("the prescription in use was forgotten")
			}
			if _, ok := s.Get(idle.sf); ok {
				t.Fatal("the least recently used prescription was kept")
			}
			mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: busy.pharmacy, ShortFormID: busy.sf,
				Items: map[string]ItemStatus{busy.item1: ItemDispensed, busy.item2: ItemDispensed}}, t0))
			if s.Len() != 3 || s.Evicted() != 1 {
				t.Fatalf("Len %d Evicted %d, want 3 and 1", s.Len(), s.Evicted())
			}
		})
	}
}

// TestEvictionQueueBounded: however often the prescriptions kept are used,
// the queue that orders them for the cap stays within a small multiple of
// their number; a forgotten id is refused as a duplicate while remembered
// and, stored again once no longer remembered, is kept as new.
func TestEvictionQueueBounded(t *testing.T) {
	s := NewState(nil)
	s.SetCapacity(10)
	var ps []rx
	for i := range 10 {
		ps = append(ps, seed(t, s, uint32(i+1)))
	}
	for i := range 5000 {
		p := ps[i%len(ps)]
		_, err := s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t0)
		mustDo(t, err)
	}
	if n := len(s.order) - s.head; n > 2*s.Len()+64 {
		t.Fatalf("order queue holds %d entries for %d prescriptions", n, s.Len())
	}
	for i := range 10 {
		seed(t, s, uint32(100+i))
	}
	if s.Len() != 10 || s.Evicted() != 10 {
		t.Fatalf("Len %d Evicted %d, want 10 and 10", s.Len(), s.Evicted())
	}
	first := newRx(t, 1, "FH542")
	err := s.AddPrescription(NewPrescription{ShortFormID: first.sf, NHSNumber: first.nhs, ItemIDs: []string{first.item1}}, t0)
	if wantReason(t, err, ReasonDuplicate); !IsForgotten(err) {
		t.Fatalf("a forgotten prescription stored again: %v, want a duplicate refused as forgotten", err)
	}
	// Past maxForgotten ids the oldest is no longer remembered, and may be
	// stored again.
	delete(s.forgotten, first.sf)
	again := seed(t, s, 1)
	seed(t, s, 200)
	if _, ok := s.Get(again.sf); !ok {
		t.Fatal("a forgotten id stored again was forgotten before older prescriptions")
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

// TestPrescriptionHistoryBounded: one prescription dispensed and amended
// without end keeps at most maxHistory dispense notifications and claims,
// as Spine's prescription record prunes its change log past 512 changes,
// while what the history answers stays right: the prescription stays
// "with dispenser - active" with its older notifications gone, the kept
// ones can be amended and withdrawn, a withdrawal reaching past them is
// refused, the tracker's dates are the latest, and a claim can still be
// amended; the message ids kept to tell a notification sent again
// (state_duplicate.go) are the last maxHistory too, and the latest sent
// again is refused. Before, every notification and
// claim was kept: 5,000 partial dispenses of one prescription held 5,000
// records, each copied on every read of it.
func TestPrescriptionHistoryBounded(t *testing.T) {
	const rounds = 5000
	s := NewState(nil)
	p := seed(t, s, 1)
	_, err := s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t0)
	mustDo(t, err)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	partial := func(id string) DispenseRequest {
		return DispenseRequest{MessageID: id, Dispenser: p.pharmacy, ShortFormID: p.sf,
			Items: map[string]ItemStatus{p.item1: ItemPartial, p.item2: ItemOwing}}
	}
	for i := range rounds {
		mustDo(t, s.Dispense(partial(fmt.Sprintf("d%d", i)), at(i)))
	}
	got, _ := s.Get(p.sf)
	if len(got.Dispenses) > maxHistory || len(got.messageIDs) > maxHistory {
		t.Fatalf("%d dispense notifications and %d message ids kept after %d, want at most %d",
			len(got.Dispenses), len(got.messageIDs), rounds, maxHistory)
	}
	wantReason(t, s.Dispense(partial(fmt.Sprintf("d%d", rounds-1)), at(rounds)), ReasonDuplicateMessage)
	if again, _ := s.Get(p.sf); len(again.Dispenses) != len(got.Dispenses) || again.dispensesDropped != got.dispensesDropped {
		t.Fatal("the latest notification sent again was applied again")
	}
	if last := trackerLastDispensed(t, got); last != fhirTime(at(rounds-1)) {
		t.Fatalf("tracker's dateLastDispensed %s, want %s", last, fhirTime(at(rounds-1)))
	}
	// The last notification can be amended; every kept one withdrawn.
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "amend", ReplacementOf: fmt.Sprintf("d%d", rounds-1), Dispenser: p.pharmacy,
		ShortFormID: p.sf, Items: map[string]ItemStatus{p.item1: ItemPartial, p.item2: ItemOwing}}, at(rounds)))
	for i := range maxHistory {
		if err := s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: p.pharmacy}, at(rounds+1+i)); err != nil {
			t.Fatalf("withdrawal %d of the %d kept: %v", i+1, maxHistory, err)
		}
	}
	err = s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: p.pharmacy}, at(2*rounds))
	wantReason(t, err, ReasonInvalidTransition)
	got, _ = s.Get(p.sf)
	if got.Status != StatusWithDispenserActive || got.Items[0].Status != ItemPartial {
		t.Fatalf("after withdrawing the kept notifications: status %s, item %s; want %s and %s (the older ones stand)",
			got.Status, got.Items[0].Status, StatusWithDispenserActive, ItemPartial)
	}
	// The notifications left are d0 … d(rounds-1-maxHistory).
	if last, want := trackerLastDispensed(t, got), fhirTime(at(rounds-1-maxHistory)); last != want {
		t.Fatalf("after the withdrawals, the tracker's dateLastDispensed %s, want %s (the last notification left)", last, want)
	}

	mustDo(t, s.Dispense(DispenseRequest{MessageID: "final", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, at(2*rounds)))
	mustDo(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c0", Claimant: p.pharmacy}, at(2*rounds)))
	for i := 1; i <= rounds; i++ {
		mustDo(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: fmt.Sprintf("c%d", i), ReplacementOf: fmt.Sprintf("c%d", i-1),
			Claimant: p.pharmacy}, at(2*rounds+i)))
	}
	got, _ = s.Get(p.sf)
	if len(got.Claims) > maxHistory {
		t.Fatalf("%d claims kept after %d amendments, want at most %d", len(got.Claims), rounds, maxHistory)
	}
	if n := len(got.Claims); n == 0 || got.Claims[n-1].ID != fmt.Sprintf("c%d", rounds) {
		t.Fatalf("last claim %v, want c%d", got.Claims, rounds)
	}
	err = s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "late", ReplacementOf: "c0", Claimant: p.pharmacy}, at(3*rounds))
	wantReason(t, err, ReasonAmendMismatch)
}

// trackerLastDispensed returns the dateLastDispensed the tracker answers
// for p's first line item ("" when none).
func trackerLastDispensed(t *testing.T, p Prescription) string {
	t.Helper()
	task := trackerTask(p)
	if len(task.Input) == 0 || len(task.Input[0].Extension) == 0 {
		t.Fatal("tracker Task without line item inputs")
	}
	for _, x := range task.Input[0].Extension[0].Extension {
		if x.URL == "dateLastDispensed" && x.ValueDateTime != nil {
			return *x.ValueDateTime
		}
	}
	return ""
}
