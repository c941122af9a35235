package mapping

import "testing"

func BenchmarkCancelToFHIR(b *testing.B) {
	req := cancelFixture(b, "cancel_request_uk.xml")
	env := testEnv()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := CancelToFHIR(req, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkCancelToV3(b *testing.B) {
	env := testEnv()
	body, meta, err := CancelToFHIR(cancelFixture(b, "cancel_request_uk.xml"), env)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := CancelToV3(body, meta, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkCancelResponseFromEPS(b *testing.B) {
	req := cancelFixture(b, "cancel_request_uk.xml")
	answer := cancelFixture(b, "eps_answer_pending.json")
	env := testEnv()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := CancelResponseFromEPS(req, answer, 200, CancelReplyEnds{}, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
