package sim

import (
	"fmt"
	"net/http"
	"testing"
)

// addSeed stores prescription p (two items, nominated) and returns its
// record.
func addSeed(t *testing.T, s *State, p rx) Prescription {
	t.Helper()
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008",
		Nominated: p.pharmacy, ItemIDs: []string{p.item1, p.item2}, Order: []byte(`{}`), TaskID: "t"}, t0))
	got, _ := s.Get(p.sf)
	return got
}

// TestCancelBeforePrescription: a cancellation that reaches EPS before
// its prescription is answered not found (R-0008) and remembered; the
// prescription, when it comes, is stored cancelled (or with the items
// cancelled), so no dispenser can download what the prescriber cancelled —
// as Spine does ("the Spine cancels the prescription automatically when it
// arrives"). A cancellation for another patient's NHS number is not
// applied. Before, the simulator forgot the cancellation: the prescription
// arrived to be dispensed, and the nominated pharmacy downloaded it.
func TestCancelBeforePrescription(t *testing.T) {
	tests := []struct {
		name       string
		items      func(p rx) []string
		nhs        string
		wantStatus PrescriptionStatus
		want1      ItemStatus
		want2      ItemStatus
	}{
		{"whole prescription", nil, "", StatusCancelled, ItemCancelled, ItemCancelled},
		{"one item", func(p rx) []string { return []string{p.item1} }, "", StatusToBeDispensed, ItemCancelled, ItemToBeDispensed},
		{"another patient", nil, "9990406480", StatusToBeDispensed, ItemToBeDispensed, ItemToBeDispensed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(nil)
			p := newRx(t, uint32(30+i), "FH542")
			req := CancelRequest{ShortFormID: p.sf, NHSNumber: p.nhs, Requester: "r"}
			if tt.items != nil {
				req.ItemIDs = tt.items(p)
			}
			if tt.nhs != "" {
				req.NHSNumber = tt.nhs
			}
			_, err := s.Cancel(req, t0)
			wantReason(t, err, ReasonNotFound)
			got := addSeed(t, s, p)
			if got.Status != tt.wantStatus || got.Items[0].Status != tt.want1 || got.Items[1].Status != tt.want2 {
				t.Fatalf("stored %s %s/%s, want %s %s/%s", got.Status, got.Items[0].Status, got.Items[1].Status, tt.wantStatus, tt.want1, tt.want2)
			}
			released, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			if (len(released) == 1) != (tt.wantStatus == StatusToBeDispensed) {
				t.Errorf("nominated download gave %d prescriptions", len(released))
			}
		})
	}
	t.Run("remembered for a bounded number of prescriptions", func(t *testing.T) {
		s := NewState(nil)
		first := newRx(t, 40, "FH542")
		_, err := s.Cancel(CancelRequest{ShortFormID: first.sf}, t0)
		wantReason(t, err, ReasonNotFound)
		for i := range maxEarlyCancels {
			_, _ = s.Cancel(CancelRequest{ShortFormID: fmt.Sprintf("X%d", i)}, t0)
		}
		if len(s.early) > maxEarlyCancels || len(s.earlyOrder) > 2*maxEarlyCancels {
			t.Fatalf("%d remembered, %d ids in order", len(s.early), len(s.earlyOrder))
		}
		if got := addSeed(t, s, first); got.Status != StatusToBeDispensed {
			t.Errorf("the oldest remembered cancellation was still applied: %s", got.Status)
		}
	})
	t.Run("over the FHIR face", func(t *testing.T) {
		_, base := startSim(t, Options{})
		api := base + DefaultBasePath
		p := newRx(t, 41, "FH542")
		post := func(path, fix string) answer {
			return do(t, http.MethodPost, api+path, fixture(t, fix, p.repl(nil)), nil)
		}
		c := post("/$process-message", "cancel.json")
		if c.status != http.StatusBadRequest || c.issueCode() != string(CancelNotFound) {
			t.Fatalf("cancel before the prescription: %d %s", c.status, c.body)
		}
		post("/$process-message", "prescription-order.json").want(t, 200, "informational")
		post("/Task/$release", "release-nominated.json").want(t, 200, "")
		if codes := itemStatuses(trackerTaskOver(t, api, p.sf)); len(codes) == 0 || codes[0] != string(ItemCancelled) {
			t.Errorf("line items after a cancellation that came first: %v, want item 1 %s", codes, ItemCancelled)
		}
	})
}
