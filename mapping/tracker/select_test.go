package tracker

import (
	"reflect"
	"testing"
	"time"
)

func TestTrackerForSearch(t *testing.T) {
	now := time.Date(2021, 11, 20, 12, 0, 0, 0, time.UTC)
	rx := func(id, nhs, status, issued, eps string) TrackerPrescription {
		return TrackerPrescription{ID: id, PatientNHSNumber: nhs, PrescriptionStatus: status, PrescriptionIssueDate: issued, EPSVersion: eps}
	}
	all := &TrackerResponse{Kind: TrackerSummary, StatusCode: "0", Prescriptions: []TrackerPrescription{
		rx("A", "9449304106", "Claimed", "20211105114002", "R2"),
		rx("B", "9449304106", "With Dispenser - Active", "20211025112340", "R2"),
		rx("C", "9449304106", "With Dispenser - Active", "20211001000000", "R2"), // older than 28 days
		rx("D", "9912003489", "Claimed", "20211105114002", "R2"),                 // another patient
		rx("E", "9449304106", "Dispensed", "20211119235959", "R1"),
		rx("B", "9449304106", "Dispensed", "20211025112340", "R2"), // B again, later
	}}
	ids := func(r *TrackerResponse) []string {
		var out []string
		for _, p := range r.Prescriptions {
			out = append(out, p.ID+":"+p.PrescriptionStatus)
		}
		return out
	}
	tests := []struct {
		name   string
		search TrackerSearch
		want   []string
		status string
	}{
		{"default window", TrackerSearch{NHSNumber: "9449304106"}, []string{"A:Claimed", "B:Dispensed", "E:Dispensed"}, "0"},
		{"earliest date", TrackerSearch{NHSNumber: "9449304106", EarliestDate: "20211001"}, []string{"A:Claimed", "B:Dispensed", "C:With Dispenser - Active", "E:Dispensed"}, "0"},
		{"latest date takes the whole day", TrackerSearch{NHSNumber: "9449304106", EarliestDate: "20211001", LatestDate: "20211025"}, []string{"B:Dispensed", "C:With Dispenser - Active"}, "0"},
		{"status", TrackerSearch{NHSNumber: "9449304106", PrescriptionStatus: "0008"}, []string{"A:Claimed"}, "0"},
		{"R1 only", TrackerSearch{NHSNumber: "9449304106", PrescriptionVersion: "1"}, []string{"E:Dispensed"}, "0"},
		{"R2 only", TrackerSearch{NHSNumber: "9449304106", PrescriptionVersion: "R2"}, []string{"A:Claimed", "B:Dispensed"}, "0"},
		{"latest before earliest", TrackerSearch{NHSNumber: "9449304106", EarliestDate: "20211101", LatestDate: "20211001"}, nil, "1"},
		{"nobody", TrackerSearch{NHSNumber: "9000000009"}, nil, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := all.ForSearch(tt.search, now)
			if got.StatusCode != tt.status || !reflect.DeepEqual(ids(got), tt.want) {
				t.Errorf("status %s %v, want %s %v", got.StatusCode, ids(got), tt.status, tt.want)
			}
			if tt.status == "1" && got.Reason != TrackerReasonNoMatch {
				t.Errorf("reason %q", got.Reason)
			}
		})
	}
	failed := (&TrackerError{StatusCode: "5", Reason: "x"}).Response(TrackerSummary)
	if got := failed.ForSearch(TrackerSearch{NHSNumber: "9449304106"}, now); got.StatusCode != "5" || got.Reason != "x" {
		t.Errorf("an error answer became %+v", got)
	}
}

func TestTrackerForRetrieve(t *testing.T) {
	issue := func(n string) *TrackerRepeatInstance {
		return &TrackerRepeatInstance{CurrentIssue: n, TotalAuthorised: "6"}
	}
	all := &TrackerResponse{Kind: TrackerDetail, StatusCode: "0", Prescriptions: []TrackerPrescription{
		{ID: "2D35F7-ZA0448-11E88Z", RepeatInstance: issue("1"), PrescriptionStatus: "Dispensed"},
		{ID: "2D35F7-ZA0448-11E88Z", RepeatInstance: issue("2"), PrescriptionStatus: "With Dispenser"},
		{ID: "OTHER0-ZA0448-11E88Z", PrescriptionStatus: "Claimed"},
	}}
	tests := []struct {
		name         string
		q            TrackerRetrieve
		status, want string
	}{
		{"current issue", TrackerRetrieve{PrescriptionID: "2D35F7-ZA0448-11E88Z"}, "0", "With Dispenser"},
		{"issue 1", TrackerRetrieve{PrescriptionID: "2D35F7-ZA0448-11E88Z", IssueNumber: "1"}, "0", "Dispensed"},
		{"case of the id", TrackerRetrieve{PrescriptionID: "2d35f7-za0448-11e88z", IssueNumber: "2"}, "0", "With Dispenser"},
		{"acute issue 1", TrackerRetrieve{PrescriptionID: "OTHER0-ZA0448-11E88Z", IssueNumber: "1"}, "0", "Claimed"},
		{"no such issue", TrackerRetrieve{PrescriptionID: "2D35F7-ZA0448-11E88Z", IssueNumber: "3"}, "8", ""},
		{"no such prescription", TrackerRetrieve{PrescriptionID: "AAAAAA-ZA0448-11E88Z"}, "6", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := all.ForRetrieve(tt.q)
			if got.Kind != TrackerDetail || got.StatusCode != tt.status {
				t.Fatalf("kind %v status %s (%s), want detail %s", got.Kind, got.StatusCode, got.Reason, tt.status)
			}
			if tt.status == "0" && (len(got.Prescriptions) != 1 || got.Prescriptions[0].PrescriptionStatus != tt.want) {
				t.Errorf("prescriptions %+v, want one %s", got.Prescriptions, tt.want)
			}
		})
	}
}
