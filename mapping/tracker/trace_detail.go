package tracker

import (
	"strings"
	"time"
)

// The EPS API answers a patient search (GET /Task?patient:identifier=...)
// from Spine's prescription summary, whose line items carry a description
// and no status, and no release, dispense or claim date: its Tasks' inputs
// have no Extension-EPS-DispensingInformation and their outputs no
// Extension-EPS-DispensingReleaseInformation. Its answer by id
// (focus:identifier) comes from Spine's detail of issue 1 and has them. A
// documented search answers each issue's line item statuses and issue
// date, so a prescription the search found without them, at its first
// issue, is asked for by id.

// TraceSearchDetailIDs returns the ids of the prescriptions of r (the EPS
// answer to search s) that search s answers and that are at issue 1 with
// line items none of which has a status: those to ask EPS for by id
// (TrackerRetrieve.FHIRQuery) and merge with MergeTraceDetail.
func TraceSearchDetailIDs(r *TrackerResponse, s TrackerSearch, now time.Time) []string {
	if !r.OK() {
		return nil
	}
	earliest, anyStatus := s.window(now)
	var ids []string
	for _, group := range groupTrackerIssues(r.Prescriptions) {
		cur := currentTrackerIssue(group)
		if len(group) == 1 && trackerIssueOf(cur) == "1" && trackerSummaryOnly(cur) && trackerMatches(cur, anyStatus, earliest) {
			ids = append(ids, cur.ID)
		}
	}
	return ids
}

// trackerSummaryOnly reports whether p has line items and none of them a
// status: a prescription as the EPS API's patient search gives it.
func trackerSummaryOnly(p *TrackerPrescription) bool {
	if len(p.LineItems) == 0 {
		return false
	}
	for _, it := range p.LineItems {
		if it.ItemStatus != "" {
			return false
		}
	}
	return true
}

// MergeTraceDetail replaces in r (the EPS answer to a search) the
// prescription that d (the EPS answer for it by id) gives in full: the
// same id and patient, at issue 1 in both, d's line items having a
// status. It reports whether it replaced one; anything else in d is left.
func MergeTraceDetail(r, d *TrackerResponse) bool {
	if !r.OK() || !d.OK() {
		return false
	}
	for _, dp := range d.Prescriptions {
		if trackerIssueOf(&dp) != "1" || trackerSummaryOnly(&dp) || len(dp.LineItems) == 0 {
			continue
		}
		for i := range r.Prescriptions {
			p := &r.Prescriptions[i]
			if strings.EqualFold(p.ID, dp.ID) && p.PatientNHSNumber == dp.PatientNHSNumber && trackerIssueOf(p) == "1" && trackerSummaryOnly(p) {
				*p = dp
				return true
			}
		}
	}
	return false
}
