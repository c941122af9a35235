package tracker

import (
	"encoding/json"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
)

// BenchmarkTrackerFromFHIR measures an EPS tracker answer (the simulator's
// shape) to legacy summary JSON, the gateway's direction.
func BenchmarkTrackerFromFHIR(b *testing.B) {
	body := []byte(simTrackerAnswer)
	b.ReportAllocs()
	for b.Loop() {
		r, err := TrackerFromFHIR(TrackerSummary, body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkTrackerJSONToFHIR measures a legacy detail answer to FHIR.
func BenchmarkTrackerJSONToFHIR(b *testing.B) {
	body := []byte(`{"version":"1","reason":"","statusCode":"0","7A9F2C-A83008-4E41FV":{"prescriptionStatus":"Claimed","lastEventDate":"20240302080030","prescriptionIssueDate":"20240301101500","prescriptionDownloadDate":"20240301120000","prescriptionDispensedDate":"20240302","prescriptionClaimedDate":"20240302080030","prescriptionLastIssueDispensedDate":"","patientNhsNumber":"9449304106","epsVersion":"R2","pendingCancellations":"False","prescriptionTreatmentType":"Repeat Dispensing","repeatInstance":{"currentIssue":"3","totalAuthorised":"6"},"prescriber":{"name":"Test Surgery","address":"1 Road, Town","phone":"01234000000","ods":"A83008"},"nominatedPharmacy":{"name":"","address":"","phone":"","ods":"FCG71"},"dispensingPharmacy":{"name":"Test Pharmacy","address":"2 Street, Town","phone":"","ods":"FCG71"},"lineItems":{"a54219b8-f741-4c47-b662-e4f8dfa49ab6":{"description":"Paracetamol 500mg tablets","quantity":"32","uom":"tablet","dosage":"Two tablets four times a day","itemStatus":"Dispensed","code":"322236009"}}}}`)
	ids := core.CountingIDs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := TrackerJSONToFHIR(body, ids); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
