package tracker

import (
	"bytes"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// FuzzParseTraceJSON feeds arbitrary bytes to the documented tracker's
// reader. It must never panic; what it accepts must write as JSON that reads
// again and writes the same; and what goes on to FHIR must read back.
func FuzzParseTraceJSON(f *testing.F) {
	for _, seed := range []string{docSearchSingle, docSearchMultiple, docRetrieve, docSearchError, docRetrieveError,
		`{"statusCode":"3","reason":"Issue not found","version":"1","prescription":{"prescriptionId":"A","currentIssueNumber":"1","issue":{}}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseTraceJSON(data)
		if err != nil {
			return
		}
		first, err := a.MarshalJSON()
		if err != nil {
			t.Fatalf("writing: %v", err)
		}
		again, err := ParseTraceJSON(first)
		if err != nil {
			t.Fatalf("porxgate's own JSON does not read: %v\n%s", err, first)
		}
		second, err := again.MarshalJSON()
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("a second write changed the answer (%v)\nfirst:  %s\nsecond: %s", err, first, second)
		}
		r, err := a.Tracker()
		if err != nil {
			return
		}
		res, err := TrackerToFHIR(r, core.CountingIDs())
		if err != nil {
			return
		}
		if _, err := TrackerFromResource(TrackerDetail, res); err != nil {
			t.Fatalf("FHIR made from accepted JSON does not read back: %v", err)
		}
	})
}
