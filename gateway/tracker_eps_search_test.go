package gateway

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/porxgate/porxgate/mapping/tracker"
)

// epsShapedTask is a Task as the EPS API's tracker translation writes it
// from Spine: from the summary (detail false) its line item has no status
// and its outputs no dates; from the detail, the item's status and the
// download and dispense dates. course is the course of therapy, issue and
// of its Extension-EPS-RepeatInformation ("" for one of one).
func epsShapedTask(id, nhs, status, course, issue, of string, detail bool) string {
	ext := `[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-Prescription","extension":[{"url":"courseOfTherapyType","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy","code":"` + course + `"}}]}`
	if of != "" {
		ext += `,{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-RepeatInformation","extension":[{"url":"numberOfRepeatsAllowed","valueInteger":` + of + `},{"url":"numberOfRepeatsIssued","valueInteger":` + issue + `}]}`
	}
	ext += `]`
	input := `{"type":{"coding":[{"system":"http://snomed.info/sct","code":"16076005","display":"Prescription"}]},"valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab6"},"type":"MedicationRequest"}}`
	output := `{"type":{"coding":[{"system":"http://snomed.info/sct","code":"373784005","display":"Dispensing medication"}]},"valueReference":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"a54219b8-f741-4c47-b662-e4f8dfa49ab6"},"type":"MedicationDispense"}}`
	if detail {
		input = strings.TrimSuffix(input, "}") + `,"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingInformation","extension":[` +
			`{"url":"dateLastDispensed","valueDateTime":"2021-10-21T11:25:26+00:00"},` +
			`{"url":"dispenseStatus","valueCoding":{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001","display":"Dispensed"}}]}]}`
		output = strings.TrimSuffix(output, "}") + `,"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-EPS-DispensingReleaseInformation","extension":[` +
			`{"url":"dateDownloaded","valueDate":"2021-10-20"}]}]}`
	}
	return `{"resource":{"resourceType":"Task","id":"t-` + id + `","extension":` + ext + `,"status":"in-progress",` +
		`"businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"` + status + `"}]},"intent":"order",` +
		`"focus":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"` + id + `"}},` +
		`"for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"` + nhs + `"}},"authoredOn":"2021-10-19",` +
		`"input":[` + input + `],"output":[` + output + `]}}`
}

// TestTraceSearchFromEPSSummary searches through the gateway in front of
// an upstream that answers GET /Task as the EPS API does: a patient
// search from Spine's summary (line items without a status, no dates), a
// search by id from Spine's detail of issue 1. The documented search
// lists each acute prescription's line item as fully dispensed and its
// issue date, as Spine's search does, by asking EPS for it by id (six, more
// than are asked at once); the repeat dispensing prescription at issue 2,
// whose answer by id would be issue 1's, is not asked for and keeps what
// the search gave. When EPS cannot answer one by id, the search answers as
// when EPS cannot answer the search (5, HTTP 502), never a list with that
// one's statuses blank. Before, every line item of every prescription a
// search found came back with an empty status and every issue date as
// "False".
func TestTraceSearchFromEPSSummary(t *testing.T) {
	const nhs, erd = "9449304106", "003D4D-A99968-4C5AAJ"
	acutes := []string{"010E34-A99968-467D9Z"}
	for _, body := range []string{"D29E5B-A99968-11E6A", "D2A223-A99968-11E6A", "D2A238-A99968-11E6A", "D2A24D-A99968-11E6A", "D2A262-A99968-11E6A"} {
		acutes = append(acutes, validShortFormID(t, body))
	}
	var mu sync.Mutex
	var asked []string
	failing := ""
	eps := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		focus := strings.TrimPrefix(q.Get("focus:identifier"), "https://fhir.nhs.uk/Id/prescription-order-number|")
		mu.Lock()
		asked = append(asked, focus)
		fail := focus != "" && focus == failing
		mu.Unlock()
		if fail {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		var entries []string
		switch {
		case q.Get("patient:identifier") == "https://fhir.nhs.uk/Id/nhs-number|"+nhs:
			for _, id := range acutes {
				entries = append(entries, epsShapedTask(id, nhs, "0003", "acute", "", "", false))
			}
			entries = append(entries, epsShapedTask(erd, nhs, "0001", "continuous-repeat-dispensing", "2", "3", false))
		case focus == erd:
			entries = []string{epsShapedTask(erd, nhs, "0006", "continuous-repeat-dispensing", "2", "3", true)}
		case focus != "":
			entries = []string{epsShapedTask(focus, nhs, "0003", "acute", "", "", true)}
		}
		_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":`+strconv.Itoa(len(entries))+`,"entry":[`+strings.Join(entries, ",")+`]}`)
	})
	r := startTrackerRigUpstream(t, eps)
	const search = PathTrackerSearch + "?nhsNumber=" + nhs + "&format=trace-summary&earliestDate=20211001"

	code, a, body := r.trace(t, search, nil)
	if code != http.StatusOK || a.StatusCode != tracker.TrackerStatusOK || len(a.Prescriptions) != len(acutes)+1 {
		t.Fatalf("HTTP %d status %s, %d prescriptions\n%s", code, a.StatusCode, len(a.Prescriptions), body)
	}
	for _, p := range a.Prescriptions {
		is := p.Issues[0]
		if p.ID == erd {
			if p.CurrentIssueNumber != "2" || is.Number != "2" || is.Status.Code != "0001" || is.IssueDate != "False" {
				t.Errorf("repeat dispensing issue %+v (current %s), want issue 2 as the search gave it\n%s", is, p.CurrentIssueNumber, body)
			}
			continue
		}
		if is.IssueDate != "20211020" || is.Status.Code != "0003" || len(is.LineItems) != 1 ||
			is.LineItems[0].Status != (tracker.TraceCoded{Text: "Item fully dispensed", Code: "0001"}) {
			t.Errorf("acute %s issue %+v, want issue date 20211020 and its line item fully dispensed\n%s", p.ID, is, body)
		}
	}
	mu.Lock()
	byID := slices.Sorted(slices.Values(asked[1:]))
	want := slices.Sorted(slices.Values(acutes))
	if asked[0] != "" || !slices.Equal(byID, want) {
		t.Errorf("EPS was asked for %q by id after the search; want each acute prescription once: %q", byID, want)
	}
	failing = acutes[3]
	mu.Unlock()

	code, a, body = r.trace(t, search, nil)
	if code != http.StatusBadGateway || a.StatusCode != tracker.TrackerStatusUnexpected || len(a.Prescriptions) != 0 {
		t.Errorf("one prescription unavailable by id: HTTP %d status %s, %d prescriptions; want 502, 5, none\n%s", code, a.StatusCode, len(a.Prescriptions), body)
	}
}
