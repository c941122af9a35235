package ack

import (
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// BenchmarkAckRoundTrip measures v3 → FHIR → v3 of an AE acknowledgement
// through the registered translator.
func BenchmarkAckRoundTrip(b *testing.B) {
	payload, err := BuildAck(ackSample())
	if err != nil {
		b.Fatal(err)
	}
	tr := AckTranslator()
	env := ackTestEnv()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body, meta, err := tr.ToFHIR(payload, env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.ToV3(body, meta, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkAckFromOutcome measures the gateway's path: an EPS error outcome
// to the acknowledgement's bytes.
func BenchmarkAckFromOutcome(b *testing.B) {
	oo := &fhir.OperationOutcome{Issue: []fhir.Issue{
		maptest.Issue("error", "business-rule", fhir.CodeSystemEPSIssueCode, "PRESCRIPTION_WITH_ANOTHER_DISPENSER", "Prescription is with another dispenser", ""),
	}}
	req := AckRequest{RequestID: "5F2B8C1E-3D4A-4B6C-9E7F-0A1B2C3D4E5F", Interaction: v3.DispenseNotification, SenderASID: "999999999001", ReceiverASID: "200000000123"}
	env := ackTestEnv()
	env.Scratch = v3.NewScratch() // as the gateway's EPSProcessor has
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, _, err := AckFromOutcome(oo, 400, req, env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := BuildAckWith(env.Scratch, a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
