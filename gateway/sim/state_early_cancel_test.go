package sim

import (
	"fmt"
	"net/http"
	"strings"
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

// cancelFirst sends a cancellation of p, not yet stored, and checks it
// is answered not found: of the items items picks (nil: all), for the
// patient of NHS number nhs ("": p's).
func cancelFirst(t *testing.T, s *State, p rx, items func(p rx) []string, nhs string) {
	t.Helper()
	req := CancelRequest{ShortFormID: p.sf, NHSNumber: p.nhs, Requester: "r"}
	if items != nil {
		req.ItemIDs = items(p)
	}
	if nhs != "" {
		req.NHSNumber = nhs
	}
	_, err := s.Cancel(req, t0)
	wantReason(t, err, ReasonNotFound)
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
			cancelFirst(t, s, p, tt.items, tt.nhs)
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

// TestCancelBeforePrescriptionResolves: when a prescription comes after
// its cancellation, and the remembered cancellation is carried out, that
// is told as Spine tells it: Spine's prescription creation applies the
// pending cancellations of its placeholder record and logs a
// "Subsequent cancellation" answer for each (apply_all_cancellations with
// was_pending, log_pending_cancellation_events; eps-spine-shared
// interactions/create_prescription.py). So every item it cancels is a
// resolution (R-0001), listed by CancelResolutions and /_admin/cancellations
// and reported to OnCancelResolved; a cancellation for another patient,
// not carried out, is none. Before, the simulator cancelled the items
// without a word: the prescriber, answered not found, never heard the
// cancellation had taken effect.
func TestCancelBeforePrescriptionResolves(t *testing.T) {
	tests := []struct {
		name  string
		items func(p rx) []string
		nhs   string
		want  func(p rx) []string // items resolved R-0001
	}{
		{"whole prescription", nil, "", func(p rx) []string { return []string{p.item1, p.item2} }},
		{"one item", func(p rx) []string { return []string{p.item1} }, "", func(p rx) []string { return []string{p.item1} }},
		{"another patient", nil, "9990406480", func(rx) []string { return nil }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var told []CancelResolution
			s := NewState(func(r CancelResolution) { told = append(told, r) })
			p := newRx(t, uint32(50+i), "FH542")
			cancelFirst(t, s, p, tt.items, tt.nhs)
			if got := s.CancelResolutions(0); len(got) != 0 {
				t.Fatalf("resolutions before the prescription came: %+v", got)
			}
			addSeed(t, s, p)
			got := s.CancelResolutions(0)
			want := tt.want(p)
			if len(got) != len(want) || len(told) != len(want) {
				t.Fatalf("resolutions %+v (told %+v), want R-0001 for %v", got, told, want)
			}
			for k, r := range got {
				if r.ShortFormID != p.sf || r.ItemID != want[k] || r.Code != CancelDone || !r.At.Equal(t0) || told[k] != r {
					t.Errorf("resolution %d = %+v (told %+v), want %s %s %s", k, r, told[k], p.sf, want[k], CancelDone)
				}
			}
		})
	}
	t.Run("over the FHIR face", func(t *testing.T) {
		_, base := startSim(t, Options{})
		p := newRx(t, 59, "FH542")
		post := poster(t, base+DefaultBasePath, p)
		if c := post("/$process-message", "cancel.json", nil); c.issueCode() != string(CancelNotFound) {
			t.Fatalf("cancel before the prescription: %d %s", c.status, c.body)
		}
		post("/$process-message", "prescription-order.json", nil).want(t, http.StatusOK, "informational")
		res := do(t, http.MethodGet, base+"/_admin/cancellations", nil, nil)
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `"itemId":"`+p.item1+`","code":"R-0001"`) {
			t.Fatalf("/_admin/cancellations after the prescription came: %d %s", res.status, res.body)
		}
	})
}
