package sim

import (
	"net/http"
	"testing"
)

// released seeds prescription n and releases it to its nominated pharmacy.
func released(t *testing.T, s *State, n uint32) rx {
	t.Helper()
	p := seed(t, s, n)
	_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
	mustDo(t, err)
	return p
}

// dispense sends a notification setting item1 and item2 (each when not "").
func dispense(s *State, p rx, id, replaces string, i1, i2 ItemStatus) error {
	items := map[string]ItemStatus{}
	if i1 != "" {
		items[p.item1] = i1
	}
	if i2 != "" {
		items[p.item2] = i2
	}
	return s.Dispense(DispenseRequest{MessageID: id, Dispenser: p.pharmacy, ShortFormID: p.sf, ReplacementOf: replaces, Items: items}, t0)
}

func wantItems(t *testing.T, s *State, p rx, st PrescriptionStatus, i1, i2 ItemStatus) {
	t.Helper()
	got, _ := s.Get(p.sf)
	if got.Status != st || got.Items[0].Status != i1 || got.Items[1].Status != i2 {
		t.Fatalf("%s %s/%s, want %s %s/%s", got.Status, got.Items[0].Status, got.Items[1].Status, st, i1, i2)
	}
}

// TestDispenseItemTransitionsAsEPS: a dispense notification may not move a
// line item out of a final status — cancelled by the prescriber, dispensed,
// not dispensed — as Spine refuses it (0013, Invalid State Transition for
// Prescription Item); reporting the item in the status it has is fine, and
// an amendment starts from the statuses before the notification it
// replaces. A refused notification changes nothing. Before, the simulator
// let a dispenser dispense an item the prescriber had cancelled.
func TestDispenseItemTransitionsAsEPS(t *testing.T) {
	t.Run("cancelled item", func(t *testing.T) {
		s := NewState(nil)
		p := seed(t, s, 1)
		out, err := s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{p.item1}, Requester: "r"}, t0)
		mustDo(t, err)
		if out[0].Code != CancelDone {
			t.Fatalf("cancel before release: %+v", out)
		}
		_, err = s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
		mustDo(t, err)
		wantReason(t, dispense(s, p, "d1", "", ItemDispensed, ItemDispensed), ReasonItemInvalidTransition)
		wantReason(t, dispense(s, p, "d1", "", ItemOwing, ItemDispensed), ReasonItemInvalidTransition)
		wantItems(t, s, p, StatusWithDispenser, ItemCancelled, ItemWithDispenser)
		mustDo(t, dispense(s, p, "d1", "", ItemCancelled, ItemDispensed))
		wantItems(t, s, p, StatusDispensed, ItemCancelled, ItemDispensed)
	})
	t.Run("dispensed and not dispensed items", func(t *testing.T) {
		s := NewState(nil)
		p := released(t, s, 2)
		mustDo(t, dispense(s, p, "d1", "", ItemDispensed, ItemOwing))
		wantReason(t, dispense(s, p, "d2", "", ItemOwing, ItemDispensed), ReasonItemInvalidTransition)
		wantReason(t, dispense(s, p, "d2", "", ItemNotDispensed, ItemDispensed), ReasonItemInvalidTransition)
		wantItems(t, s, p, StatusWithDispenserActive, ItemDispensed, ItemOwing)
		mustDo(t, dispense(s, p, "d2", "", ItemDispensed, ItemNotDispensed))
		wantItems(t, s, p, StatusDispensed, ItemDispensed, ItemNotDispensed)
		// The amendment of d2 starts from d1's statuses: item2 owing may
		// become dispensed; item1, dispensed by d1, stays.
		wantReason(t, dispense(s, p, "d2b", "d2", ItemPartial, ItemDispensed), ReasonItemInvalidTransition)
		mustDo(t, dispense(s, p, "d2b", "d2", ItemDispensed, ItemDispensed))
		wantItems(t, s, p, StatusDispensed, ItemDispensed, ItemDispensed)
		// Amending d1 itself may change what d1 set.
		s2 := NewState(nil)
		q := released(t, s2, 3)
		mustDo(t, dispense(s2, q, "d1", "", ItemDispensed, ItemDispensed))
		mustDo(t, dispense(s2, q, "d1b", "d1", ItemNotDispensed, ItemDispensed))
		wantItems(t, s2, q, StatusDispensed, ItemNotDispensed, ItemDispensed)
	})
	t.Run("over the FHIR face", func(t *testing.T) {
		_, base := startSim(t, Options{})
		api := base + DefaultBasePath
		p := newRx(t, 4, "FH542")
		post := func(path, fix string, extra map[string]string) answer {
			return do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(extra)), nil)
		}
		post("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
		post("/$process-message", "cancel.json", nil).want(t, 200, "")
		post("/Task/$release", "release-nominated.json", nil).want(t, 200, "")
		post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": "d1"}).
			want(t, 400, "MEDICATIONREQUEST_INVALID_STATE_TRANSITION")
		post("/$process-message", "dispense-notification.json", map[string]string{"STATUS1": "0005", "STATUS2": "0001", "MESSAGEID": "d1"}).
			want(t, 200, "informational")
	})
}

// TestUndoKeepsCarriedOutCancellation: a dispense notification that
// carried out a pending cancellation (the item reported cancelled, R-0001
// sent to the prescriber) and is then withdrawn or amended leaves the item
// cancelled: it cannot be dispensed afterwards, and no second resolution is
// sent. Before, the withdrawal put the item back with the dispenser, free to
// be dispensed after the prescriber had been told it was cancelled.
func TestUndoKeepsCarriedOutCancellation(t *testing.T) {
	for _, undo := range []string{"withdraw", "amend"} {
		t.Run(undo, func(t *testing.T) {
			var resolved []CancelResolution
			s := NewState(func(r CancelResolution) { resolved = append(resolved, r) })
			p := released(t, s, 5)
			out, err := s.Cancel(CancelRequest{ShortFormID: p.sf, ItemIDs: []string{p.item1}, Requester: "r"}, t0)
			mustDo(t, err)
			if !out[0].Pending {
				t.Fatalf("cancel with the dispenser not pending: %+v", out)
			}
			mustDo(t, dispense(s, p, "d1", "", ItemCancelled, ItemDispensed))
			if len(resolved) != 1 || resolved[0].Code != CancelDone {
				t.Fatalf("resolutions %+v, want one R-0001", resolved)
			}
			switch undo {
			case "withdraw":
				mustDo(t, s.Withdraw(WithdrawRequest{ShortFormID: p.sf, Dispenser: p.pharmacy, DispenseID: "d1"}, t0))
				wantItems(t, s, p, StatusWithDispenser, ItemCancelled, ItemWithDispenser)
				wantReason(t, dispense(s, p, "d2", "", ItemDispensed, ItemDispensed), ReasonItemInvalidTransition)
				mustDo(t, dispense(s, p, "d2", "", ItemCancelled, ItemDispensed))
			case "amend":
				wantReason(t, dispense(s, p, "d1b", "d1", ItemDispensed, ItemDispensed), ReasonItemInvalidTransition)
				mustDo(t, dispense(s, p, "d1b", "d1", ItemCancelled, ItemNotDispensed))
			}
			got, _ := s.Get(p.sf)
			if got.Items[0].Status != ItemCancelled || got.Items[0].CancelPending {
				t.Errorf("item1 %s pending %v, want cancelled, nothing pending", got.Items[0].Status, got.Items[0].CancelPending)
			}
			if len(resolved) != 1 {
				t.Errorf("resolutions %+v, want only the first R-0001", resolved)
			}
		})
	}
}
