package tracker

import (
	"strings"
	"time"
)

// Spine's search and retrieve rules, applied to what the EPS tracker
// answered: the EPS API filters its Tasks by the query too, but the
// simulator ignores dates, and neither knows the legacy prescriptionVersion
// or issueNumber.

// ForSearch returns the summary answer to s: the prescriptions of s's
// patient issued from the earliest date (default: TrackerDefaultWindow
// before now) to the end of the latest date, in s's status and EPS version
// when given, one per prescription id (the last the answer lists). None
// left is Spine's "no prescriptions found" (status 1). An error answer is
// returned as it is.
func (r *TrackerResponse) ForSearch(s TrackerSearch, now time.Time) *TrackerResponse {
	out := &TrackerResponse{Kind: TrackerSummary, StatusCode: r.StatusCode, Reason: r.Reason, Version: TrackerVersion}
	if !r.OK() {
		return out
	}
	earliest, _ := s.window(now)
	index := map[string]int{}
	for _, p := range r.Prescriptions {
		if !trackerMatches(&p, s, earliest) {
			continue
		}
		if i, dup := index[p.ID]; dup {
			out.Prescriptions[i] = p
			continue
		}
		index[p.ID] = len(out.Prescriptions)
		out.Prescriptions = append(out.Prescriptions, p)
	}
	if len(out.Prescriptions) == 0 {
		return (&TrackerError{StatusCode: TrackerStatusNoMatch, Reason: TrackerReasonNoMatch}).Response(TrackerSummary)
	}
	return out
}

// trackerMatches reports whether p answers s (dates compared by day).
func trackerMatches(p *TrackerPrescription, s TrackerSearch, earliest string) bool {
	if p.PatientNHSNumber != s.NHSNumber {
		return false
	}
	if s.PrescriptionStatus != "" {
		st, ok := trackerStatusByText(p.PrescriptionStatus)
		if !ok || st.code != s.PrescriptionStatus {
			return false
		}
	}
	if day := p.PrescriptionIssueDate; len(day) >= 8 {
		day = day[:8]
		if day < earliest || (s.LatestDate != "" && day > s.LatestDate) {
			return false
		}
	}
	switch s.PrescriptionVersion {
	case "1", "R1":
		return p.EPSVersion == "R1"
	case "2", "R2":
		return p.EPSVersion == "R2"
	}
	return true
}

// ForRetrieve returns the detail answer to q: the prescription with q's id
// at the issue asked for (the latest the answer lists when q names none).
// No such prescription is Spine's status 6, no such issue status 8. An
// error answer is returned as it is.
func (r *TrackerResponse) ForRetrieve(q TrackerRetrieve) *TrackerResponse {
	if !r.OK() {
		return &TrackerResponse{Kind: TrackerDetail, StatusCode: r.StatusCode, Reason: r.Reason, Version: TrackerVersion}
	}
	var found *TrackerPrescription
	matched := false
	for i := range r.Prescriptions {
		p := &r.Prescriptions[i]
		if !strings.EqualFold(p.ID, q.PrescriptionID) {
			continue
		}
		matched = true
		if q.IssueNumber == "" || trackerIssueOf(p) == q.IssueNumber {
			found = p
		}
	}
	switch {
	case !matched:
		return (&TrackerError{StatusCode: TrackerStatusPrescriptionMissing, Reason: TrackerReasonPrescriptionMissing}).Response(TrackerDetail)
	case found == nil:
		return (&TrackerError{StatusCode: TrackerStatusInstanceMissing, Reason: TrackerReasonInstanceMissing}).Response(TrackerDetail)
	}
	return &TrackerResponse{Kind: TrackerDetail, StatusCode: TrackerStatusOK, Version: TrackerVersion, Prescriptions: []TrackerPrescription{*found}}
}
