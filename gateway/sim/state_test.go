package sim

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// seed stores a two-item prescription nominated to FH542.
func seed(t *testing.T, s *State, n uint32) rx {
	t.Helper()
	p := newRx(t, n, "FH542")
	err := s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008",
		Nominated: p.pharmacy, ItemIDs: []string{p.item1, p.item2}, Order: []byte(`{}`), TaskID: "t"}, t0)
	if err != nil {
		t.Fatalf("AddPrescription: %v", err)
	}
	return p
}

func wantReason(t *testing.T, err error, r Reason) {
	t.Helper()
	var se *StateError
	if !errors.As(err, &se) || se.Reason != r {
		t.Fatalf("error = %v, want reason %d", err, r)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAddPrescriptionRefusals(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 1)
	tests := []struct {
		name string
		np   NewPrescription
		want Reason
	}{
		{"duplicate", NewPrescription{ShortFormID: p.sf, ItemIDs: []string{"x"}}, ReasonDuplicate},
		{"bad check character", NewPrescription{ShortFormID: "269CA9-A99968-4577BP", ItemIDs: []string{"x"}}, ReasonInvalidCheckCharacter},
		{"no items", NewPrescription{ShortFormID: newRx(t, 2, "X").sf}, ReasonInvalid},
		{"five items", NewPrescription{ShortFormID: newRx(t, 3, "X").sf, ItemIDs: []string{"a", "b", "c", "d", "e"}}, ReasonInvalid},
		{"repeated item", NewPrescription{ShortFormID: newRx(t, 4, "X").sf, ItemIDs: []string{"a", "A"}}, ReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantReason(t, s.AddPrescription(tt.np, t0), tt.want)
		})
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
}

func TestCancelOutcomes(t *testing.T) {
	dispense := func(s *State, p rx, st1, st2 ItemStatus, id string) error {
		return s.Dispense(DispenseRequest{MessageID: id, Dispenser: p.pharmacy, ShortFormID: p.sf,
			Items: map[string]ItemStatus{p.item1: st1, p.item2: st2}}, t0)
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, s *State, p rx)
		req     func(p rx) CancelRequest
		want    CancelCode
		pending bool
		status  PrescriptionStatus
	}{
		{"to be dispensed: cancelled", nil, nil, CancelDone, false, StatusToBeDispensed},
		{"with dispenser: pending", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
		}, nil, CancelPendingWithDispenser, true, StatusWithDispenser},
		{"dispenser active: pending", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, ItemOwing, ItemOwing, "d1"))
		}, nil, CancelPendingDispenserActive, true, StatusWithDispenserActive},
		{"dispensed", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, ItemDispensed, ItemDispensed, "d1"))
		}, nil, CancelDispensed, false, StatusDispensed},
		{"not dispensed", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, ItemNotDispensed, ItemNotDispensed, "d1"))
		}, nil, CancelNotDispensed, false, StatusNotDispensed},
		// A prescription dispensed in full, one of its items not
		// dispensed: Spine answers a line item's cancellation by the
		// item's own status (record.py return_error_for_invalid_cancel_by_li_id).
		{"not dispensed item of a dispensed prescription", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, ItemNotDispensed, ItemDispensed, "d1"))
		}, nil, CancelNotDispensed, false, StatusDispensed},
		{"not dispensed item of a claimed prescription", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, ItemNotDispensed, ItemDispensed, "d1"))
			mustDo(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c1", Claimant: p.pharmacy}, t0))
		}, nil, CancelNotDispensed, false, StatusClaimed},
		{"dispensed item beside one not dispensed", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, ItemDispensed, ItemNotDispensed, "d1"))
		}, nil, CancelDispensed, false, StatusDispensed},
		{"expired", func(t *testing.T, s *State, p rx) { mustDo(t, s.Expire(p.sf, t0)) }, nil, CancelExpired, false, StatusExpired},
		{"already cancelled", func(t *testing.T, s *State, p rx) {
			_, err := s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{p.item1}}, t0)
			mustDo(t, err)
		}, nil, CancelAlreadyCancelled, false, StatusToBeDispensed},
		{"another prescriber while pending", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			_, err = s.Cancel(CancelRequest{ShortFormID: p.sf, Requester: "first", ItemIDs: []string{p.item1}}, t0)
			mustDo(t, err)
		}, func(p rx) CancelRequest {
			return CancelRequest{ShortFormID: p.sf, Requester: "second", ItemIDs: []string{p.item1}}
		}, CancelByAnotherPrescriber, true, StatusWithDispenser},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(nil)
			p := seed(t, s, uint32(10+i))
			if tt.setup != nil {
				tt.setup(t, s, p)
			}
			req := CancelRequest{ShortFormID: p.sf, NHSNumber: p.nhs, Requester: "first", ItemIDs: []string{p.item1}}
			if tt.req != nil {
				req = tt.req(p)
			}
			out, err := s.Cancel(req, t0)
			if err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			if len(out) != 1 || out[0].Code != tt.want || out[0].Pending != tt.pending {
				t.Fatalf("Cancel = %+v, want %s pending=%v", out, tt.want, tt.pending)
			}
			got, _ := s.Get(p.sf)
			if got.Status != tt.status {
				t.Fatalf("status = %s, want %s", got.Status, tt.status)
			}
		})
	}
}

func TestCancelRefusals(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 1)
	_, err := s.Cancel(CancelRequest{ShortFormID: newRx(t, 99, "X").sf}, t0)
	wantReason(t, err, ReasonNotFound)
	_, err = s.Cancel(CancelRequest{ShortFormID: p.sf, NHSNumber: "9999999999"}, t0)
	wantReason(t, err, ReasonPatientMismatch)
	_, err = s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{"nope"}}, t0)
	wantReason(t, err, ReasonItemNotFound)
}

func TestCancelWholePrescription(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 1)
	out, err := s.Cancel(CancelRequest{ShortFormID: p.sf}, t0)
	mustDo(t, err)
	if len(out) != 2 {
		t.Fatalf("outcomes = %+v, want 2", out)
	}
	got, _ := s.Get(p.sf)
	if got.Status != StatusCancelled {
		t.Fatalf("status = %s, want cancelled", got.Status)
	}
	_, err = s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t0)
	wantReason(t, err, ReasonCancelled)
}

func TestPendingCancelResolves(t *testing.T) {
	tests := []struct {
		name   string
		act    func(s *State, p rx) error
		want   CancelCode
		status PrescriptionStatus
	}{
		{"return", func(s *State, p rx) error {
			return s.Return(ReturnRequest{ShortFormID: p.sf, Dispenser: p.pharmacy}, t0)
		}, CancelDone, StatusToBeDispensed},
		{"dispensed", func(s *State, p rx) error {
			return s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
				Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t0)
		}, CancelDispensed, StatusDispensed},
		{"dispenser cancels item", func(s *State, p rx) error {
			return s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
				Items: map[string]ItemStatus{p.item1: ItemCancelled, p.item2: ItemDispensed}}, t0)
		}, CancelDone, StatusDispensed},
		{"not dispensed", func(s *State, p rx) error {
			return s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
				Items: map[string]ItemStatus{p.item1: ItemNotDispensed, p.item2: ItemNotDispensed}}, t0)
		}, CancelNotDispensed, StatusNotDispensed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hooked []CancelResolution
			s := NewState(func(r CancelResolution) { hooked = append(hooked, r) })
			p := seed(t, s, 7)
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			out, err := s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{p.item1}}, t0)
			mustDo(t, err)
			if !out[0].Pending {
				t.Fatalf("cancel not pending: %+v", out)
			}
			mustDo(t, tt.act(s, p))
			res := s.CancelResolutions(0)
			if len(res) != 1 || res[0].Code != tt.want || res[0].ItemID != p.item1 || res[0].Seq != 1 {
				t.Fatalf("resolutions = %+v, want one %s for %s", res, tt.want, p.item1)
			}
			if len(hooked) != 1 {
				t.Fatalf("hook saw %d resolutions, want 1", len(hooked))
			}
			got, _ := s.Get(p.sf)
			if got.Status != tt.status {
				t.Fatalf("status = %s, want %s", got.Status, tt.status)
			}
			if got.Items[0].CancelPending {
				t.Fatal("item still pending")
			}
		})
	}
}

func TestOwingKeepsCancelPending(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 3)
	_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
	mustDo(t, err)
	_, err = s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{p.item1}}, t0)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemOwing, p.item2: ItemDispensed}}, t0))
	if res := s.CancelResolutions(0); len(res) != 0 {
		t.Fatalf("resolved on owing: %+v", res)
	}
	got, _ := s.Get(p.sf)
	if got.Status != StatusWithDispenserActive || !got.Items[0].CancelPending {
		t.Fatalf("got %s pending=%v, want with dispenser - active and pending", got.Status, got.Items[0].CancelPending)
	}
}

func TestReleaseNominatedOnce(t *testing.T) {
	s := NewState(nil)
	a := seed(t, s, 1)
	b := seed(t, s, 2)
	other := newRx(t, 3, "FA666")
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: other.sf, NHSNumber: other.nhs, Nominated: "FA666",
		ItemIDs: []string{other.item1}}, t0))
	got, err := s.Release(ReleaseRequest{Owner: "FH542"}, t0)
	mustDo(t, err)
	if len(got) != 2 || got[0].ShortFormID != a.sf || got[1].ShortFormID != b.sf {
		t.Fatalf("released %d, want %s and %s", len(got), a.sf, b.sf)
	}
	again, err := s.Release(ReleaseRequest{Owner: "FH542"}, t0)
	mustDo(t, err)
	if len(again) != 0 {
		t.Fatalf("second nominated release gave %d prescriptions, want 0", len(again))
	}
	p, _ := s.Get(a.sf)
	if p.Status != StatusWithDispenser || p.Dispenser != "FH542" || p.Items[0].Status != ItemWithDispenser {
		t.Fatalf("released prescription = %+v", p)
	}
}

func TestPatientRelease(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 1)
	dispensed := seed(t, s, 2)
	expired := seed(t, s, 3)
	mustDo(t, s.Expire(expired.sf, t0))
	_, err := s.Release(ReleaseRequest{Owner: "FH542", ShortFormID: dispensed.sf}, t0)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d", Dispenser: "FH542", ShortFormID: dispensed.sf,
		Items: map[string]ItemStatus{dispensed.item1: ItemDispensed, dispensed.item2: ItemDispensed}}, t0))

	got, err := s.Release(ReleaseRequest{Owner: "FA666", ShortFormID: p.sf}, t0) // not the nominated one: allowed
	mustDo(t, err)
	if len(got) != 1 || got[0].Dispenser != "FA666" {
		t.Fatalf("patient release = %+v", got)
	}
	if _, err := s.Release(ReleaseRequest{Owner: "FA666", ShortFormID: p.sf}, t0); err != nil {
		t.Fatalf("re-release to the same dispenser: %v", err)
	}
	tests := []struct {
		name string
		req  ReleaseRequest
		want Reason
	}{
		{"another dispenser", ReleaseRequest{Owner: "FH542", ShortFormID: p.sf}, ReasonWithAnotherDispenser},
		{"not found", ReleaseRequest{Owner: "FH542", ShortFormID: newRx(t, 9, "X").sf}, ReasonNotFound},
		{"dispensed", ReleaseRequest{Owner: "FH542", ShortFormID: dispensed.sf}, ReasonDispensed},
		{"expired", ReleaseRequest{Owner: "FH542", ShortFormID: expired.sf}, ReasonExpired},
		{"no owner", ReleaseRequest{ShortFormID: p.sf}, ReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Release(tt.req, t0)
			wantReason(t, err, tt.want)
			if tt.want == ReasonWithAnotherDispenser {
				var se *StateError
				errors.As(err, &se)
				if se.Dispenser != "FA666" {
					t.Fatalf("other dispenser = %q, want FA666", se.Dispenser)
				}
			}
		})
	}
}

func TestDispenseLifecycle(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 1)
	items := func(a, b ItemStatus) map[string]ItemStatus { return map[string]ItemStatus{p.item1: a, p.item2: b} }

	wantReason(t, s.Dispense(DispenseRequest{MessageID: "d0", Dispenser: "FH542", ShortFormID: p.sf, Items: items(ItemDispensed, ItemDispensed)}, t0), ReasonInvalidTransition)
	wantReason(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c0", Claimant: "FH542"}, t0), ReasonClaimNotDispensed)
	_, err := s.Release(ReleaseRequest{Owner: "FH542"}, t0)
	mustDo(t, err)
	wantReason(t, s.Dispense(DispenseRequest{MessageID: "dx", Dispenser: "FA666", ShortFormID: p.sf, Items: items(ItemDispensed, ItemDispensed)}, t0), ReasonWithAnotherDispenser)
	wantReason(t, s.Dispense(DispenseRequest{MessageID: "dx", Dispenser: "FH542", ShortFormID: p.sf, Items: map[string]ItemStatus{"nope": ItemDispensed}}, t0), ReasonItemNotFound)
	wantReason(t, s.Dispense(DispenseRequest{MessageID: "dx", Dispenser: "FH542", ShortFormID: p.sf, Items: items(ItemWithDispenser, ItemDispensed)}, t0), ReasonInvalid)

	step := func(name string, err error, want PrescriptionStatus, i1, i2 ItemStatus) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, _ := s.Get(p.sf)
		if got.Status != want || got.Items[0].Status != i1 || got.Items[1].Status != i2 {
			t.Fatalf("%s: %s %s/%s, want %s %s/%s", name, got.Status, got.Items[0].Status, got.Items[1].Status, want, i1, i2)
		}
	}
	step("partial + owing", s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: "FH542", ShortFormID: p.sf, Items: items(ItemPartial, ItemOwing)}, t0),
		StatusWithDispenserActive, ItemPartial, ItemOwing)
	step("complete", s.Dispense(DispenseRequest{MessageID: "d2", Dispenser: "FH542", ShortFormID: p.sf, Items: items(ItemDispensed, ItemDispensed)}, t0),
		StatusDispensed, ItemDispensed, ItemDispensed)
	wantReason(t, s.Dispense(DispenseRequest{MessageID: "d3", Dispenser: "FH542", ShortFormID: p.sf, Items: items(ItemDispensed, ItemDispensed)}, t0), ReasonDispensed)
	wantReason(t, s.Dispense(DispenseRequest{MessageID: "d3", Dispenser: "FH542", ShortFormID: p.sf, ReplacementOf: "d1", Items: items(ItemDispensed, ItemDispensed)}, t0), ReasonAmendMismatch)
	step("amend d2", s.Dispense(DispenseRequest{MessageID: "d2b", Dispenser: "FH542", ShortFormID: p.sf, ReplacementOf: "d2", Items: items(ItemDispensed, ItemNotDispensed)}, t0),
		StatusDispensed, ItemDispensed, ItemNotDispensed)
	wantReason(t, s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: "FH542", DispenseID: "d1"}, t0), ReasonAmendMismatch)
	step("withdraw d2b", s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: "FH542", DispenseID: "d2b"}, t0),
		StatusWithDispenserActive, ItemPartial, ItemOwing)
	step("dispense again", s.Dispense(DispenseRequest{MessageID: "d4", Dispenser: "FH542", ShortFormID: p.sf, Items: items(ItemDispensed, ItemDispensed)}, t0),
		StatusDispensed, ItemDispensed, ItemDispensed)
	wantReason(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c1", Claimant: "FA666"}, t0), ReasonWithAnotherDispenser)
	step("claim", s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c1", Claimant: "FH542"}, t0), StatusClaimed, ItemDispensed, ItemDispensed)
	wantReason(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c2", Claimant: "FH542"}, t0), ReasonInvalidTransition)
	wantReason(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c2", ReplacementOf: "c0"}, t0), ReasonAmendMismatch)
	step("claim amend", s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c2", ReplacementOf: "c1"}, t0), StatusClaimed, ItemDispensed, ItemDispensed)
	wantReason(t, s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: "FH542"}, t0), ReasonInvalidTransition)
	wantReason(t, s.Dispense(DispenseRequest{MessageID: "d5", Dispenser: "FH542", ShortFormID: p.sf, ReplacementOf: "d4", Items: items(ItemDispensed, ItemDispensed)}, t0), ReasonInvalidTransition)
}

func TestReturn(t *testing.T) {
	s := NewState(nil)
	p := seed(t, s, 1)
	wantReason(t, s.Return(ReturnRequest{ShortFormID: p.sf, Dispenser: "FH542"}, t0), ReasonInvalidTransition)
	_, err := s.Release(ReleaseRequest{Owner: "FH542"}, t0)
	mustDo(t, err)
	wantReason(t, s.Return(ReturnRequest{ShortFormID: p.sf, Dispenser: "FA666"}, t0), ReasonWithAnotherDispenser)
	mustDo(t, s.Return(ReturnRequest{ShortFormID: p.sf, Dispenser: "FH542"}, t0))
	got, _ := s.Get(p.sf)
	if got.Status != StatusToBeDispensed || got.Dispenser != "" || got.Nominated != "" || got.Items[0].Status != ItemToBeDispensed {
		t.Fatalf("after return: %+v", got)
	}
	again, err := s.Release(ReleaseRequest{Owner: "FH542"}, t0)
	mustDo(t, err)
	if len(again) != 0 {
		t.Fatalf("returned prescription released %d times by a nominated download, want 0 (no longer nominated)", len(again))
	}
	again, err = s.Release(ReleaseRequest{Owner: "FH542", ShortFormID: p.sf}, t0)
	mustDo(t, err)
	if len(again) != 1 {
		t.Fatalf("returned prescription released %d times by its id, want 1", len(again))
	}
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: "FH542", ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemOwing, p.item2: ItemOwing}}, t0))
	wantReason(t, s.Return(ReturnRequest{ShortFormID: p.sf, Dispenser: "FH542"}, t0), ReasonInvalidTransition)
}

func TestSearch(t *testing.T) {
	s := NewState(nil)
	a := seed(t, s, 1)
	seed(t, s, 2)
	if got := s.Search(Query{ShortFormID: a.sf}); len(got) != 1 || got[0].ShortFormID != a.sf {
		t.Fatalf("by id: %d results", len(got))
	}
	if got := s.Search(Query{NHSNumber: a.nhs}); len(got) != 2 {
		t.Fatalf("by NHS number: %d results, want 2", len(got))
	}
	if got := s.Search(Query{NHSNumber: a.nhs, Status: StatusDispensed}); len(got) != 0 {
		t.Fatalf("by status: %d results, want 0", len(got))
	}
}

// TestRepeatsRefusedAsEPS: a claim, return, withdrawal or cancellation
// done again by a new message after the first took effect is refused as EPS refuses it (claim:
// already Claimed, Spine 0012; claim amendment and withdrawal: no longer
// the last claim or dispense, Spine 0021, or nothing left, 0012; return:
// no longer with the dispenser, 0012; cancellation: R-0006) and changes
// nothing.
func TestRepeatsRefusedAsEPS(t *testing.T) {
	released := func(t *testing.T, s *State, p rx) {
		t.Helper()
		_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
		mustDo(t, err)
	}
	dispensed := func(t *testing.T, s *State, p rx, id string) {
		t.Helper()
		mustDo(t, s.Dispense(DispenseRequest{MessageID: id, Dispenser: p.pharmacy, ShortFormID: p.sf,
			Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t0))
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, s *State, p rx)
		// act does it: the nth message (a new one, a message id of its own).
		act  func(s *State, p rx, n int) error
		want Reason
	}{
		{"claim", func(t *testing.T, s *State, p rx) { released(t, s, p); dispensed(t, s, p, "d1") },
			func(s *State, p rx, n int) error {
				return s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: fmt.Sprintf("c1-%d", n), Claimant: p.pharmacy}, t0)
			}, ReasonInvalidTransition},
		{"claim amendment", func(t *testing.T, s *State, p rx) {
			released(t, s, p)
			dispensed(t, s, p, "d1")
			mustDo(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c0", Claimant: p.pharmacy}, t0))
		}, func(s *State, p rx, n int) error {
			return s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: fmt.Sprintf("c1-%d", n), ReplacementOf: "c0", Claimant: p.pharmacy}, t0)
		}, ReasonAmendMismatch},
		{"return", released, func(s *State, p rx, _ int) error {
			return s.Return(ReturnRequest{ShortFormID: p.sf, Dispenser: p.pharmacy}, t0)
		}, ReasonInvalidTransition},
		{"withdraw the only dispense", func(t *testing.T, s *State, p rx) { released(t, s, p); dispensed(t, s, p, "d1") },
			func(s *State, p rx, _ int) error {
				return s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: p.pharmacy, DispenseID: "d1"}, t0)
			}, ReasonInvalidTransition},
		{"withdraw the second dispense", func(t *testing.T, s *State, p rx) {
			released(t, s, p)
			mustDo(t, s.Dispense(DispenseRequest{MessageID: "d0", Dispenser: p.pharmacy, ShortFormID: p.sf,
				Items: map[string]ItemStatus{p.item1: ItemPartial, p.item2: ItemOwing}}, t0))
			dispensed(t, s, p, "d1")
		}, func(s *State, p rx, _ int) error {
			return s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: p.pharmacy, DispenseID: "d1"}, t0)
		}, ReasonAmendMismatch},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(nil)
			p := seed(t, s, uint32(10+i))
			tt.setup(t, s, p)
			mustDo(t, tt.act(s, p, 1))
			before, _ := s.Get(p.sf)
			wantReason(t, tt.act(s, p, 2), tt.want)
			after, _ := s.Get(p.sf)
			if after.Status != before.Status || after.Items[0].Status != before.Items[0].Status || len(after.Dispenses) != len(before.Dispenses) || len(after.Claims) != len(before.Claims) {
				t.Fatalf("the refused repeat changed the prescription: %+v → %+v", before, after)
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		s := NewState(nil)
		p := seed(t, s, 20)
		out, err := s.Cancel(CancelRequest{ShortFormID: p.sf, Requester: "r"}, t0)
		mustDo(t, err)
		if out[0].Code != CancelDone {
			t.Fatalf("first cancel %s, want R-0001", out[0].Code)
		}
		out, err = s.Cancel(CancelRequest{ShortFormID: p.sf, Requester: "r"}, t0)
		mustDo(t, err)
		if out[0].Code != CancelAlreadyCancelled || out[1].Code != CancelAlreadyCancelled {
			t.Fatalf("repeated cancel %+v, want R-0006 for each item", out)
		}
	})
}

// TestNominatedReleaseAtMost25: a nominated release hands over at most
// MaxNominatedRelease prescriptions, oldest first, as EPS does ("up to 25
// prescriptions (per request)"); the dispenser's next requests get the
// rest, each prescription once. Before, one release handed over every
// prescription nominated to the dispenser: with the simulator's default
// cap, one answer of up to 5,000 prescription-order Bundles.
func TestNominatedReleaseAtMost25(t *testing.T) {
	const n = 2*MaxNominatedRelease + 10
	s := NewState(nil)
	var want []string
	for i := range n {
		p := newRx(t, uint32(i+1), "FH542")
		mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008",
			Nominated: p.pharmacy, ItemIDs: []string{p.item1}, Order: []byte(`{}`), TaskID: "t"}, t0.Add(time.Duration(n-i)*time.Minute)))
		want = append([]string{p.sf}, want...) // created newest first: released last
	}
	var got []string
	for _, size := range []int{MaxNominatedRelease, MaxNominatedRelease, 10, 0} {
		released, err := s.Release(ReleaseRequest{Owner: "FH542"}, t0.Add(time.Hour))
		mustDo(t, err)
		if len(released) != size {
			t.Fatalf("release %d handed over %d prescriptions, want %d", len(got)/MaxNominatedRelease+1, len(released), size)
		}
		for _, p := range released {
			got = append(got, p.ShortFormID)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("released in the order %v, want oldest first %v", got, want)
	}
}
