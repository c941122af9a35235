package gateway

import (
	"io"
	"net/http"
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
// lists the acute prescription's line item as fully dispensed and its
// issue date, as Spine's search does, by asking EPS for it by id; the
// repeat dispensing prescription at issue 2, whose answer by id would be
// issue 1's, is not asked for and keeps what the search gave. Before,
// every line item of every prescription a search found came back with an
// empty status and every issue date as "False".
func TestTraceSearchFromEPSSummary(t *testing.T) {
	const nhs, acute, erd = "9449304106", "010E34-A99968-467D9Z", "003D4D-A99968-4C5AAJ"
	var mu sync.Mutex
	var asked []string
	eps := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		q := r.URL.Query()
		var entries []string
		switch {
		case q.Get("patient:identifier") == "https://fhir.nhs.uk/Id/nhs-number|"+nhs:
			entries = []string{epsShapedTask(acute, nhs, "0003", "acute", "", "", false), epsShapedTask(erd, nhs, "0001", "continuous-repeat-dispensing", "2", "3", false)}
		case q.Get("focus:identifier") == "https://fhir.nhs.uk/Id/prescription-order-number|"+acute:
			entries = []string{epsShapedTask(acute, nhs, "0003", "acute", "", "", true)}
		case q.Get("focus:identifier") == "https://fhir.nhs.uk/Id/prescription-order-number|"+erd:
			entries = []string{epsShapedTask(erd, nhs, "0006", "continuous-repeat-dispensing", "2", "3", true)}
		}
		_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","total":`+strconv.Itoa(len(entries))+`,"entry":[`+strings.Join(entries, ",")+`]}`)
	})
	r := startTrackerRigUpstream(t, eps)

	code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary&earliestDate=20211001", nil)
	if code != http.StatusOK || a.StatusCode != tracker.TrackerStatusOK || len(a.Prescriptions) != 2 {
		t.Fatalf("HTTP %d status %s, %d prescriptions\n%s", code, a.StatusCode, len(a.Prescriptions), body)
	}
	for _, p := range a.Prescriptions {
		is := p.Issues[0]
		switch p.ID {
		case acute:
			if is.IssueDate != "20211020" || is.Status.Code != "0003" || len(is.LineItems) != 1 ||
				is.LineItems[0].Status != (tracker.TraceCoded{Text: "Item fully dispensed", Code: "0001"}) {
				t.Errorf("acute issue %+v, want issue date 20211020 and its line item fully dispensed\n%s", is, body)
			}
		case erd:
			if p.CurrentIssueNumber != "2" || is.Number != "2" || is.Status.Code != "0001" || is.IssueDate != "False" {
				t.Errorf("repeat dispensing issue %+v (current %s), want issue 2 as the search gave it\n%s", is, p.CurrentIssueNumber, body)
			}
		default:
			t.Errorf("prescription %s", p.ID)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || !strings.Contains(asked[1], "focus%3Aidentifier") || !strings.Contains(asked[1], acute) {
		t.Errorf("EPS was asked %q; want the search, then the acute prescription by id", asked)
	}
}
