package tracker

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/porxgate/porxgate/mapping/core"
)

// The documented EPS Tracker REST API (nhsconnect/spine-eps-tracker):
// search (format trace-summary) answers {reason, version, prescriptionList,
// statusCode} with every issue of each prescription; retrieve (format
// trace) answers {reason, version, prescription, statusCode} with one
// issue. Statuses and treatment types travel as {text, code} pairs, line
// items are keyed by their ordinal. An error answers the same top-level
// members with an empty "prescriptions" (search) or "prescription"
// (retrieve) object.
//
// A TraceAnswer is built from a TrackerResponse read from the EPS tracker
// (TraceSearch, TraceRetrieve) and turned back into one (Tracker), so both
// directions share TrackerToFHIR and TrackerFromFHIR.

// TraceFalse is how Spine writes a date of an event that has not happened.
const TraceFalse = "False"

// TraceCoded is a {text, code} pair: a status or a type.
type TraceCoded struct {
	Text, Code string
}

// TraceOrganisation is an organisation of a retrieve answer.
type TraceOrganisation struct {
	ODS, Name, Contact string
}

// TraceLineItem is one line item of an issue, keyed by its ordinal.
type TraceLineItem struct {
	// Ordinal is the item's position in the prescription, from "1".
	Ordinal string
	// ID is the line item id (retrieve answers only).
	ID     string
	Status TraceCoded
}

// TraceIssue is one issue (instance) of a prescription.
type TraceIssue struct {
	Number string
	Status TraceCoded
	// IssueDate (search) is the day the issue was released to a dispenser
	// (YYYYMMDD), or TraceFalse.
	IssueDate string
	// The fields below are the retrieve answer's.
	DispensingOrganisation TraceOrganisation
	AppliedCancellations   string
	// LastDispenseDate and LastClaimDate are YYYYMMDD, or TraceFalse.
	LastDispenseDate, LastClaimDate string
	LineItems                       []TraceLineItem
}

// TracePrescription is one prescription of a documented tracker answer.
type TracePrescription struct {
	ID                   string
	PatientNHSNumber     string
	TreatmentType        TraceCoded
	LastEventDate        string
	PendingCancellations string
	CurrentIssueNumber   string
	// IssueDate is prescriptionIssueDate (search answers).
	IssueDate string
	// The fields below are the retrieve answer's.
	PrescriptionType   TraceCoded
	SigningDate        string
	DaysSupply         string
	NominatedDispenser TraceOrganisation // ODS and Name only
	Prescriber         TraceOrganisation
	// Issues are every issue (search), or the one asked for (retrieve;
	// none with status 3).
	Issues []TraceIssue
}

// TraceAnswer is an answer of the documented tracker: Kind TrackerSummary
// for a search, TrackerDetail for a retrieve.
type TraceAnswer struct {
	Kind       TrackerKind
	StatusCode string
	Reason     string
	Version    string
	// Prescriptions are the prescriptions found; a retrieve holds one (also
	// with status 3, whose issue is missing).
	Prescriptions []TracePrescription
}

// OK reports whether the answer carries a prescription (status 0, or 3).
func (a *TraceAnswer) OK() bool {
	return a.StatusCode == TrackerStatusOK || (a.Kind == TrackerDetail && a.StatusCode == TrackerStatusIssueNotFound)
}

// TraceError is the documented tracker's answer of kind k reporting e.
func TraceError(k TrackerKind, e *TrackerError) *TraceAnswer {
	return &TraceAnswer{Kind: k, StatusCode: e.StatusCode, Reason: e.Reason, Version: TrackerVersion}
}

// traceErrorOf turns an error answer read from the EPS tracker into the
// documented tracker's: the NHS111 not-found codes become 1 and 3.
func traceErrorOf(k TrackerKind, r *TrackerResponse) *TraceAnswer {
	switch r.StatusCode {
	case TrackerStatusNoMatch, TrackerStatusPrescriptionMissing:
		return TraceError(k, &TrackerError{StatusCode: TrackerStatusNoMatch, Reason: TrackerReasonNotFound})
	case TrackerStatusInstanceMissing:
		return TraceError(k, &TrackerError{StatusCode: TrackerStatusIssueNotFound, Reason: TrackerReasonIssueNotFound})
	}
	return TraceError(k, &TrackerError{StatusCode: r.StatusCode, Reason: r.Reason})
}

// TraceSearch answers search s from r, the EPS tracker's answer read as a
// detail (TrackerFromFHIR with TrackerDetail, so that the release and
// claim dates are read): the prescriptions of s's patient issued in s's
// window, in its version when given, each with every issue — those EPS
// reported, then the future ones of a repeat dispensing prescription. A
// status, when given, is matched as Spine matches it: by any issue's
// status, so that 9000 finds a repeat dispensing prescription whose later
// issues wait. None left is status 1.
func TraceSearch(r *TrackerResponse, s TrackerSearch, now time.Time) *TraceAnswer {
	if !r.OK() {
		return traceErrorOf(TrackerSummary, r)
	}
	earliest, anyStatus := s.window(now)
	out := &TraceAnswer{Kind: TrackerSummary, StatusCode: TrackerStatusOK, Version: TrackerVersion}
	for _, group := range groupTrackerIssues(r.Prescriptions) {
		cur := currentTrackerIssue(group)
		if !trackerMatches(cur, anyStatus, earliest) {
			continue
		}
		tp := tracePrescriptionOf(cur, TrackerSummary)
		for i := range group {
			tp.Issues = append(tp.Issues, traceIssueOf(&group[i], TrackerSummary))
		}
		tp.Issues = append(tp.Issues, futureTraceIssues(cur, TrackerSummary)...)
		if s.PrescriptionStatus != "" && !slices.ContainsFunc(tp.Issues, func(is TraceIssue) bool { return is.Status.Code == s.PrescriptionStatus }) {
			continue
		}
		out.Prescriptions = append(out.Prescriptions, tp)
	}
	if len(out.Prescriptions) == 0 {
		return TraceError(TrackerSummary, &TrackerError{StatusCode: TrackerStatusNoMatch, Reason: TrackerReasonNotFound})
	}
	return out
}

// window is the earliest day s asks for (TrackerDefaultWindow before now
// when it names none) and s without its status, which a documented search
// matches against every issue rather than the current one.
func (s TrackerSearch) window(now time.Time) (earliest string, anyStatus TrackerSearch) {
	earliest = s.EarliestDate
	if earliest == "" {
		earliest = now.UTC().Add(-TrackerDefaultWindow).Format(core.V3DateLayout)
	}
	anyStatus = s
	anyStatus.PrescriptionStatus = ""
	return earliest, anyStatus
}

// TraceRetrieve answers retrieve q from r (read as for TraceSearch): the
// prescription at the issue asked for, else its current issue. No such
// prescription is status 1; answers for one id that disagree on the
// patient, status 2; an issue that EPS did not report and that is not a
// future issue, status 3 with the prescription and no issue.
func TraceRetrieve(r *TrackerResponse, q TrackerRetrieve) *TraceAnswer {
	if !r.OK() {
		return traceErrorOf(TrackerDetail, r)
	}
	var group []TrackerPrescription
	for _, p := range r.Prescriptions {
		if strings.EqualFold(p.ID, q.PrescriptionID) {
			group = append(group, p)
		}
	}
	if len(group) == 0 {
		return TraceError(TrackerDetail, &TrackerError{StatusCode: TrackerStatusNoMatch, Reason: TrackerReasonNotFound})
	}
	for _, p := range group[1:] {
		if p.PatientNHSNumber != group[0].PatientNHSNumber {
			return TraceError(TrackerDetail, &TrackerError{StatusCode: TrackerStatusNotUnique, Reason: TrackerReasonNotUnique})
		}
	}
	group = groupTrackerIssues(group)[0]
	cur := currentTrackerIssue(group)
	tp := tracePrescriptionOf(cur, TrackerDetail)
	want := q.IssueNumber
	if want == "" {
		want = tp.CurrentIssueNumber
	}
	out := &TraceAnswer{Kind: TrackerDetail, StatusCode: TrackerStatusOK, Version: TrackerVersion}
	for i := range group {
		if trackerIssueOf(&group[i]) == want {
			tp.Issues = []TraceIssue{traceIssueOf(&group[i], TrackerDetail)}
		}
	}
	if tp.Issues == nil {
		for _, is := range futureTraceIssues(cur, TrackerDetail) {
			if is.Number == want {
				tp.Issues = []TraceIssue{is}
			}
		}
	}
	if tp.Issues == nil {
		out.StatusCode, out.Reason = TrackerStatusIssueNotFound, TrackerReasonIssueNotFound
	}
	out.Prescriptions = []TracePrescription{tp}
	return out
}

// groupTrackerIssues groups prescriptions by id (in first-seen order), each
// group's issues in issue order, one per issue (the last EPS listed).
func groupTrackerIssues(ps []TrackerPrescription) [][]TrackerPrescription {
	var order []string
	byID := map[string][]TrackerPrescription{}
	for _, p := range ps {
		key := strings.ToUpper(p.ID)
		g, seen := byID[key]
		if !seen {
			order = append(order, key)
		}
		replaced := false
		for i := range g {
			if trackerIssueOf(&g[i]) == trackerIssueOf(&p) {
				g[i], replaced = p, true
			}
		}
		if !replaced {
			g = append(g, p)
		}
		byID[key] = g
	}
	out := make([][]TrackerPrescription, 0, len(order))
	for _, key := range order {
		g := byID[key]
		sortTrackerIssues(g)
		out = append(out, g)
	}
	return out
}

// sortTrackerIssues sorts one prescription's issues by number (insertion
// sort: a prescription has few issues).
func sortTrackerIssues(g []TrackerPrescription) {
	num := func(p *TrackerPrescription) int { n, _ := strconv.Atoi(trackerIssueOf(p)); return n }
	for i := 1; i < len(g); i++ {
		for j := i; j > 0 && num(&g[j]) < num(&g[j-1]); j-- {
			g[j], g[j-1] = g[j-1], g[j]
		}
	}
}

// currentTrackerIssue is the issue of a group that is current: the latest
// that is not a future or future-cancelled one, else the first.
func currentTrackerIssue(g []TrackerPrescription) *TrackerPrescription {
	for i := len(g) - 1; i >= 0; i-- {
		if st, ok := trackerStatusByText(g[i].PrescriptionStatus); !ok || !isFutureStatus(st.code) {
			return &g[i]
		}
	}
	return &g[0]
}

// isFutureStatus reports whether a prescription status is one of an issue
// that has not begun (9000, 9001, 9005).
func isFutureStatus(code string) bool {
	return code == "9000" || code == "9001" || code == "9005"
}

// tracePrescriptionOf is the prescription-level part of p (its current
// issue) in the documented tracker's terms, without issues.
func tracePrescriptionOf(p *TrackerPrescription, k TrackerKind) TracePrescription {
	tp := TracePrescription{
		ID:                   p.ID,
		PatientNHSNumber:     p.PatientNHSNumber,
		LastEventDate:        p.LastEventDate,
		PendingCancellations: p.PendingCancellations,
		CurrentIssueNumber:   trackerIssueOf(p),
	}
	if tp.PendingCancellations == "" {
		tp.PendingCancellations = TraceFalse
	}
	tp.TreatmentType.Text = p.PrescriptionTreatmentType
	if tt, _, ok := trackerTreatmentByText(p.PrescriptionTreatmentType); ok {
		tp.TreatmentType.Code = tt.code
	}
	if k == TrackerSummary {
		tp.IssueDate = p.PrescriptionIssueDate
		return tp
	}
	tp.PrescriptionType = TraceCoded{Text: p.PrescriptionTypeText, Code: p.PrescriptionTypeCode}
	tp.SigningDate = p.SigningDate
	if tp.SigningDate == "" {
		tp.SigningDate = p.PrescriptionIssueDate
	}
	tp.DaysSupply = p.DaysSupply
	if o := p.NominatedPharmacy; o != nil {
		tp.NominatedDispenser = TraceOrganisation{ODS: o.ODS, Name: o.Name}
	}
	if o := p.Prescriber; o != nil {
		tp.Prescriber = TraceOrganisation{ODS: o.ODS, Name: o.Name, Contact: o.Phone}
	}
	return tp
}

// traceIssueOf is the issue p describes.
func traceIssueOf(p *TrackerPrescription, k TrackerKind) TraceIssue {
	is := TraceIssue{Number: trackerIssueOf(p), Status: TraceCoded{Text: p.PrescriptionStatus}}
	if st, ok := trackerStatusByText(p.PrescriptionStatus); ok {
		is.Status.Code = st.code
	}
	for i, it := range p.LineItems {
		li := TraceLineItem{Ordinal: strconv.Itoa(i + 1), Status: TraceCoded{Text: it.ItemStatus}}
		if code, ok := trackerItemCode(it.ItemStatus); ok {
			li.Status.Code = code
			li.Status.Text, _ = trackerItemTrace(code)
		}
		if k == TrackerDetail {
			li.ID = core.UpperUUID(it.ID)
		}
		is.LineItems = append(is.LineItems, li)
	}
	if k == TrackerSummary {
		is.IssueDate = traceDay(p.PrescriptionDownloadDate)
		return is
	}
	if o := p.DispensingPharmacy; o != nil {
		is.DispensingOrganisation = TraceOrganisation{ODS: o.ODS, Name: o.Name, Contact: o.Phone}
	}
	is.AppliedCancellations = p.AppliedCancellations
	if is.AppliedCancellations == "" {
		is.AppliedCancellations = trackerBool(trackerCancellationsApplied(p))
	}
	is.LastDispenseDate = traceDay(p.PrescriptionDispensedDate)
	is.LastClaimDate = traceDay(p.PrescriptionClaimedDate)
	return is
}

// futureTraceIssues are the issues after p's of a repeat dispensing
// prescription, up to the number authorised: each waits (9000, its items
// to be dispensed), or, when p is cancelled, is cancelled too. A line item
// cancelled in p is cancelled in each of them, as Spine applies a line
// item's cancellation from the current issue upwards. Only a
// repeat dispensing prescription has them: Spine creates the later issues
// of repeat dispensing alone, and the repeat number of any other
// prescription (a repeat prescribing one's "3 of 6") is no issue waiting.
func futureTraceIssues(p *TrackerPrescription, k TrackerKind) []TraceIssue {
	if p.RepeatInstance == nil || !trackerRepeatDispensing(p.PrescriptionTreatmentType) {
		return nil
	}
	cur, err1 := strconv.Atoi(trackerIssueOf(p))
	total, err2 := strconv.Atoi(strings.TrimLeft(p.RepeatInstance.TotalAuthorised, "0"))
	if err1 != nil || err2 != nil || total > 99 {
		return nil
	}
	status, item := TraceCoded{Code: trackerStatusFutureRepeat}, TraceCoded{Code: "0007"}
	if st, ok := trackerStatusByText(p.PrescriptionStatus); ok && st.code == "0005" {
		status, item = TraceCoded{Code: "0005"}, TraceCoded{Code: "0005"}
	}
	st, _ := trackerStatusByCode(status.Code)
	status.Text = st.text
	item.Text, _ = trackerItemTrace(item.Code)
	cancelled := TraceCoded{Code: "0005"}
	cancelled.Text, _ = trackerItemTrace(cancelled.Code)
	var out []TraceIssue
	for n := cur + 1; n <= total; n++ {
		is := TraceIssue{Number: strconv.Itoa(n), Status: status}
		applied := status.Code == "0005"
		for i, it := range p.LineItems {
			li := TraceLineItem{Ordinal: strconv.Itoa(i + 1), Status: item}
			if code, ok := trackerItemCode(it.ItemStatus); ok && code == cancelled.Code {
				li.Status, applied = cancelled, true
			}
			if k == TrackerDetail {
				li.ID = core.UpperUUID(it.ID)
			}
			is.LineItems = append(is.LineItems, li)
		}
		if k == TrackerSummary {
			is.IssueDate = TraceFalse
		} else {
			is.AppliedCancellations = trackerBool(applied)
			is.LastDispenseDate, is.LastClaimDate = TraceFalse, TraceFalse
		}
		out = append(out, is)
	}
	return out
}

// isFutureTraceIssue reports whether is is what futureTraceIssues makes
// for an issue after current: a waiting issue never released, each line
// item to be dispensed, or cancelled as in the current issue (curItems;
// nil when the answer does not hold the current issue, as a retrieve of
// another does not).
func isFutureTraceIssue(is *TraceIssue, current int, curItems []TraceLineItem) bool {
	n, err := strconv.Atoi(is.Number)
	if err != nil || n <= current || is.Status.Code != trackerStatusFutureRepeat {
		return false
	}
	for i, li := range is.LineItems {
		switch {
		case li.Status.Code == "0007" && (curItems == nil || i >= len(curItems) || curItems[i].Status.Code != "0005"):
		case li.Status.Code == "0005" && (curItems == nil || i < len(curItems) && curItems[i].Status.Code == "0005"):
		default:
			return false
		}
	}
	return (is.IssueDate == "" || is.IssueDate == TraceFalse) &&
		(is.LastDispenseDate == "" || is.LastDispenseDate == TraceFalse) &&
		(is.LastClaimDate == "" || is.LastClaimDate == TraceFalse) &&
		is.DispensingOrganisation == TraceOrganisation{}
}

// trackerCancellationsApplied reports whether a cancellation has been
// applied to the prescription or one of its line items.
func trackerCancellationsApplied(p *TrackerPrescription) bool {
	if st, ok := trackerStatusByText(p.PrescriptionStatus); ok && st.code == "0005" {
		return true
	}
	for _, it := range p.LineItems {
		if code, ok := trackerItemCode(it.ItemStatus); ok && code == "0005" {
			return true
		}
	}
	return false
}

// traceDay is the day (YYYYMMDD) of a Spine time, or TraceFalse.
func traceDay(v string) string {
	if len(v) < 8 || v == TraceFalse {
		return TraceFalse
	}
	return v[:8]
}

// Tracker turns a documented tracker answer back into the model the EPS
// tracker mapping shares (one TrackerPrescription per issue that is not a
// future issue TraceSearch would make again), for TrackerToFHIR. An error
// answer gives the error.
func (a *TraceAnswer) Tracker() (*TrackerResponse, error) {
	out := &TrackerResponse{Kind: TrackerDetail, StatusCode: a.StatusCode, Reason: a.Reason, Version: TrackerVersion}
	if a.StatusCode != TrackerStatusOK {
		return out, nil
	}
	for i := range a.Prescriptions {
		tp := &a.Prescriptions[i]
		path := trackerPath("$.prescriptionList", tp.ID)
		if a.Kind == TrackerDetail {
			path = "$.prescription"
		}
		ps, err := tp.tracker(a.Kind, path)
		if err != nil {
			return nil, fmt.Errorf("tracker trace: %w", err)
		}
		out.Prescriptions = append(out.Prescriptions, ps...)
	}
	return out, nil
}

// tracker is tp's issues as TrackerPrescriptions.
func (tp *TracePrescription) tracker(k TrackerKind, path string) ([]TrackerPrescription, error) {
	cur, err := strconv.Atoi(tp.CurrentIssueNumber)
	if err != nil || cur < 1 {
		return nil, fmt.Errorf("%s.currentIssueNumber: %q is not a whole number from 1", path, tp.CurrentIssueNumber)
	}
	total := cur
	for i := range tp.Issues {
		if n, err := strconv.Atoi(tp.Issues[i].Number); err == nil && n > total {
			total = n
		}
	}
	treatment := tp.TreatmentType.Text
	if tt, ok := trackerTreatmentByCode(tp.TreatmentType.Code); ok && treatment == "" {
		treatment = tt.text
	}
	var curItems []TraceLineItem
	for i := range tp.Issues {
		if tp.Issues[i].Number == tp.CurrentIssueNumber {
			curItems = tp.Issues[i].LineItems
		}
	}
	var out []TrackerPrescription
	for i := range tp.Issues {
		is := &tp.Issues[i]
		ip := fmt.Sprintf("%s.issues[%q]", path, is.Number)
		if k == TrackerDetail {
			ip = path + ".issue"
		}
		if trackerRepeatDispensing(treatment) && isFutureTraceIssue(is, cur, curItems) {
			continue
		}
		p := TrackerPrescription{
			ID: tp.ID, PatientNHSNumber: tp.PatientNHSNumber, LastEventDate: tp.LastEventDate,
			EPSVersion: "R2", PendingCancellations: tp.PendingCancellations, PrescriptionTreatmentType: treatment,
			RepeatInstance:        &TrackerRepeatInstance{CurrentIssue: is.Number, TotalAuthorised: strconv.Itoa(total)},
			PrescriptionIssueDate: tp.IssueDate,
			PrescriptionTypeCode:  tp.PrescriptionType.Code, PrescriptionTypeText: tp.PrescriptionType.Text,
			DaysSupply: tp.DaysSupply, AppliedCancellations: is.AppliedCancellations,
		}
		if len(tp.ID) >= 36 {
			p.EPSVersion = "R1"
		}
		if k == TrackerDetail {
			p.PrescriptionIssueDate = tp.SigningDate
			p.SigningDate = tp.SigningDate
		}
		st, ok := trackerStatusByCode(is.Status.Code)
		if !ok {
			return nil, fmt.Errorf("%s.prescriptionStatus.statusCode: %q is not a prescription status", ip, is.Status.Code)
		}
		p.PrescriptionStatus = st.text
		for _, d := range [...]struct {
			v   string
			dst *string
		}{{is.IssueDate, &p.PrescriptionDownloadDate}, {is.LastDispenseDate, &p.PrescriptionDispensedDate}, {is.LastClaimDate, &p.PrescriptionClaimedDate}} {
			if d.v != "" && d.v != TraceFalse {
				*d.dst = d.v
			}
		}
		if o := tp.Prescriber; o != (TraceOrganisation{}) {
			p.Prescriber = &TrackerOrganisation{ODS: o.ODS, Name: o.Name, Phone: o.Contact}
		}
		if o := tp.NominatedDispenser; o != (TraceOrganisation{}) {
			p.NominatedPharmacy = &TrackerOrganisation{ODS: o.ODS, Name: o.Name}
		}
		if o := is.DispensingOrganisation; o != (TraceOrganisation{}) {
			p.DispensingPharmacy = &TrackerOrganisation{ODS: o.ODS, Name: o.Name, Phone: o.Contact}
		}
		for _, li := range is.LineItems {
			code, ok := trackerItemCodeOfTrace(li.Status.Text)
			if li.Status.Code != "" {
				code, ok = li.Status.Code, true
			}
			text, known := trackerItemText(code)
			if !ok || !known {
				return nil, fmt.Errorf("%s.lineItems[%q].status: %q is not a line item status", ip, li.Ordinal, li.Status.Code)
			}
			id := li.ID
			if id == "" {
				id = li.Ordinal // a search answer names items by ordinal only
			}
			p.LineItems = append(p.LineItems, TrackerLineItem{ID: id, ItemStatus: text})
		}
		out = append(out, p)
	}
	return out, nil
}
