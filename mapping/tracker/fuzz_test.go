package tracker

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// FuzzTrackerJSONToFHIR feeds arbitrary bytes to the legacy tracker reader.
// It must never panic; whatever it accepts must reach FHIR and come back as
// legacy JSON that reads again, and a second trip must change nothing.
func FuzzTrackerJSONToFHIR(f *testing.F) {
	f.Add([]byte(`{"statusCode":"0","reason":"","version":"1","prescriptions":{}}`))
	f.Add([]byte(`{"spineResponse":{"statusCode":"8","reason":"Prescription repeat instance not found","prescriptions":{},"version":"1"},"error":{}}`))
	f.Add([]byte(`{"version":"1","reason":"","statusCode":"0","A":{"prescriptionStatus":"Claimed","patientNhsNumber":"9449304106","lineItems":{"i":{"quantity":"1","itemStatus":"Dispensed"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseTrackerJSON(data)
		if err != nil {
			return
		}
		fhirJSON, err := TrackerJSONToFHIR(data, core.CountingIDs())
		if err != nil {
			return
		}
		back, err := TrackerFromFHIR(r.Kind, fhirJSON)
		if err != nil {
			t.Fatalf("FHIR made from accepted legacy JSON does not read back: %v\n%s", err, fhirJSON)
		}
		first, err := json.Marshal(back)
		if err != nil {
			t.Fatalf("writing: %v", err)
		}
		if _, err := ParseTrackerJSON(first); err != nil {
			t.Fatalf("porxgate's own legacy JSON does not read: %v\n%s", err, first)
		}
		_, second := trackerRoundTrip(t, first)
		if !trackerJSONEqual(t, first, second) {
			t.Fatalf("second round trip changed the answer\nfirst:  %s\nsecond: %s", first, second)
		}
	})
}

// FuzzTrackerFromFHIR feeds arbitrary bytes to the EPS tracker answer
// reader: it must never panic, and what it reads must write as legacy JSON
// that reads again.
func FuzzTrackerFromFHIR(f *testing.F) {
	f.Add([]byte(simTrackerAnswer))
	f.Add([]byte(epsTrackerAnswer))
	f.Add([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range []TrackerKind{TrackerSummary, TrackerDetail} {
			r, err := TrackerFromFHIR(k, data)
			if err != nil {
				continue
			}
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("writing: %v", err)
			}
			if _, err := ParseTrackerJSON(out); err != nil && !trackerDuplicateIDs(r) {
				t.Fatalf("porxgate's own %s JSON does not read: %v\n%s", k, err, out)
			}
		}
	})
}

// trackerDuplicateIDs reports whether an answer lists a prescription id twice (a
// JSON object cannot hold that; ForSearch and ForRetrieve keep one).
func trackerDuplicateIDs(r *TrackerResponse) bool {
	seen := map[string]bool{}
	for _, p := range r.Prescriptions {
		if seen[p.ID] {
			return true
		}
		seen[p.ID] = true
	}
	return false
}

// FuzzParseTrackerQuery feeds arbitrary query strings to the legacy query
// readers: no panics, and every refusal is a *TrackerError with a code.
func FuzzParseTrackerQuery(f *testing.F) {
	f.Add("nhsNumber=9449304106&format=trace-summary&earliestDate=20211001&prescriptionStatus=0003")
	f.Add("format=trace&issueNumber=2&prescriptionId=003D4D-A99968-4C5AAJ")
	f.Add("nhsNumber=1234567890&nhsNumber=9449304106")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		check := func(err error) {
			var te *TrackerError
			if err != nil && (!errors.As(err, &te) || te.StatusCode == "" || te.Reason == "") {
				t.Fatalf("refusal %v is not a tracker error with a code and reason", err)
			}
		}
		s, err := ParseTrackerSearch(q, TrackerFormatSearch)
		check(err)
		if err == nil {
			_ = s.FHIRQuery()
		}
		r, err := ParseTrackerRetrieve("", q, "")
		check(err)
		if err == nil {
			_ = r.FHIRQuery()
		}
	})
}
