package tracker

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping/core"
)

// The documentation's examples (nhsconnect/spine-eps-tracker, "Search for
// prescriptions" and "Retrieve a prescription"), transcribed compactly:
// the documented tracker's JSON must read, and survive a trip through the
// EPS tracker's FHIR and back.
const (
	// docSearchSingle is "Successful search with a single prescription
	// found", its " prescriptionList" key as the documentation spells it.
	docSearchSingle = `{"reason":"","version":"1"," prescriptionList":{"A3B4D9-Z42475-11E6B+":{
	 "prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Repeat Dispensing","prescriptionTreatmentTypeCode":"0003"},
	 "prescriptionIssueDate":"20160711110721","pendingCancellations":"False","lastEventDate":"20160711110722","currentIssueNumber":"1",
	 "issues":{
	  "1":{"issueDate":"False","lineItems":{"1":{"status":{"statusText":"To Be Dispensed","statusCode":"0007"}},"2":{"status":{"statusText":"To Be Dispensed","statusCode":"0007"}}},
	       "prescriptionStatus":{"statusText":"To Be Dispensed","statusCode":"0001"}},
	  "2":{"issueDate":"False","lineItems":{"1":{"status":{"statusText":"To Be Dispensed","statusCode":"0007"}},"2":{"status":{"statusText":"To Be Dispensed","statusCode":"0007"}}},
	       "prescriptionStatus":{"statusText":"Prescription future instance","statusCode":"9000"}}},
	 "patientNhsNumber":"9912003489"}},"statusCode":"0"}`

	// docSearchMultiple is two of "Successful search with multiple
	// prescriptions found" (an R2 and an R1 id).
	docSearchMultiple = `{"reason":"","version":"1"," prescriptionList ":{
	 "D29E5B-Z5C475-11E6AR":{"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Repeat Prescribing","prescriptionTreatmentTypeCode":"0002"},
	  "prescriptionIssueDate":"20150909194211","pendingCancellations":"False","lastEventDate":"20150909194214","currentIssueNumber":"1",
	  "issues":{"1":{"issueDate":"20150909","lineItems":{"1":{"status":{"statusText":"Item with dispenser","statusCode":"0008"}},"2":{"status":{"statusText":"Item with dispenser","statusCode":"0008"}}},
	   "prescriptionStatus":{"statusText":"With Dispenser","statusCode":"0002"}}},"patientNhsNumber":"9990406480"},
	 "D2A080EE-475C-11E6-A68F-08002732570CN":{"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Repeat Prescribing","prescriptionTreatmentTypeCode":"0002"},
	  "prescriptionIssueDate":"20150909194211","pendingCancellations":"False","lastEventDate":"20150909194214","currentIssueNumber":"1",
	  "issues":{"1":{"issueDate":"20150909","lineItems":{"1":{"status":{"statusText":"Item with dispenser","statusCode":"0008"}},"2":{"status":{"statusText":"Item with dispenser","statusCode":"0008"}}},
	   "prescriptionStatus":{"statusText":"With Dispenser","statusCode":"0002"}}},"patientNhsNumber":"9990406480"}},"statusCode":"0"}`

	// docRetrieve is the retrieve's "Payload Response Body".
	docRetrieve = `{"reason":"","version":"1","prescription":{
	 "prescriptionType":{"prescriptionTypeText":"GENERAL PRACTITIONER PRESCRIBING","prescriptionTypeCode":"0001"},
	 "prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Acute Prescription","prescriptionTreatmentTypeCode":"0001"},
	 "nominatedDispenserODS":"FA666","daysSupply":"28","pendingCancellations":"False","prescribingOrganisationName":"VERNON STREET MEDICAL CTR",
	 "prescribingOrganisationContact":"01332332812","signingDate":"20120108210751","currentIssueNumber":"1","prescribingOrganisationODS":"C81007",
	 "prescriptionId":"000136-ZC2D5C-11E38K","lastEventDate":"20140507100013","nominatedDispenserName":"CROYDON PHARMACY",
	 "issue":{"dispensingOrganisationODS":"FA666","appliedCancellations":"False","lastDispenseDate":"20140507","dispensingOrganisationContact":"",
	  "issueNumber":"1","lineItems":{
	   "1":{"status":{"statusText":"Item fully dispensed","statusCode":"0001"},"id":"02ED7776-21CD-4E7B-AC9D-D1DBFEE7B8CF"},
	   "2":{"status":{"statusText":"Item fully dispensed","statusCode":"0001"},"id":"45D5FB11-D793-4D51-9ADD-95E0F54D2786"}},
	  "prescriptionStatus":{"statusText":"Claimed","statusCode":"0008"},"dispensingOrganisationName":"CROYDON PHARMACY"},
	 "patientNhsNumber":"9912003446"},"statusCode":"0"}`

	// docSearchError and docRetrieveError are the documented errors.
	docSearchError   = `{"reason":"Invalid or missing NHS number","version":"1","prescriptions":{},"statusCode":"61"}`
	docRetrieveError = `{"reason":"Not found","version":"1.0","prescription":{},"statusCode":"1"}`
)

// TestParseTraceJSONDocExamples reads each documented example and checks
// what it says.
func TestParseTraceJSONDocExamples(t *testing.T) {
	a, err := ParseTraceJSON([]byte(docSearchSingle))
	if err != nil {
		t.Fatal(err)
	}
	p := a.Prescriptions[0]
	if a.Kind != TrackerSummary || a.StatusCode != "0" || p.ID != "A3B4D9-Z42475-11E6B+" || p.TreatmentType.Code != "0003" ||
		len(p.Issues) != 2 || p.Issues[1].Status.Code != "9000" || len(p.Issues[1].LineItems) != 2 || p.Issues[1].LineItems[1].Ordinal != "2" {
		t.Errorf("single search: %+v", a)
	}
	a, err = ParseTraceJSON([]byte(docSearchMultiple))
	if err != nil || len(a.Prescriptions) != 2 || a.Prescriptions[1].ID != "D2A080EE-475C-11E6-A68F-08002732570CN" || a.Prescriptions[1].Issues[0].IssueDate != "20150909" {
		t.Errorf("multiple search: %v %+v", err, a)
	}
	a, err = ParseTraceJSON([]byte(docRetrieve))
	if err != nil {
		t.Fatal(err)
	}
	p = a.Prescriptions[0]
	if a.Kind != TrackerDetail || p.ID != "000136-ZC2D5C-11E38K" || p.PrescriptionType.Code != "0001" || p.Prescriber.Contact != "01332332812" ||
		p.NominatedDispenser != (TraceOrganisation{ODS: "FA666", Name: "CROYDON PHARMACY"}) || len(p.Issues) != 1 ||
		p.Issues[0].LastDispenseDate != "20140507" || p.Issues[0].LineItems[1].ID != "45D5FB11-D793-4D51-9ADD-95E0F54D2786" {
		t.Errorf("retrieve: %+v", a)
	}
	for _, e := range []string{docSearchError, docRetrieveError} {
		a, err := ParseTraceJSON([]byte(e))
		if err != nil || a.OK() || len(a.Prescriptions) != 0 {
			t.Errorf("%s: %v %+v", e, err, a)
		}
		out, _ := a.MarshalJSON()
		if !bytes.Equal(out, []byte(e)) {
			t.Errorf("error written back\n got %s\nwant %s", out, e)
		}
	}
}

// TestTraceDocExamplesThroughFHIR takes each documented example to the EPS
// tracker's FHIR (porxgate's extensions keep what EPS has no place for) and
// back through the search or retrieve it answers: the same JSON returns,
// except that future issues carry Spine's own text for 9000.
func TestTraceDocExamplesThroughFHIR(t *testing.T) {
	now := time.Date(2016, 7, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, doc string
		ask       func(r *TrackerResponse) *TraceAnswer
	}{
		{"single search", docSearchSingle, func(r *TrackerResponse) *TraceAnswer {
			return TraceSearch(r, TrackerSearch{NHSNumber: "9912003489"}, now)
		}},
		{"multiple search", docSearchMultiple, func(r *TrackerResponse) *TraceAnswer {
			return TraceSearch(r, TrackerSearch{NHSNumber: "9990406480", EarliestDate: "20150101"}, now)
		}},
		{"retrieve", docRetrieve, func(r *TrackerResponse) *TraceAnswer {
			return TraceRetrieve(r, TrackerRetrieve{PrescriptionID: "000136-ZC2D5C-11E38K", IssueNumber: "1"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseTraceJSON([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			want, err := doc.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			want = bytes.ReplaceAll(want, []byte(`"Prescription future instance","statusCode":"9000"`), []byte(`"Repeat Dispense future instance","statusCode":"9000"`))
			if doc.Kind == TrackerDetail {
				// The example predates the claim date porxgate adds.
				want = bytes.Replace(want, []byte(`"lastClaimDate":""`), []byte(`"lastClaimDate":"False"`), 1)
			}
			r, err := doc.Tracker()
			if err != nil {
				t.Fatal(err)
			}
			res, err := TrackerToFHIR(r, core.CountingIDs())
			if err != nil {
				t.Fatal(err)
			}
			back, err := TrackerFromResource(TrackerDetail, res)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.ask(back).MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("through FHIR\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestTraceFromEPSTask answers a search and a retrieve from a Task as the
// EPS API writes it (no lastModified, nothing of porxgate's): treatment
// type from courseOfTherapyType, the last event from the latest date, the
// owner as the dispenser once downloaded, a line item id upper case as
// Spine writes it (EPS writes it lower case), and empty what EPS cannot
// say.
func TestTraceFromEPSTask(t *testing.T) {
	r, err := TrackerFromFHIR(TrackerDetail, []byte(epsTrackerAnswer))
	if err != nil {
		t.Fatal(err)
	}
	search := TraceSearch(r, TrackerSearch{NHSNumber: "9449305552", EarliestDate: "20210901"}, time.Now())
	got, _ := search.MarshalJSON()
	want := `{"reason":"","version":"1","prescriptionList":{"D7AC09-A99968-4BA59C":{` +
		`"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Acute Prescription","prescriptionTreatmentTypeCode":"0001"},` +
		`"prescriptionIssueDate":"20210908","pendingCancellations":"False","lastEventDate":"20210908","currentIssueNumber":"1",` +
		`"issues":{"1":{"issueDate":"20210908","lineItems":{"1":{"status":{"statusText":"Item fully dispensed","statusCode":"0001"}}},` +
		`"prescriptionStatus":{"statusText":"With Dispenser - Active","statusCode":"0003"}}},"patientNhsNumber":"9449305552"}},"statusCode":"0"}`
	if string(got) != want {
		t.Errorf("search\n got %s\nwant %s", got, want)
	}
	retrieve := TraceRetrieve(r, TrackerRetrieve{PrescriptionID: "d7ac09-a99968-4ba59c"})
	got, _ = retrieve.MarshalJSON()
	want = `{"reason":"","version":"1","prescription":{"prescriptionType":{"prescriptionTypeText":"","prescriptionTypeCode":""},` +
		`"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Acute Prescription","prescriptionTreatmentTypeCode":"0001"},` +
		`"nominatedDispenserODS":"","daysSupply":"","pendingCancellations":"False",` +
		`"prescribingOrganisationName":"SOMERSET BOWEL CANCER SCREENING CENTRE","prescribingOrganisationContact":"","signingDate":"20210908",` +
		`"currentIssueNumber":"1","prescribingOrganisationODS":"A99968","prescriptionId":"D7AC09-A99968-4BA59C","lastEventDate":"20210908",` +
		`"nominatedDispenserName":"","issue":{"dispensingOrganisationODS":"VNFKT","appliedCancellations":"False","lastDispenseDate":"20210908",` +
		`"lastClaimDate":"False","dispensingOrganisationContact":"","issueNumber":"1",` +
		`"lineItems":{"1":{"status":{"statusText":"Item fully dispensed","statusCode":"0001"},"id":"A54219B8-F741-4C47-B662-E4F8DFA49AB6"}},` +
		`"prescriptionStatus":{"statusText":"With Dispenser - Active","statusCode":"0003"},"dispensingOrganisationName":"FIVE STAR HOMECARE LEEDS LTD"},` +
		`"patientNhsNumber":"9449305552"},"statusCode":"0"}`
	if string(got) != want {
		t.Errorf("retrieve\n got %s\nwant %s", got, want)
	}
	if a := TraceRetrieve(r, TrackerRetrieve{PrescriptionID: "D7AC09-A99968-4BA59C", IssueNumber: "2"}); a.StatusCode != "3" || len(a.Prescriptions) != 1 {
		t.Errorf("issue 2 of 1: %+v", a)
	}
}

// TestTraceErrors checks how EPS's refusals and the NHS111 codes become the
// documented ones.
func TestTraceErrors(t *testing.T) {
	tests := []struct {
		in         *TrackerResponse
		kind       TrackerKind
		want       string
		wantStatus string
	}{
		{(&TrackerError{StatusCode: TrackerStatusPrescriptionMissing, Reason: TrackerReasonPrescriptionMissing}).Response(TrackerDetail), TrackerDetail,
			`{"reason":"Not found","version":"1","prescription":{},"statusCode":"1"}`, "1"},
		{(&TrackerError{StatusCode: TrackerStatusNoMatch, Reason: TrackerReasonNoMatch}).Response(TrackerSummary), TrackerSummary,
			`{"reason":"Not found","version":"1","prescriptions":{},"statusCode":"1"}`, "1"},
		{(&TrackerError{StatusCode: TrackerStatusInstanceMissing, Reason: TrackerReasonInstanceMissing}).Response(TrackerDetail), TrackerDetail,
			`{"reason":"Issue not found","version":"1","prescription":{},"statusCode":"3"}`, "3"},
		{(&TrackerError{StatusCode: "5", Reason: "Unexpected exception: x"}).Response(TrackerSummary), TrackerSummary,
			`{"reason":"Unexpected exception: x","version":"1","prescriptions":{},"statusCode":"5"}`, "5"},
	}
	for _, tt := range tests {
		var a *TraceAnswer
		if tt.kind == TrackerSummary {
			a = TraceSearch(tt.in, TrackerSearch{NHSNumber: "9449305552"}, time.Now())
		} else {
			a = TraceRetrieve(tt.in, TrackerRetrieve{PrescriptionID: "D7AC09-A99968-4BA59C"})
		}
		got, _ := a.MarshalJSON()
		if string(got) != tt.want || a.StatusCode != tt.wantStatus {
			t.Errorf("\n got %s\nwant %s", got, tt.want)
		}
	}
	two := `{"resourceType":"Bundle","type":"searchset","entry":[` + taskEntry("9449305552") + `,` + taskEntry("9990406480") + `]}`
	r, err := TrackerFromFHIR(TrackerDetail, []byte(two))
	if err != nil {
		t.Fatal(err)
	}
	if a := TraceRetrieve(r, TrackerRetrieve{PrescriptionID: "D7AC09-A99968-4BA59C"}); a.StatusCode != "2" || a.Reason != "No unique prescription" {
		t.Errorf("two patients for one id: %+v", a)
	}
}

// taskEntry is a minimal EPS tracker Task entry for patient nhs.
func taskEntry(nhs string) string {
	return `{"resource":{"resourceType":"Task","businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"0001"}]},` +
		`"focus":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"D7AC09-A99968-4BA59C"}},` +
		`"for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + nhs + `"}},"authoredOn":"2021-09-08"}}`
}

// TestParseTraceJSONMalformed checks that bad documented-tracker JSON is
// refused with an error naming where.
func TestParseTraceJSONMalformed(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not JSON", `{"reason":`, "not JSON"},
		{"an array", `[]`, "want an object"},
		{"no status", `{"reason":"","version":"1","prescriptions":{}}`, "$.statusCode: missing"},
		{"no prescription member", `{"statusCode":"0","reason":"","version":"1"}`, "no prescriptionList"},
		{"both members", `{"statusCode":"0","prescriptionList":{},"prescription":{}}`, "a second prescription member"},
		{"unknown top member", `{"statusCode":"0","prescriptionList":{},"extra":""}`, "$.extra: unknown member"},
		{"number status", `{"statusCode":0,"prescriptionList":{}}`, "$.statusCode: want a string"},
		{"error with prescriptions", `{"statusCode":"61","prescriptions":{"A":{}}}`, "(an error) with 1 prescriptions"},
		{"error with a prescription", `{"statusCode":"1","prescription":{"prescriptionId":"A"}}`, "(an error) with a prescription"},
		{"issue number not a number", `{"statusCode":"0","prescriptionList":{"A":{"issues":{"one":{}}}}}`, `issue number "one"`},
		{"ordinal not a number", `{"statusCode":"0","prescriptionList":{"A":{"issues":{"1":{"lineItems":{"x":{}}}}}}}`, `ordinal "x"`},
		{"id in a search line item", `{"statusCode":"0","prescriptionList":{"A":{"issues":{"1":{"lineItems":{"1":{"id":"i"}}}}}}}`, ".id: unknown member"},
		{"unknown status member", `{"statusCode":"0","prescriptionList":{"A":{"issues":{"1":{"prescriptionStatus":{"text":""}}}}}}`, ".text: unknown member"},
		{"repeated key", `{"statusCode":"0","statusCode":"0","prescriptionList":{}}`, "repeated"},
		{"retrieve without id", `{"statusCode":"0","prescription":{"currentIssueNumber":"1"}}`, "prescriptionId: missing"},
		{"unknown retrieve member", `{"statusCode":"0","prescription":{"prescriptionId":"A","colour":"red"}}`, ".colour: unknown member"},
		{"unknown issue member", `{"statusCode":"0","prescription":{"prescriptionId":"A","issue":{"colour":""}}}`, ".issue.colour: unknown member"},
		{"data after", `{"statusCode":"0","prescriptionList":{}} {}`, "data after the object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTraceJSON([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestTraceTrackerRefusesUnknownCodes checks that the way back to FHIR
// refuses statuses it cannot code.
func TestTraceTrackerRefusesUnknownCodes(t *testing.T) {
	for _, in := range []string{
		`{"statusCode":"0","prescriptionList":{"A":{"currentIssueNumber":"1","issues":{"1":{"prescriptionStatus":{"statusText":"Lost","statusCode":"0042"}}}}}}`,
		`{"statusCode":"0","prescriptionList":{"A":{"currentIssueNumber":"1","issues":{"1":{"prescriptionStatus":{"statusCode":"0001"},"lineItems":{"1":{"status":{"statusCode":"0099"}}}}}}}}`,
		`{"statusCode":"0","prescriptionList":{"A":{"currentIssueNumber":"x","issues":{}}}}`,
	} {
		a, err := ParseTraceJSON([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Tracker(); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}

// epsRepeatTask is a Task entry as the EPS API writes it from Spine's
// record of a prescription of course course, at issue issued of allowed,
// in prescription status status, with one line item.
func epsRepeatTask(course, allowed, issued, status string) string {
	return `{"resource":{"resourceType":"Task","businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"` + status + `"}]},` +
		`"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-Prescription","extension":[{"url":"courseOfTherapyType","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy","code":"` + course + `"}}]},` +
		`{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation","extension":[{"url":"numberOfRepeatsAllowed","valueInteger":` + allowed + `},{"url":"numberOfRepeatsIssued","valueInteger":` + issued + `}]}],` +
		`"focus":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"D7AC09-A99968-4BA59C"}},` +
		`"for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}},"authoredOn":"2021-09-08",` +
		`"input":[{"type":{"coding":[{"system":"http://snomed.info/sct","code":"16076005"}]},"valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab6"}},` +
		`"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation","extension":[{"url":"dispenseStatus","valueCoding":{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0007"}}]}]}]}}`
}

// TestTraceFutureIssuesRepeatDispensingOnly answers a search and a
// retrieve of a prescription at issue 1 of 6: only a repeat dispensing
// one lists issues 2 to 6 waiting (9000 "Repeat Dispense future
// instance"); Spine creates the later issues of repeat dispensing alone
// (a repeat prescribing record holds its one issue, whatever its repeat
// number says), so a repeat prescribing or acute one lists issue 1 only
// and has no issue 2 to retrieve. Before, every prescription whose Task
// carried Extension-EPS-RepeatInformation was given five repeat dispense
// issues.
func TestTraceFutureIssuesRepeatDispensingOnly(t *testing.T) {
	tests := []struct {
		course     string
		wantIssues int
	}{
		{core.CourseContinuousRepeatDispense, 6},
		{core.CourseContinuous, 1},
		{core.CourseAcute, 1},
	}
	for _, tt := range tests {
		t.Run(tt.course, func(t *testing.T) {
			body := `{"resourceType":"Bundle","type":"searchset","entry":[` + epsRepeatTask(tt.course, "6", "1", "0001") + `]}`
			r, err := TrackerFromFHIR(TrackerDetail, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			s := TraceSearch(r, TrackerSearch{NHSNumber: "9449305552", EarliestDate: "20210901"}, time.Now())
			if s.StatusCode != "0" || len(s.Prescriptions) != 1 {
				t.Fatalf("search: status %s, %d prescriptions", s.StatusCode, len(s.Prescriptions))
			}
			if got := len(s.Prescriptions[0].Issues); got != tt.wantIssues {
				t.Errorf("search lists %d issues, want %d: %+v", got, tt.wantIssues, s.Prescriptions[0].Issues)
			}
			for _, is := range s.Prescriptions[0].Issues[1:] {
				if is.Status.Code != "9000" || is.Status.Text != "Repeat Dispense future instance" {
					t.Errorf("issue %s: status %+v", is.Number, is.Status)
				}
			}
			want := "0"
			if tt.wantIssues < 2 {
				want = "3"
			}
			if a := TraceRetrieve(r, TrackerRetrieve{PrescriptionID: "D7AC09-A99968-4BA59C", IssueNumber: "2"}); a.StatusCode != want || len(a.Prescriptions) != 1 {
				t.Errorf("retrieve issue 2: status %s (%d prescriptions), want %s", a.StatusCode, len(a.Prescriptions), want)
			}
		})
	}
}

// TestTraceTrackerSkipsFutureIssuesItMakes checks the way back from a
// documented search: the future issues TraceSearch makes (a line item
// cancelled in the current issue cancelled in them too) are left for it
// to make again, and a future issue that says otherwise is kept.
func TestTraceTrackerSkipsFutureIssuesItMakes(t *testing.T) {
	issue := func(n, status, item2 string) string {
		return `"` + n + `":{"issueDate":"False","lineItems":{"1":{"status":{"statusText":"To Be Dispensed","statusCode":"0007"}},` +
			`"2":{"status":{"statusText":"x","statusCode":"` + item2 + `"}}},"prescriptionStatus":{"statusText":"x","statusCode":"` + status + `"}}`
	}
	tests := []struct {
		name, issues string
		want         int
	}{
		{"cancelled item in every issue", issue("1", "0001", "0005") + "," + issue("2", "9000", "0005") + "," + issue("3", "9000", "0005"), 1},
		{"nothing cancelled", issue("1", "0001", "0007") + "," + issue("2", "9000", "0007") + "," + issue("3", "9000", "0007"), 1},
		{"cancelled in a future issue only", issue("1", "0001", "0007") + "," + issue("2", "9000", "0005") + "," + issue("3", "9000", "0007"), 2},
		{"cancelled now, not in a future issue", issue("1", "0001", "0005") + "," + issue("2", "9000", "0007"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"reason":"","version":"1","prescriptionList":{"D7AC09-A99968-4BA59C":{` +
				`"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Repeat Dispensing","prescriptionTreatmentTypeCode":"0003"},` +
				`"prescriptionIssueDate":"20210908","pendingCancellations":"False","lastEventDate":"20210908","currentIssueNumber":"1",` +
				`"issues":{` + tt.issues + `},"patientNhsNumber":"9449305552"}},"statusCode":"0"}`
			a, err := ParseTraceJSON([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			r, err := a.Tracker()
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Prescriptions) != tt.want {
				t.Errorf("%d issues kept, want %d", len(r.Prescriptions), tt.want)
			}
		})
	}
}
