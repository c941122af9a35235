package sim

import (
	"strings"
	"testing"
	"time"
)

// TestNextIssue moves a repeat dispensing prescription through its issues:
// refused while the issue is open, then each next issue to be dispensed,
// with the last dispense of the one before kept; refused past the last.
func TestNextIssue(t *testing.T) {
	s := NewState(nil)
	p := newRx(t, 7, "FH542")
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008", Nominated: p.pharmacy,
		ItemIDs: []string{p.item1, p.item2}, Order: []byte(`{}`), TaskID: "t", CourseOfTherapy: "continuous-repeat-dispensing", RepeatsAllowed: 1}, t0))
	acute := newRx(t, 8, "FH542")
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: acute.sf, NHSNumber: acute.nhs, ItemIDs: []string{acute.item1},
		Order: []byte(`{}`), TaskID: "u", CourseOfTherapy: "acute"}, t0))

	_, err := s.NextIssue(p.sf, t0)
	wantReason(t, err, ReasonInvalidTransition)
	_, err = s.NextIssue(acute.sf, t0)
	wantReason(t, err, ReasonInvalid)
	_, err = s.NextIssue(newRx(t, 9, "X").sf, t0)
	wantReason(t, err, ReasonNotFound)

	t1, t2 := t0.Add(time.Hour), t0.Add(2*time.Hour)
	_, err = s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t1)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t1))
	got, err := s.NextIssue(p.sf, t2)
	mustDo(t, err)
	if got.CurrentIssue != 2 || got.TotalIssues != 2 || got.Status != StatusToBeDispensed || got.Dispenser != "" ||
		!got.Released.IsZero() || !got.LastIssueDispensed.Equal(t1) || len(got.Dispenses) != 0 || !got.Updated.Equal(t2) {
		t.Errorf("after the next issue: %+v", got)
	}
	for _, it := range got.Items {
		if it.Status != ItemToBeDispensed {
			t.Errorf("item %s is %s, want to be dispensed", it.ID, it.Status)
		}
	}
	_, err = s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t2)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d2", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemNotDispensed, p.item2: ItemNotDispensed}}, t2))
	_, err = s.NextIssue(p.sf, t2)
	wantReason(t, err, ReasonInvalid)
}

// TestCancelledRepeatDispensingStaysCancelled: a cancellation of a repeat
// dispensing prescription reaches the issues not yet made available, as
// NHS England documents ("all outstanding prescription issues that have
// not been downloaded by the dispenser will be cancelled"), whatever the
// current issue's answer was: dispensed (R-0004), or with the dispenser
// and later dispensed. An item cancelled alone is cancelled in the issues
// to come, the others are to be dispensed. Before, the next issue reset
// every item the current issue had dispensed to "to be dispensed": the
// cancelled course went on, issue after issue.
func TestCancelledRepeatDispensingStaysCancelled(t *testing.T) {
	tests := []struct {
		name       string
		items      func(p rx) []string // the items cancelled (nil: all)
		withHolder bool                // cancel while the dispenser holds the issue, not after it was dispensed
		wantCode   CancelCode
		wantStatus PrescriptionStatus
		want1      ItemStatus
		want2      ItemStatus
	}{
		{"whole prescription after the issue was dispensed", nil, false, CancelDispensed, StatusCancelled, ItemCancelled, ItemCancelled},
		{"whole prescription with the dispenser", nil, true, CancelPendingWithDispenser, StatusCancelled, ItemCancelled, ItemCancelled},
		{"one item after the issue was dispensed", func(p rx) []string { return []string{p.item1} }, false, CancelDispensed,
			StatusToBeDispensed, ItemCancelled, ItemToBeDispensed},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resolved []CancelResolution
			s := NewState(func(r CancelResolution) { resolved = append(resolved, r) })
			p := newRx(t, uint32(20+i), "FH542")
			mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008", Nominated: p.pharmacy,
				ItemIDs: []string{p.item1, p.item2}, Order: []byte(`{}`), TaskID: "t", CourseOfTherapy: courseRepeatDispensing, RepeatsAllowed: 2}, t0))
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			cancel := func() {
				t.Helper()
				var ids []string
				if tt.items != nil {
					ids = tt.items(p)
				}
				out, err := s.Cancel(CancelRequest{ShortFormID: p.sf, NHSNumber: p.nhs, Requester: "r", ItemIDs: ids}, t0)
				mustDo(t, err)
				if out[0].Code != tt.wantCode {
					t.Fatalf("cancel answered %+v, want %s first", out, tt.wantCode)
				}
			}
			if tt.withHolder {
				cancel()
			}
			mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
				Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t0))
			if !tt.withHolder {
				cancel()
			}
			got, err := s.NextIssue(p.sf, t0.Add(time.Hour))
			mustDo(t, err)
			if got.CurrentIssue != 2 || got.Status != tt.wantStatus || got.Items[0].Status != tt.want1 || got.Items[1].Status != tt.want2 {
				t.Fatalf("issue %d: %s %s/%s, want %s %s/%s", got.CurrentIssue, got.Status, got.Items[0].Status, got.Items[1].Status,
					tt.wantStatus, tt.want1, tt.want2)
			}
			released, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0.Add(time.Hour))
			mustDo(t, err)
			if wantReleased := tt.wantStatus == StatusToBeDispensed; (len(released) == 1) != wantReleased {
				t.Errorf("nominated download of issue 2 gave %d prescriptions, want released %v", len(released), wantReleased)
			}
			for _, r := range resolved {
				if r.Code == CancelDone {
					t.Errorf("a resolution %+v told the prescriber the dispensed issue was cancelled", r)
				}
			}
		})
	}
}

// TestClaimForAnEarlierIssue: a dispenser claims a repeat dispensing issue
// after the next issue was made available (claims go in after dispensing,
// the next issue comes on its own schedule); the claim names its issue
// (Extension-EPS-RepeatInformation) and is recorded on that issue, once,
// leaving the current issue alone. A claim for an issue not yet made
// available is refused as not dispensed. Before, the simulator only knew
// the current issue: the late claim for issue 1 was refused
// CLAIM_INVALID_NOT_DISPENSED because issue 2 was to be dispensed.
func TestClaimForAnEarlierIssue(t *testing.T) {
	s := NewState(nil)
	p := newRx(t, 30, "FH542")
	mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Prescriber: "A83008", Nominated: p.pharmacy,
		ItemIDs: []string{p.item1, p.item2}, Order: []byte(`{}`), TaskID: "t", CourseOfTherapy: courseRepeatDispensing, RepeatsAllowed: 2}, t0))
	_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
	mustDo(t, err)
	mustDo(t, s.Dispense(DispenseRequest{MessageID: "d1", Dispenser: p.pharmacy, ShortFormID: p.sf,
		Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t0))
	_, err = s.NextIssue(p.sf, t0.Add(time.Hour))
	mustDo(t, err)

	claim := func(id, replaces, claimant string, issue int) error {
		return s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: id, ReplacementOf: replaces, Claimant: claimant, Issue: issue}, t0.Add(2*time.Hour))
	}
	wantReason(t, claim("c0", "", "FA666", 1), ReasonWithAnotherDispenser)
	mustDo(t, claim("c1", "", p.pharmacy, 1))
	wantReason(t, claim("c2", "", p.pharmacy, 1), ReasonInvalidTransition)
	mustDo(t, claim("c1b", "c1", p.pharmacy, 1))
	wantReason(t, claim("c3", "", p.pharmacy, 2), ReasonClaimNotDispensed)
	wantReason(t, claim("c4", "", p.pharmacy, 3), ReasonClaimNotDispensed)
	got, _ := s.Get(p.sf)
	if len(got.PastIssues) != 1 || got.PastIssues[0].Number != 1 || got.PastIssues[0].Status != StatusClaimed || len(got.PastIssues[0].Claims) != 2 {
		t.Fatalf("issue 1: %+v, want claimed with the claim and its amendment", got.PastIssues)
	}
	if got.CurrentIssue != 2 || got.Status != StatusToBeDispensed || len(got.Claims) != 0 {
		t.Fatalf("issue %d %s with %d claims, want issue 2 to be dispensed, unclaimed", got.CurrentIssue, got.Status, len(got.Claims))
	}
}

// TestClaimIssueDecoded: the issue a FHIR Claim is for is read from
// Extension-EPS-RepeatInformation on its item, or on the item's first
// detail; a claim without one is for the current issue.
func TestClaimIssueDecoded(t *testing.T) {
	repeat := `{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation", "extension": [` +
		`{"url": "numberOfRepeatsIssued", "valueUnsignedInt": 1}, {"url": "numberOfRepeatsAllowed", "valueUnsignedInt": 2}]}`
	p := newRx(t, 31, "FH542")
	base := string(fixture(t, "claim.json", p.repl(nil)))
	tests := []struct {
		name string
		item string
		want int
	}{
		{"none", ``, 0},
		{"on the item", `{"sequence": 1, "productOrService": {}, "extension": [` + repeat + `]}`, 2},
		{"on the first detail", `{"sequence": 1, "productOrService": {}, "detail": [{"sequence": 1, "productOrService": {}, "extension": [` + repeat + `]}]}`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := base
			if tt.item != "" {
				i := strings.LastIndex(body, "}")
				body = body[:i] + `, "item": [` + tt.item + `]}`
			}
			req, err := decodeClaim([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if req.Issue != tt.want {
				t.Errorf("issue %d, want %d", req.Issue, tt.want)
			}
		})
	}
}
