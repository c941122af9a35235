package sim

import (
	"testing"
	"time"
)

// TestExpireAsSpine: a prescription expires as Spine expires one
// (eps-spine-shared statuses.py EXPIRY_LOOKUP, issue.py and
// line_item.py expire): to be dispensed or with the dispenser → expired,
// its items expired; with the dispenser - active → dispensed, a partly
// dispensed item fully dispensed and an owing one not dispensed, so that
// the pharmacy can still claim; a completed prescription (dispensed,
// claimed, cancelled…) keeps its status; and a repeat dispensing
// prescription's issues to come expire with it (record.py: "we must
// expire all subsequent issues as well"). Before, the simulator made every
// prescription expired, items partly dispensed or owing included: a
// pharmacy's claim for what it had dispensed was refused, a claimed
// prescription turned expired, and a further issue of an expired repeat
// dispensing course could be made available.
func TestExpireAsSpine(t *testing.T) {
	t.Run("with dispenser - active, claimed over the FHIR face", func(t *testing.T) {
		s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
		api := base + DefaultBasePath
		p := newRx(t, 1, "FH542")
		post := poster(t, api, p)
		post("/$process-message", "prescription-order.json", nil).want(t, 200, "informational")
		partlyDispense(t, post)
		mustDo(t, s.State().Expire(p.sf, t0))

		if bs := businessStatus(trackerTaskOver(t, api, p.sf)); bs != string(StatusDispensed) {
			t.Fatalf("expired with dispenser - active: tracker business status %v, want 0006 dispensed", bs)
		}
		post("/Claim", "claim.json", nil).want(t, 200, "informational")
	})

	tests := []struct {
		name       string
		setup      func(t *testing.T, s *State, p rx)
		wantStatus PrescriptionStatus
		want1      ItemStatus
		want2      ItemStatus
	}{
		{"to be dispensed", nil, StatusExpired, ItemExpired, ItemExpired},
		{"with dispenser", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
		}, StatusExpired, ItemExpired, ItemExpired},
		{"with dispenser - active", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, "d1", "", ItemPartial, ItemOwing))
		}, StatusDispensed, ItemDispensed, ItemNotDispensed},
		{"claimed", func(t *testing.T, s *State, p rx) {
			_, err := s.Release(ReleaseRequest{Owner: p.pharmacy}, t0)
			mustDo(t, err)
			mustDo(t, dispense(s, p, "d1", "", ItemDispensed, ItemNotDispensed))
			mustDo(t, s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: "c1", Claimant: p.pharmacy}, t0))
		}, StatusClaimed, ItemDispensed, ItemNotDispensed},
		{"cancelled", func(t *testing.T, s *State, p rx) {
			_, err := s.Cancel(CancelRequest{ShortFormID: p.sf, Requester: "r"}, t0)
			mustDo(t, err)
		}, StatusCancelled, ItemCancelled, ItemCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState(nil)
			p := seed(t, s, 2)
			if tt.setup != nil {
				tt.setup(t, s, p)
			}
			mustDo(t, s.Expire(p.sf, t0))
			wantItems(t, s, p, tt.wantStatus, tt.want1, tt.want2)
		})
	}

	t.Run("repeat dispensing: the issues to come expire too", func(t *testing.T) {
		s := NewState(nil)
		p := newRx(t, 3, "FH542")
		mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Nominated: p.pharmacy,
			ItemIDs: []string{p.item1, p.item2}, CourseOfTherapy: courseRepeatDispensing, RepeatsAllowed: 2}, t0))
		mustDo(t, s.Expire(p.sf, t0))
		if _, err := s.NextIssue(p.sf, t0); err == nil {
			t.Fatal("a further issue of an expired repeat dispensing prescription was made available")
		}
		if got, _ := s.Get(p.sf); got.Status != StatusExpired || got.CurrentIssue != 1 {
			t.Fatalf("expired repeat dispensing prescription: status %s, issue %d; want expired at issue 1", got.Status, got.CurrentIssue)
		}

		// Expired while its issue was partly dispensed: that issue is
		// dispensed and claimed, and no issue follows.
		q := newRx(t, 4, "FH542")
		mustDo(t, s.AddPrescription(NewPrescription{ShortFormID: q.sf, NHSNumber: q.nhs, Nominated: q.pharmacy,
			ItemIDs: []string{q.item1, q.item2}, CourseOfTherapy: courseRepeatDispensing, RepeatsAllowed: 2}, t0))
		_, err := s.Release(ReleaseRequest{Owner: q.pharmacy, ShortFormID: q.sf}, t0)
		mustDo(t, err)
		mustDo(t, dispense(s, q, "d1", "", ItemPartial, ItemOwing))
		mustDo(t, s.Expire(q.sf, t0))
		wantItems(t, s, q, StatusDispensed, ItemDispensed, ItemNotDispensed)
		mustDo(t, s.Claim(ClaimRequest{ShortFormID: q.sf, ClaimID: "c1", Claimant: q.pharmacy, Issue: 1}, t0))
		if _, err := s.NextIssue(q.sf, t0); err == nil {
			t.Fatal("a further issue of a repeat dispensing prescription expired while dispensed was made available")
		}
	})
}
