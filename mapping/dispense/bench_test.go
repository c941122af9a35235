package dispense_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// dispBenchRate reports messages per second.
func dispBenchRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// dispBenchInputs returns a dispense notification fixture as v3 and as FHIR.
func dispBenchInputs(b *testing.B, rel string) (v3Msg, fhirMsg []byte) {
	b.Helper()
	v3Msg = []byte(string(maptest.Testdata(b, rel)))
	fhirMsg, _, err := dispense.DispenseToFHIR(v3Msg, dispensetest.Env())
	if err != nil {
		b.Fatal(err)
	}
	return v3Msg, fhirMsg
}

func benchDispense(b *testing.B, rel string, toV3 bool) {
	v3Msg, fhirMsg := dispBenchInputs(b, rel)
	env := dispensetest.Env()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if toV3 {
			_, err = dispense.DispenseToV3(fhirMsg, core.Meta{}, env)
		} else {
			_, _, err = dispense.DispenseToFHIR(v3Msg, env)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	dispBenchRate(b)
}

// BenchmarkDispenseFHIRToV3 maps each corpus dispense notification (EPS's
// Process-Request-Dispense) in turn to v3; without the corpus, a two-item
// notification of our own (two MedicationDispenses).
func BenchmarkDispenseFHIRToV3(b *testing.B) {
	bodies := corpustest.Files(b, func(rel string) bool {
		return strings.HasSuffix(rel, "-Process-Request-Dispense-200_OK.json")
	})
	if bodies == nil {
		benchDispense(b, "dispense/dn-full-two-items.xml", true)
		return
	}
	env := dispensetest.Env()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dispense.DispenseToV3(bodies[i%len(bodies)], core.Meta{}, env); err != nil {
			b.Fatal(err)
		}
	}
	dispBenchRate(b)
}

// BenchmarkDispenseV3ToFHIR maps the same notification from v3 to FHIR.
func BenchmarkDispenseV3ToFHIR(b *testing.B) {
	benchDispense(b, "dispense/dn-full-two-items.xml", false)
}

// BenchmarkDispenseFHIRToV3Brands maps a notification with one item supplied
// as three products (three MedicationDispenses) to v3.
func BenchmarkDispenseFHIRToV3Brands(b *testing.B) {
	benchDispense(b, "dispense/dn-brands-packs.xml", true)
}

// BenchmarkDispenseV3ToFHIRBrands maps the three-product notification to FHIR.
func BenchmarkDispenseV3ToFHIRBrands(b *testing.B) {
	benchDispense(b, "dispense/dn-brands-packs.xml", false)
}
