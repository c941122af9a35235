package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping/tracker"
)

// The documented tracker (nhsconnect/spine-eps-tracker) through the gateway
// against the EPS simulator: each of the documentation's examples as a
// scenario in the simulator, each documented error, and the property that
// a search and a retrieve of one prescription agree.

const (
	fixtureAcute  = "acute-nurse-controlled-drug-unsigned.json"
	fixtureERD    = "repeat-dispensing-pharmacist-endorsed.json"
	fixtureRepeat = "repeat-prescribing-dental-four-items.json"
)

// v3Time is a simulator time as the tracker writes it.
func v3Time(t time.Time) string { return t.UTC().Format("20060102150405") }

// TestTraceSearchSingleRepeatDispensing is the documentation's "successful
// search with a single prescription found": a repeat dispensing
// prescription at its first issue, to be dispensed, with its future issues
// (9000) listed. The expected JSON is written out here member by member.
func TestTraceSearchSingleRepeatDispensing(t *testing.T) {
	r := startTrackerRig(t, true)
	erd := r.prescribe(t, fixtureERD)
	code, _, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+erd.NHSNumber+"&format=trace-summary", nil)

	items := func(text, code string) string {
		var b strings.Builder
		for i := range erd.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%d":{"status":{"statusText":%q,"statusCode":%q}}`, i+1, text, code)
		}
		return b.String()
	}
	issues := `"1":{"issueDate":"False","lineItems":{` + items("To Be Dispensed", "0007") +
		`},"prescriptionStatus":{"statusText":"To Be Dispensed","statusCode":"0001"}}`
	for n := 2; n <= 6; n++ {
		issues += fmt.Sprintf(`,"%d":{"issueDate":"False","lineItems":{%s},"prescriptionStatus":{"statusText":"Repeat Dispense future instance","statusCode":"9000"}}`,
			n, items("To Be Dispensed", "0007"))
	}
	want := `{"reason":"","version":"1","prescriptionList":{"` + erd.ShortFormID + `":{` +
		`"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Repeat Dispensing","prescriptionTreatmentTypeCode":"0003"},` +
		`"prescriptionIssueDate":"` + v3Time(erd.Created) + `","pendingCancellations":"False","lastEventDate":"` + v3Time(erd.Updated) + `",` +
		`"currentIssueNumber":"1","issues":{` + issues + `},"patientNhsNumber":"` + erd.NHSNumber + `"}},"statusCode":"0"}`
	if code != http.StatusOK || body != want {
		t.Errorf("HTTP %d\n got %s\nwant %s", code, body, want)
	}
}

// TestTraceSearchMultipleRepeatPrescribing is the documentation's
// "successful search with multiple prescriptions found": one patient's
// repeat prescribing prescriptions, each with a dispenser, issued that day.
func TestTraceSearchMultipleRepeatPrescribing(t *testing.T) {
	r := startTrackerRig(t, true)
	const nhs = "9990406480"
	ids := []string{validShortFormID(t, "D29E5B-Y01234-11E6A"), validShortFormID(t, "D2A223-Y01234-11E6A"), validShortFormID(t, "D2A238-Y01234-11E6A")}
	released := map[string]time.Time{}
	for _, id := range ids {
		p := r.prescribeAs(t, fixtureRepeat, id, nhs)
		now := time.Now()
		if _, err := r.sim.State().Release(sim.ReleaseRequest{Owner: "FA666", ShortFormID: p.ShortFormID}, now); err != nil {
			t.Fatal(err)
		}
		released[id] = now
	}
	other := r.prescribe(t, fixtureAcute) // another patient's: not listed
	code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary&prescriptionVersion=R2", nil)
	if code != http.StatusOK || a.Kind != tracker.TrackerSummary || a.StatusCode != "0" || a.Reason != "" || a.Version != "1" || len(a.Prescriptions) != len(ids) {
		t.Fatalf("HTTP %d kind %v status %s, %d prescriptions\n%s", code, a.Kind, a.StatusCode, len(a.Prescriptions), body)
	}
	for i, p := range a.Prescriptions {
		if p.ID != ids[i] || p.ID == other.ShortFormID || p.PatientNHSNumber != nhs {
			t.Errorf("prescription %d: %s of %s, want %s of %s", i, p.ID, p.PatientNHSNumber, ids[i], nhs)
		}
		if p.TreatmentType != (tracker.TraceCoded{Text: "Repeat Prescribing", Code: "0002"}) || p.CurrentIssueNumber != "1" || p.PendingCancellations != "False" {
			t.Errorf("%s: treatment %+v issue %s pending %s", p.ID, p.TreatmentType, p.CurrentIssueNumber, p.PendingCancellations)
		}
		if len(p.Issues) != 1 {
			t.Fatalf("%s: %d issues, want 1 (repeat prescribing has one)", p.ID, len(p.Issues))
		}
		is := p.Issues[0]
		if is.Number != "1" || is.IssueDate != released[p.ID].UTC().Format("20060102") ||
			is.Status != (tracker.TraceCoded{Text: "With Dispenser", Code: "0002"}) || len(is.LineItems) != 4 {
			t.Errorf("%s: issue %+v", p.ID, is)
		}
		for j, li := range is.LineItems {
			if li.Ordinal != strconv.Itoa(j+1) || li.ID != "" || li.Status != (tracker.TraceCoded{Text: "Item with dispenser", Code: "0008"}) {
				t.Errorf("%s: line item %+v", p.ID, li)
			}
		}
	}
	if !strings.Contains(body, `"lineItems":{"1":{"status":{"statusText":"Item with dispenser","statusCode":"0008"}},"2":`) {
		t.Errorf("line items not keyed by ordinal:\n%s", body)
	}
	t.Run("by status", func(t *testing.T) {
		_, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary&prescriptionStatus=0002", nil)
		if a.StatusCode != "0" || len(a.Prescriptions) != 3 {
			t.Errorf("status %s\n%s", a.StatusCode, body)
		}
		_, a, body = r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary&prescriptionStatus=0006", nil)
		want := `{"reason":"Not found","version":"1","prescriptions":{},"statusCode":"1"}`
		if a.StatusCode != "1" || body != want {
			t.Errorf("none dispensed:\n got %s\nwant %s", body, want)
		}
	})
	t.Run("by version and date", func(t *testing.T) {
		_, a, _ := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary&prescriptionVersion=1", nil)
		if a.StatusCode != "1" {
			t.Errorf("R1 prescriptions: status %s, want 1 (EPS FHIR holds R2 only)", a.StatusCode)
		}
		today := time.Now().UTC()
		q := "&earliestDate=" + today.AddDate(0, 0, -1).Format("20060102") + "&latestDate=" + today.AddDate(0, 0, 1).Format("20060102")
		if _, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary"+q, nil); len(a.Prescriptions) != 3 {
			t.Errorf("window around today: %d prescriptions\n%s", len(a.Prescriptions), body)
		}
		q = "&earliestDate=20150101&latestDate=20150909"
		if _, a, _ := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary"+q, nil); a.StatusCode != "1" {
			t.Errorf("window in 2015: status %s, want 1", a.StatusCode)
		}
	})
}

// TestTraceRetrieveClaimed is the documentation's retrieve example: an
// acute prescription dispensed and claimed, with its prescriber and
// dispenser, signing date, issue and line items with ids — upper case, as
// Spine writes a line item id (the documentation's example, and the EPS
// API's v3 ids) though EPS FHIR writes it lower case. The expected JSON is
// written out here; what EPS FHIR cannot supply is empty.
func TestTraceRetrieveClaimed(t *testing.T) {
	r := startTrackerRig(t, true)
	acute := r.prescribe(t, fixtureAcute)
	st := r.sim.State()
	now := time.Now()
	if _, err := st.Release(sim.ReleaseRequest{Owner: "FA666", ShortFormID: acute.ShortFormID}, now); err != nil {
		t.Fatal(err)
	}
	items := map[string]sim.ItemStatus{}
	for _, it := range acute.Items {
		items[it.ID] = sim.ItemDispensed
	}
	if err := st.Dispense(sim.DispenseRequest{MessageID: "D1", Dispenser: "FA666", ShortFormID: acute.ShortFormID, Items: items}, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Claim(sim.ClaimRequest{ShortFormID: acute.ShortFormID, ClaimID: "C1", Claimant: "FA666"}, now); err != nil {
		t.Fatal(err)
	}
	acute, _ = st.Get(acute.ShortFormID)
	day := now.UTC().Format("20060102")
	want := `{"reason":"","version":"1","prescription":{` +
		`"prescriptionType":{"prescriptionTypeText":"","prescriptionTypeCode":""},` +
		`"prescriptionTreatmentType":{"prescriptionTreatmentTypeText":"Acute Prescription","prescriptionTreatmentTypeCode":"0001"},` +
		`"nominatedDispenserODS":"","daysSupply":"","pendingCancellations":"False",` +
		`"prescribingOrganisationName":"TAUNTON AND SOMERSET NHS FOUNDATION TRUST","prescribingOrganisationContact":"",` +
		`"signingDate":"` + v3Time(acute.Created) + `","currentIssueNumber":"1","prescribingOrganisationODS":"RBA",` +
		`"prescriptionId":"` + acute.ShortFormID + `","lastEventDate":"` + v3Time(acute.Updated) + `","nominatedDispenserName":"",` +
		`"issue":{"dispensingOrganisationODS":"FA666","appliedCancellations":"False","lastDispenseDate":"` + day + `",` +
		`"lastClaimDate":"` + day + `","dispensingOrganisationContact":"","issueNumber":"1",` +
		`"lineItems":{"1":{"status":{"statusText":"Item fully dispensed","statusCode":"0001"},"id":"` + strings.ToUpper(acute.Items[0].ID) + `"}},` +
		`"prescriptionStatus":{"statusText":"Claimed","statusCode":"0008"},"dispensingOrganisationName":""},` +
		`"patientNhsNumber":"` + acute.NHSNumber + `"},"statusCode":"0"}`
	for _, path := range []string{
		PathTrackerSearch + "/" + url.PathEscape(acute.ShortFormID) + "?format=trace",
		PathTrackerSearch + "/" + strings.ToLower(acute.ShortFormID) + "?format=trace&issueNumber=1&version=1",
	} {
		code, _, body := r.trace(t, path, nil)
		if code != http.StatusOK || body != want {
			t.Errorf("GET %s: HTTP %d\n got %s\nwant %s", path, code, body, want)
		}
	}
}

// TestTraceRetrieveIssues retrieves the issues of a repeat dispensing
// prescription: the current one, a future one (9000), and one past the
// last: status 3 with the prescription still returned and its issue blank.
func TestTraceRetrieveIssues(t *testing.T) {
	r := startTrackerRig(t, true)
	erd := r.prescribe(t, fixtureERD)
	base := PathTrackerSearch + "/" + url.PathEscape(erd.ShortFormID) + "?format=trace"
	for _, tt := range []struct {
		query, status, issueStatus, itemStatus string
	}{
		{"", "0", "0001", "0007"},
		{"&issueNumber=1", "0", "0001", "0007"},
		{"&issueNumber=4", "0", "9000", "0007"},
		{"&issueNumber=6", "0", "9000", "0007"},
		{"&issueNumber=7", "3", "", ""},
	} {
		code, a, body := r.trace(t, base+tt.query, nil)
		if code != http.StatusOK || a.StatusCode != tt.status || len(a.Prescriptions) != 1 {
			t.Fatalf("%s: HTTP %d status %s\n%s", tt.query, code, a.StatusCode, body)
		}
		p := a.Prescriptions[0]
		if p.ID != erd.ShortFormID || p.CurrentIssueNumber != "1" || p.TreatmentType.Code != "0003" || p.Prescriber.Name != "PARK ROW PHARMACY" {
			t.Errorf("%s: prescription %+v", tt.query, p)
		}
		if tt.status == "3" {
			if a.Reason != "Issue not found" || len(p.Issues) != 0 || !strings.Contains(body, `"issue":{}`) {
				t.Errorf("%s: reason %q issues %+v\n%s", tt.query, a.Reason, p.Issues, body)
			}
			continue
		}
		if len(p.Issues) != 1 || p.Issues[0].Status.Code != tt.issueStatus || len(p.Issues[0].LineItems) != len(erd.Items) {
			t.Fatalf("%s: issues %+v\n%s", tt.query, p.Issues, body)
		}
		for i, li := range p.Issues[0].LineItems {
			if li.ID != strings.ToUpper(erd.Items[i].ID) || li.Status.Code != tt.itemStatus || li.Ordinal != strconv.Itoa(i+1) {
				t.Errorf("%s: line item %+v, want %s", tt.query, li, strings.ToUpper(erd.Items[i].ID))
			}
		}
	}
}

// docReasons are the reason texts the documentation gives its status codes.
var docReasons = map[string]string{
	"50": "Query parameters have not been provided", "51": "Invalid prescription id", "52": "Invalid or missing asid",
	"53": "Invalid version", "54": "Invalid traceId", "55": "Invalid userId", "56": "Invalid roleProfileId",
	"57": "Invalid search date", "59": "Invalid search prescription state", "60": "Invalid search prescription version",
	"61": "Invalid or missing NHS number",
}

// TestTraceRepeatDispensingNextIssue moves a repeat dispensing
// prescription to its second issue (the simulator's admin endpoint, as
// Spine's batch does when the window opens): the search lists the current
// and future issues, the retrieve gives the current one, and the first
// issue, which EPS no longer reports, is status 3 with the prescription.
func TestTraceRepeatDispensingNextIssue(t *testing.T) {
	r := startTrackerRig(t, true)
	erd := r.prescribe(t, fixtureERD)
	now := time.Now()
	if _, err := r.sim.State().Release(sim.ReleaseRequest{Owner: "FA565", ShortFormID: erd.ShortFormID}, now); err != nil {
		t.Fatal(err)
	}
	items := map[string]sim.ItemStatus{}
	for _, it := range erd.Items {
		items[it.ID] = sim.ItemDispensed
	}
	if err := r.sim.State().Dispense(sim.DispenseRequest{MessageID: "D1", Dispenser: "FA565", ShortFormID: erd.ShortFormID, Items: items}, now); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(r.simBase+"/_admin/next-issue?prescriptionId="+url.QueryEscape(erd.ShortFormID), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("next issue: HTTP %d", resp.StatusCode)
	}
	_, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+erd.NHSNumber+"&format=trace-summary", nil)
	if a.StatusCode != "0" || len(a.Prescriptions) != 1 {
		t.Fatalf("status %s\n%s", a.StatusCode, body)
	}
	p := a.Prescriptions[0]
	var numbers []string
	for _, is := range p.Issues {
		numbers = append(numbers, is.Number+":"+is.Status.Code)
	}
	if p.CurrentIssueNumber != "2" || strings.Join(numbers, ",") != "2:0001,3:9000,4:9000,5:9000,6:9000" {
		t.Errorf("current issue %s, issues %v\n%s", p.CurrentIssueNumber, numbers, body)
	}
	_, a, body = r.trace(t, PathTrackerSearch+"/"+url.PathEscape(erd.ShortFormID)+"?format=trace", nil)
	if a.StatusCode != "0" || a.Prescriptions[0].Issues[0].Number != "2" || a.Prescriptions[0].Issues[0].LastDispenseDate != tracker.TraceFalse {
		t.Errorf("current issue:\n%s", body)
	}
	_, a, body = r.trace(t, PathTrackerSearch+"/"+url.PathEscape(erd.ShortFormID)+"?format=trace&issueNumber=1", nil)
	if a.StatusCode != "3" || len(a.Prescriptions) != 1 || a.Prescriptions[0].CurrentIssueNumber != "2" {
		t.Errorf("past issue:\n%s", body)
	}
	_, tr, body := r.get(t, PathTrackerItemDetails+"?prescriptionId="+url.QueryEscape(erd.ShortFormID))
	if tr.StatusCode != "0" || tr.Prescriptions[0].PrescriptionLastIssueDispensedDate != now.UTC().Format("20060102") ||
		tr.Prescriptions[0].RepeatInstance.CurrentIssue != "2" {
		t.Errorf("NHS111 details after the next issue:\n%s", body)
	}
}

// TestTraceRefusals checks every documented refusal, request by request:
// HTTP 200, the documented status code and reason in the documented
// top-level shape, and EPS never asked.
func TestTraceRefusals(t *testing.T) {
	r := startTrackerRig(t, true)
	const search = PathTrackerSearch + "?nhsNumber=9449304106&format=trace-summary"
	const retrieve = PathTrackerSearch + "/003D4D-A99968-4C5AAJ?format=trace"
	with := func(name, value string) http.Header {
		h := trackerHeaders()
		if value == "" {
			h.Del(name)
		} else {
			h.Set(name, value)
		}
		return h
	}
	tests := []struct {
		name, path string
		h          http.Header
		code       string
		reason     string
	}{
		{"no parameters", PathTrackerSearch, nil, "50", "Query parameters have not been provided"},
		{"no NHS number", PathTrackerSearch + "?format=trace-summary", nil, "61", "Invalid or missing NHS number: nhsNumber is required"},
		{"NHS number of 9 digits", PathTrackerSearch + "?nhsNumber=944930410&format=trace-summary", nil, "61", "is not ten digits"},
		{"bad check digit", PathTrackerSearch + "?nhsNumber=9449304107&format=trace-summary", nil, "61", "modulus 11 check digit"},
		{"no format", PathTrackerSearch + "?nhsNumber=9449304106", nil, "50", "format is required and must be trace-summary"},
		{"bad earliest date", search + "&earliestDate=2021", nil, "57", "Invalid search date"},
		{"bad latest date", search + "&latestDate=20210231", nil, "57", "Invalid search date"},
		{"earliest after latest", search + "&earliestDate=20210301&latestDate=20210201", nil, "57", "is later than"},
		{"bad prescription status", search + "&prescriptionStatus=0010", nil, "59", "Invalid search prescription state"},
		{"bad prescription version", search + "&prescriptionVersion=3", nil, "60", "Invalid search prescription version"},
		{"bad version", search + "&version=2", nil, "53", "Invalid version"},
		{"no ASID", search, with(HeaderSpineFromASID, ""), "52", "Invalid or missing asid: Spine-From-Asid is required"},
		{"ASID of 11 digits", search, with(HeaderSpineFromASID, "20000000094"), "52", "Invalid or missing asid"},
		{"ASID with a letter", retrieve, with(HeaderSpineFromASID, "20000000094X"), "52", "Invalid or missing asid"},
		{"trace id too long", search, with(HeaderEpsTraceID, strings.Repeat("a", 31)), "54", "Invalid traceId"},
		{"trace id with an underscore", retrieve, with(HeaderEpsTraceID, "trace_1"), "54", "Invalid traceId"},
		{"user id not digits", search, with(HeaderSpineUserID, "user"), "55", "Invalid userId"},
		{"role profile id of 13 digits", retrieve, with(HeaderSpineRoleProfileID, "5629269131001"), "56", "Invalid roleProfileId"},
		{"bad prescription id check character", PathTrackerSearch + "/003D4D-A99968-4C5AAK?format=trace", nil, "51", "Invalid prescription id"},
		{"prescription id of 21 characters", PathTrackerSearch + "/003D4D-A99968-4C5AAJX?format=trace", nil, "51", "Invalid prescription id"},
		{"prescription id with a bad character", PathTrackerSearch + "/003D4D-A99968-4C5A_J?format=trace", nil, "51", "Invalid prescription id"},
		{"retrieve without format", PathTrackerSearch + "/003D4D-A99968-4C5AAJ", nil, "50", "format is required and must be trace"},
		{"retrieve with bad issue number", retrieve + "&issueNumber=x", nil, "50", "Invalid issue number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, a, body := r.trace(t, tt.path, tt.h)
			prefix := docReasons[tt.code]
			if tt.code == "50" && !strings.HasPrefix(tt.reason, prefix) {
				prefix = "" // format and issueNumber have no documented code: 50 with their own reason
			}
			if code != http.StatusOK || a.StatusCode != tt.code || !strings.HasPrefix(a.Reason, prefix) || !strings.Contains(a.Reason, tt.reason) {
				t.Errorf("HTTP %d status %s reason %q, want 200 %s containing %q\n%s", code, a.StatusCode, a.Reason, tt.code, tt.reason, body)
			}
			member := `"prescriptions":{}`
			if a.Kind == tracker.TrackerDetail {
				member = `"prescription":{}`
			}
			if !strings.HasPrefix(body, `{"reason":`) || !strings.Contains(body, `"version":"1",`+member+`,"statusCode":"`+tt.code+`"}`) {
				t.Errorf("not the documented error shape:\n%s", body)
			}
		})
	}
	if n := r.sim.Stats().Requests["tracker"]; n != 0 {
		t.Errorf("%d refused requests reached the EPS tracker", n)
	}
	t.Run("prescription not found", func(t *testing.T) {
		code, _, body := r.trace(t, PathTrackerSearch+"/"+validShortFormID(t, "ABCDEF-A99968-12345")+"?format=trace", nil)
		if want := `{"reason":"Not found","version":"1","prescription":{},"statusCode":"1"}`; code != http.StatusOK || body != want {
			t.Errorf("HTTP %d\n got %s\nwant %s", code, body, want)
		}
	})
	t.Run("NHS111 requires user and role", func(t *testing.T) {
		code, body := r.fetch(t, PathTrackerItemSummary+"?nhsNumber=9449304106", with(HeaderSpineUserID, ""))
		tr, err := tracker.ParseTrackerJSON([]byte(body))
		if err != nil || code != http.StatusOK || tr.StatusCode != "55" {
			t.Errorf("HTTP %d %v\n%s", code, err, body)
		}
	})
}

// TestTraceAllowedASIDs checks the allowed-ASID list: a listed ASID gets
// in, another is refused with 403 and status 52 before EPS is asked, and
// an ASID bound to a certificate name is refused without mutual TLS.
func TestTraceAllowedASIDs(t *testing.T) {
	r := startTrackerRig(t, true, func(c *Config) { c.TrackerASIDs = testTrackerASID + ",200000000111=dispenser.example" })
	path := PathTrackerSearch + "?nhsNumber=9449304106&format=trace-summary"
	if _, a, body := r.trace(t, path, nil); a.StatusCode != "1" {
		t.Errorf("listed ASID: status %s\n%s", a.StatusCode, body)
	}
	for _, asid := range []string{"200000000999", "200000000111"} {
		h := trackerHeaders()
		h.Set(HeaderSpineFromASID, asid)
		code, a, body := r.trace(t, path, h)
		if code != http.StatusForbidden || a.StatusCode != "52" || !strings.HasPrefix(a.Reason, "Invalid or missing asid: ASID "+asid) {
			t.Errorf("ASID %s: HTTP %d status %s %q\n%s", asid, code, a.StatusCode, a.Reason, body)
		}
	}
	if n := r.sim.Stats().Requests["tracker"]; n != 1 {
		t.Errorf("%d requests reached the EPS tracker, want 1", n)
	}
}

// TestTraceOverMutualTLS serves the tracker over mutual TLS with an ASID
// bound to a client certificate's name: only that certificate may use it.
func TestTraceOverMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	srvCert, srvKey := ca.issue(t, "porxgate", true)
	goodCert, goodKey := ca.issue(t, "ward.example", false)
	otherCert, otherKey := ca.issue(t, "someone.example", false)
	rig := startTrackerRig(t, true)
	cfg := testConfig()
	cfg.TLSCertFile = writeFile(t, dir, "server.pem", srvCert)
	cfg.TLSKeyFile = writeFile(t, dir, "server.key", srvKey)
	cfg.TLSClientCAFile = writeFile(t, dir, "clients-ca.pem", ca.pem)
	cfg.TrackerASIDs = testTrackerASID + "=ward.example"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base := serveOverTLS(t, NewServer(cfg, store.NewMemory(nil), &EPSClient{Client: rig.client, desc: "simulator"}, trackerLog(), NewMetrics()), cfg, false)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	for _, tt := range []struct {
		name            string
		certPEM, keyPEM []byte
		wantHTTP        int
		wantStatus      string
	}{
		{"the bound certificate", goodCert, goodKey, http.StatusOK, "1"},
		{"another certificate", otherCert, otherKey, http.StatusForbidden, "52"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kp, err := tls.X509KeyPair(tt.certPEM, tt.keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs: roots, Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}}}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequest(http.MethodGet, base+PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary", nil)
			req.Header = trackerHeaders()
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			a, err := tracker.ParseTraceJSON(body)
			if err != nil || resp.StatusCode != tt.wantHTTP || a.StatusCode != tt.wantStatus {
				t.Errorf("HTTP %d %v\n%s", resp.StatusCode, err, body)
			}
		})
	}
}

// TestTraceUpstreamUnavailable checks the answers when EPS cannot be
// asked: the documented error shape (status 5) with a 5xx.
func TestTraceUpstreamUnavailable(t *testing.T) {
	t.Run("EPS answers 503", func(t *testing.T) {
		r := startTrackerRig(t, true)
		r.sim.SetFaults(sim.Faults{Force5xx: -1})
		code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary", nil)
		if code != http.StatusBadGateway || a.StatusCode != "5" || !strings.Contains(a.Reason, "Unexpected exception: the EPS FHIR API is unavailable") {
			t.Errorf("HTTP %d status %s %q\n%s", code, a.StatusCode, a.Reason, body)
		}
	})
	t.Run("EPS answers 429", func(t *testing.T) {
		r := startTrackerRig(t, true)
		r.sim.SetFaults(sim.Faults{Force5xx: -1, Status: http.StatusTooManyRequests})
		code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary", nil)
		if code != http.StatusServiceUnavailable || a.StatusCode != "5" || !strings.Contains(a.Reason, "the EPS FHIR API is busy") {
			t.Errorf("HTTP %d status %s %q\n%s", code, a.StatusCode, a.Reason, body)
		}
	})
	t.Run("EPS down", func(t *testing.T) {
		r := startTrackerRig(t, true)
		r.sim.SetFaults(sim.Faults{Down: true})
		code, a, body := r.trace(t, PathTrackerSearch+"/003D4D-A99968-4C5AAJ?format=trace", nil)
		if code < 500 || a.Kind != tracker.TrackerDetail || a.StatusCode != "5" || !strings.Contains(body, `"prescription":{}`) {
			t.Errorf("HTTP %d kind %v status %s\n%s", code, a.Kind, a.StatusCode, body)
		}
	})
	t.Run("no upstream configured", func(t *testing.T) {
		r := startTrackerRig(t, false)
		code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary", nil)
		if code != http.StatusServiceUnavailable || a.StatusCode != "5" {
			t.Errorf("HTTP %d status %s\n%s", code, a.StatusCode, body)
		}
	})
}

// TestTraceUnreadableEPSAnswer has an upstream answer a Task porxgate
// cannot read (no prescription id): status 4, Failed to parse
// prescription, with HTTP 502.
func TestTraceUnreadableEPSAnswer(t *testing.T) {
	bad := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Task","businessStatus":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/EPS-task-business-status","code":"0001"}]}}}]}`)
	})
	r := startTrackerRigUpstream(t, bad)
	code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber=9449304106&format=trace-summary", nil)
	if code != http.StatusBadGateway || a.StatusCode != "4" || !strings.HasPrefix(a.Reason, "Failed to parse prescription") {
		t.Errorf("HTTP %d status %s %q\n%s", code, a.StatusCode, a.Reason, body)
	}
}

// TestTraceSearchAndRetrieveAgree is a property test: for patients whose
// prescriptions the simulator has moved through random steps (release,
// dispense with random item outcomes, claim, cancel), every prescription a
// search lists is the one a retrieve gives, issue by issue: treatment
// type, dates, current issue, issue status and each line item's status.
func TestTraceSearchAndRetrieveAgree(t *testing.T) {
	r := startTrackerRig(t, true)
	rng := rand.New(rand.NewSource(13))
	fixtures := []string{fixtureAcute, fixtureERD, fixtureRepeat}
	itemOutcomes := []sim.ItemStatus{sim.ItemDispensed, sim.ItemNotDispensed, sim.ItemPartial, sim.ItemOwing}
	for round := 0; round < 4; round++ {
		nhs := []string{"9449304106", "9990406480", "9000000009", "9449305552"}[round]
		var held []sim.Prescription
		for n := 0; n < 3; n++ {
			id := validShortFormID(t, fmt.Sprintf("%06X-A99968-%05X", rng.Intn(1<<24), round*16+n))
			held = append(held, r.prescribeAs(t, fixtures[rng.Intn(len(fixtures))], id, nhs))
		}
		st := r.sim.State()
		for _, p := range held {
			now := time.Now()
			steps := rng.Intn(5)
			if steps == 4 {
				_, _ = st.Cancel(sim.CancelRequest{ShortFormID: p.ShortFormID, NHSNumber: nhs, Requester: "R1", ItemIDs: []string{p.Items[0].ID}}, now)
				continue
			}
			if steps >= 1 {
				if _, err := st.Release(sim.ReleaseRequest{Owner: "FA666", ShortFormID: p.ShortFormID}, now); err != nil {
					t.Fatal(err)
				}
			}
			if steps >= 2 {
				items := map[string]sim.ItemStatus{}
				for _, it := range p.Items {
					items[it.ID] = itemOutcomes[rng.Intn(len(itemOutcomes))]
				}
				if err := st.Dispense(sim.DispenseRequest{MessageID: p.ShortFormID, Dispenser: "FA666", ShortFormID: p.ShortFormID, Items: items}, now); err != nil {
					t.Fatal(err)
				}
			}
			if steps >= 3 {
				_ = st.Claim(sim.ClaimRequest{ShortFormID: p.ShortFormID, ClaimID: "C" + p.ShortFormID, Claimant: "FA666"}, now)
			}
		}
		_, search, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+nhs+"&format=trace-summary", nil)
		if search.StatusCode != "0" || len(search.Prescriptions) != len(held) {
			t.Fatalf("round %d: status %s, %d prescriptions, want %d\n%s", round, search.StatusCode, len(search.Prescriptions), len(held), body)
		}
		for _, sp := range search.Prescriptions {
			for _, si := range sp.Issues {
				_, got, rbody := r.trace(t, PathTrackerSearch+"/"+url.PathEscape(sp.ID)+"?format=trace&issueNumber="+si.Number, nil)
				if got.StatusCode != "0" || len(got.Prescriptions) != 1 || len(got.Prescriptions[0].Issues) != 1 {
					t.Fatalf("%s issue %s: status %s\n%s", sp.ID, si.Number, got.StatusCode, rbody)
				}
				rp, ri := got.Prescriptions[0], got.Prescriptions[0].Issues[0]
				if rp.ID != sp.ID || rp.PatientNHSNumber != sp.PatientNHSNumber || rp.TreatmentType != sp.TreatmentType ||
					rp.PendingCancellations != sp.PendingCancellations || rp.LastEventDate != sp.LastEventDate ||
					rp.CurrentIssueNumber != sp.CurrentIssueNumber || rp.SigningDate != sp.IssueDate {
					t.Errorf("%s: search %+v and retrieve %+v disagree", sp.ID, sp, rp)
				}
				if ri.Number != si.Number || ri.Status != si.Status || len(ri.LineItems) != len(si.LineItems) {
					t.Fatalf("%s issue %s: search %+v and retrieve %+v disagree", sp.ID, si.Number, si, ri)
				}
				for k := range si.LineItems {
					if ri.LineItems[k].Ordinal != si.LineItems[k].Ordinal || ri.LineItems[k].Status != si.LineItems[k].Status {
						t.Errorf("%s issue %s line item %d: search %+v, retrieve %+v", sp.ID, si.Number, k+1, si.LineItems[k], ri.LineItems[k])
					}
				}
				if si.IssueDate != tracker.TraceFalse && ri.DispensingOrganisation.ODS != "FA666" {
					t.Errorf("%s: released on %s but no dispensing organisation in the retrieve", sp.ID, si.IssueDate)
				}
			}
		}
	}
}

// TestTraceSearchByIssueStatus searches a patient's repeat dispensing
// prescription (issue 1 to be dispensed, issues 2 to 6 waiting) by
// prescriptionStatus through the gateway against the simulator: Spine
// matches a status against every issue of a prescription (its search
// index holds each issue's status), so 9000 finds it as 0001 does, and a
// status none of its issues has finds nothing. Before, 9000 was asked of
// EPS, whose Task is the current issue, and matched against the current
// issue only: "Not found" for a prescription the answer lists with five
// 9000 issues.
func TestTraceSearchByIssueStatus(t *testing.T) {
	r := startTrackerRig(t, true)
	erd := r.prescribe(t, fixtureERD)
	for _, tt := range []struct {
		status, want string
		issues       int
	}{
		{"9000", "0", 6},
		{"0001", "0", 6},
		{"0006", "1", 0},
	} {
		code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+erd.NHSNumber+"&format=trace-summary&prescriptionStatus="+tt.status, nil)
		if code != http.StatusOK || a.StatusCode != tt.want {
			t.Errorf("prescriptionStatus %s: HTTP %d status %s, want %s\n%s", tt.status, code, a.StatusCode, tt.want, body)
			continue
		}
		if tt.issues == 0 {
			continue
		}
		if len(a.Prescriptions) != 1 || a.Prescriptions[0].ID != erd.ShortFormID || len(a.Prescriptions[0].Issues) != tt.issues {
			t.Errorf("prescriptionStatus %s: %+v, want %s with %d issues", tt.status, a.Prescriptions, erd.ShortFormID, tt.issues)
		}
	}
}

// TestTraceFutureIssuesKeepCancelledItem cancels one line item of a repeat
// dispensing prescription at its first issue, through the simulator, and
// reads it through the gateway: Spine applies a line item's cancellation
// to the current issue and every later one, so each future issue lists
// that item as cancelled (0005 "Item Cancelled", the issue's
// appliedCancellations True) and the others to be dispensed. Before, the
// future issues listed every item as to be dispensed, the cancelled
// medicine included.
func TestTraceFutureIssuesKeepCancelledItem(t *testing.T) {
	r := startTrackerRig(t, true)
	erd := r.prescribe(t, fixtureERD)
	cancelled := erd.Items[1].ID
	if _, err := r.sim.State().Cancel(sim.CancelRequest{ShortFormID: erd.ShortFormID, NHSNumber: erd.NHSNumber, Requester: "R1", ItemIDs: []string{cancelled}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	wantItems := func(where string, items []tracker.TraceLineItem) {
		t.Helper()
		if len(items) != len(erd.Items) {
			t.Fatalf("%s: %d line items, want %d", where, len(items), len(erd.Items))
		}
		for i, li := range items {
			want := tracker.TraceCoded{Text: "To Be Dispensed", Code: "0007"}
			if i == 1 {
				want = tracker.TraceCoded{Text: "Item Cancelled", Code: "0005"}
			}
			if li.Status != want {
				t.Errorf("%s: line item %d status %+v, want %+v", where, i+1, li.Status, want)
			}
		}
	}
	code, a, body := r.trace(t, PathTrackerSearch+"?nhsNumber="+erd.NHSNumber+"&format=trace-summary", nil)
	if code != http.StatusOK || a.StatusCode != "0" || len(a.Prescriptions) != 1 || len(a.Prescriptions[0].Issues) != 6 {
		t.Fatalf("search: HTTP %d status %s\n%s", code, a.StatusCode, body)
	}
	for _, is := range a.Prescriptions[0].Issues {
		wantItems("search issue "+is.Number, is.LineItems)
	}
	code, a, body = r.trace(t, PathTrackerSearch+"/"+url.PathEscape(erd.ShortFormID)+"?format=trace&issueNumber=3", nil)
	if code != http.StatusOK || a.StatusCode != "0" || len(a.Prescriptions) != 1 || len(a.Prescriptions[0].Issues) != 1 {
		t.Fatalf("retrieve issue 3: HTTP %d status %s\n%s", code, a.StatusCode, body)
	}
	is := a.Prescriptions[0].Issues[0]
	wantItems("retrieve issue 3", is.LineItems)
	if is.Status.Code != "9000" || is.AppliedCancellations != "True" {
		t.Errorf("retrieve issue 3: status %+v appliedCancellations %q, want 9000 and True", is.Status, is.AppliedCancellations)
	}
}
