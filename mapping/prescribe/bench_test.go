package prescribe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
)

// homecarePrescription is the 19 KB homecare prescription the speed budget
// is set on.
const homecarePrescription = "examples/secondary-care/homecare/acute/nominated-pharmacy/clinical-practitioner/1-Process-Request-Send-200_OK.json"

// sendPairs loads the corpus Send pairs: FHIR requests and the v3 the EPS
// API makes of them. Without the corpus it falls back to the project's own
// prescriptions and porxgate's v3 of them.
func sendPairs(tb testing.TB) (fhirReqs, v3Msgs [][]byte) {
	tb.Helper()
	if !corpustest.Present() {
		for _, j := range ownPrescriptions(tb) {
			x, err := PrescribeToV3(j, core.Meta{}, benchEnv())
			if err != nil {
				tb.Fatal(err)
			}
			fhirReqs, v3Msgs = append(fhirReqs, j), append(v3Msgs, x)
		}
		return fhirReqs, v3Msgs
	}
	files := corpustest.Walk(tb, func(rel string) bool {
		return strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml")
	})
	for _, f := range files {
		x, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		base := filepath.Base(f)
		n := base[:strings.IndexByte(base, '-')]
		j, err := os.ReadFile(filepath.Join(filepath.Dir(f), n+"-Process-Request-Send-200_OK.json"))
		if err != nil {
			tb.Fatal(err)
		}
		fhirReqs, v3Msgs = append(fhirReqs, j), append(v3Msgs, x)
	}
	if len(files) == 0 {
		tb.Skip("no Send pairs in the corpus")
	}
	return fhirReqs, v3Msgs
}

func benchEnv() core.Env {
	env := core.FixedEnv()
	return env
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkPrescribeFHIRToV3(b *testing.B) {
	reqs, _ := sendPairs(b)
	env := benchEnv()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := PrescribeToV3(reqs[i%len(reqs)], core.Meta{}, env); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkPrescribeV3ToFHIR(b *testing.B) {
	_, msgs := sendPairs(b)
	env := benchEnv()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := PrescribeToFHIR(msgs[i%len(msgs)], env); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// homecare loads the 19 KB homecare pair; without the corpus, the
// project's four-item dental prescription and porxgate's v3 of it.
func homecare(b *testing.B) (req, msg []byte) {
	b.Helper()
	if !corpustest.Present() {
		req, err := os.ReadFile(filepath.Join("..", "..", "testdata", "prescribe", "repeat-prescribing-dental-four-items.json"))
		if err != nil {
			b.Fatal(err)
		}
		msg, err := PrescribeToV3(req, core.Meta{}, benchEnv())
		if err != nil {
			b.Fatal(err)
		}
		return req, msg
	}
	dir := corpustest.Dir(b)
	req, err := os.ReadFile(filepath.Join(dir, homecarePrescription))
	if err != nil {
		b.Fatal(err)
	}
	msg, err = os.ReadFile(filepath.Join(dir, strings.Replace(homecarePrescription, "Process-Request-Send-200_OK.json", "Convert-Response-Send-200_OK.xml", 1)))
	if err != nil {
		b.Fatal(err)
	}
	return req, msg
}

func BenchmarkPrescribeFHIRToV3Homecare(b *testing.B) {
	req, _ := homecare(b)
	env := benchEnv()
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := PrescribeToV3(req, core.Meta{}, env); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

func BenchmarkPrescribeV3ToFHIRHomecare(b *testing.B) {
	_, msg := homecare(b)
	env := benchEnv()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := PrescribeToFHIR(msg, env); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}
