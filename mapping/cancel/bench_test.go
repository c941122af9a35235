package cancel

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
)

func BenchmarkCancelToFHIR(b *testing.B) {
	req := cancelFixture(b, "cancel_request_uk.xml")
	env := core.FixedEnv()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := CancelToFHIR(req, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCancelToV3 maps each corpus cancellation request (EPS's
// Process-Request-Cancel) in turn to v3; without the corpus, porxgate's FHIR
// of the project's own cancel request.
func BenchmarkCancelToV3(b *testing.B) {
	env := core.FixedEnv()
	bodies := corpustest.Files(b, func(rel string) bool {
		return strings.HasSuffix(rel, "-Process-Request-Cancel-200_OK.json")
	})
	meta := core.Meta{}
	if bodies == nil {
		body, m, err := CancelToFHIR(cancelFixture(b, "cancel_request_uk.xml"), env)
		if err != nil {
			b.Fatal(err)
		}
		bodies, meta = [][]byte{body}, m
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := CancelToV3(bodies[i%len(bodies)], meta, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkCancelResponseFromEPS(b *testing.B) {
	req := cancelFixture(b, "cancel_request_uk.xml")
	answer := cancelFixture(b, "eps_answer_pending.json")
	env := core.FixedEnv()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := CancelResponseFromEPS(req, answer, 200, CancelReplyEnds{}, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
