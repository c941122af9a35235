package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// acceptingAPI answers every call as EPS accepts a prescription, without a
// network, so a benchmark measures porxgate's own work.
type acceptingAPI struct{ EPSAPI }

func (acceptingAPI) ProcessMessage(context.Context, []byte) (*upstream.Response, error) {
	return &upstream.Response{Status: 200, Body: []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`)}, nil
}

// BenchmarkPrescriptionProcess is the prescription throughput of the EPS
// processor (v3 → FHIR, the signature guard for a signed prescription, the
// answer back) with an upstream that answers at once.
func BenchmarkPrescriptionProcess(b *testing.B) {
	t := &testing.T{}
	for _, fixture := range []string{"repeat-dispensing-pharmacist-endorsed.json", "acute-nurse-controlled-drug-unsigned.json"} {
		payload, _ := legacyPrescription(t, fixture)
		b.Run(fixture, func(b *testing.B) {
			p := NewEPSProcessor(mapping.NewRegistry(), acceptingAPI{}, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				in := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, Family: v3.FamilyUK,
					MessageID: fmt.Sprintf("M%d", i), Payload: payload}
				if _, err := p.Process(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkSignatureGuard is the guard alone on a signed prescription: FHIR
// without carried v3 parts (every EPS-shaped prescription) and FHIR with one
// (the full derivation and fragment comparison, here ending in a refusal).
func BenchmarkSignatureGuard(b *testing.B) {
	t := &testing.T{}
	signed, _ := legacyPrescription(t, "repeat-dispensing-pharmacist-endorsed.json")
	env := mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK}
	for _, tc := range []struct {
		name    string
		payload []byte
	}{{"clean", signed}, {"carried", withAddressKey(t, signed)}} {
		body, _, err := prescribemap.PrescribeToFHIR(tc.payload, env)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = checkSignature(tc.payload, body, env)
			}
		})
	}
}
