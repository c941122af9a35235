package release_test

import (
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// relBenchInputs returns the corpus's 20-prescription nominated release
// response as v3, its FHIR (porxgate's, with its own parameter) and the
// same answer shaped as the EPS API gives it.
// Without the corpus it uses the project's own one-prescription release
// response (BenchmarkReleaseAnswerFromEPS repeats it to 20).
func relBenchInputs(b *testing.B) (v3Msg, fhirMsg, epsMsg []byte, meta core.Meta) {
	b.Helper()
	v3Msg = maptest.Testdata(b, "release/"+"patient-release-response-070103.xml")
	if corpustest.Present() {
		v3Msg = relCorpus(b, "release-responses/full_successful_release.xml")
	}
	fhirMsg, meta, err := release.ReleaseResponseToFHIR(v3Msg, relEnv())
	if err != nil {
		b.Fatal(err)
	}
	return v3Msg, fhirMsg, epsShaped(b, fhirMsg), meta
}

func relBenchRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReleaseAnswerFromEPS builds the v3 answer to a nominated release
// request from EPS's $release answer with 20 signed prescriptions: what the
// gateway does for each download.
func BenchmarkReleaseAnswerFromEPS(b *testing.B) {
	eps := scaledReleaseAnswer(b, 20)
	req := maptest.Testdata(b, "release/"+"nominated-release-request-060102.xml")
	env := relEnv()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := release.ReleaseAnswerFromEPS(req, eps, 200, release.ReleaseReplyEnds{}, env); err != nil {
			b.Fatal(err)
		}
	}
	relBenchRate(b)
}

// BenchmarkReleaseResponseToV3 is the translator's FHIR → v3 of the same
// release (porxgate's FHIR of it).
func BenchmarkReleaseResponseToV3(b *testing.B) {
	_, fhirMsg, _, meta := relBenchInputs(b)
	env := relEnv()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := release.ReleaseResponseToV3(fhirMsg, meta, env); err != nil {
			b.Fatal(err)
		}
	}
	relBenchRate(b)
}

// BenchmarkReleaseResponseToFHIR is v3 → FHIR of the 20-prescription
// release (with its write-back checks).
func BenchmarkReleaseResponseToFHIR(b *testing.B) {
	v3Msg, _, _, _ := relBenchInputs(b)
	env := relEnv()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := release.ReleaseResponseToFHIR(v3Msg, env); err != nil {
			b.Fatal(err)
		}
	}
	relBenchRate(b)
}
