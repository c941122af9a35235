package sim

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// orderTemplate is a prescription-order the simulator accepts and the
// short-form id it carries, to be replaced by a fresh one per request.
type orderTemplate struct {
	name string
	body []byte
	sf   string // as written in the body
	ods  string // the prescriber's ODS code in sf
}

// acceptedOrders are the prescription-orders of the project's
// testdata/prescribe (the load generator's is one of them) and of the
// corpus that a fresh simulator answers 200.
func acceptedOrders(b *testing.B) []orderTemplate {
	b.Helper()
	own, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "prescribe", "*.json"))
	var bodies [][]byte
	var names []string
	for _, f := range own {
		body, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		bodies, names = append(bodies, body), append(names, filepath.Base(f))
	}
	if corpustest.Present() {
		for _, rel := range corpustest.Walk(b, func(rel string) bool { return strings.HasSuffix(rel, ".json") }) {
			body, err := os.ReadFile(rel)
			if err != nil {
				b.Fatal(err)
			}
			bodies, names = append(bodies, body), append(names, rel)
		}
	}
	var out []orderTemplate
	for i, body := range bodies {
		m, err := decodeMessage(body)
		if err != nil || m.event != fhir.EventPrescriptionOrder {
			continue
		}
		mrs, err := m.medicationRequests()
		if err != nil {
			continue
		}
		if _, err := shortFormOf(mrs); err != nil {
			continue
		}
		sf := mrs[0].GroupIdentifier.Value
		parts := strings.Split(sf, "-")
		if len(parts) != 3 || bytes.Count(body, []byte(sf)) == 0 {
			continue
		}
		ods := strings.TrimLeft(parts[1], "0")
		if ods == "" {
			continue
		}
		h := newBenchServer()
		fresh, err := MakeShortFormID(1, ods)
		if err != nil {
			continue
		}
		rec := serveOnce(h, http.MethodPost, "http://sim"+DefaultBasePath+"/$process-message", bytes.ReplaceAll(body, []byte(sf), []byte(fresh)))
		if rec.Code != http.StatusOK {
			continue
		}
		out = append(out, orderTemplate{name: names[i], body: body, sf: sf, ods: ods})
	}
	b.Logf("%d prescription-orders: %d of the project's, the rest of the corpus", len(out), len(own))
	if len(out) < 3 {
		b.Fatalf("%d prescription-orders the simulator accepts, want at least 3", len(out))
	}
	return out
}

// orderBenchPool is how many requests BenchmarkProcessMessageOrders
// builds before the clock starts; each fresh simulator serves them once.
const orderBenchPool = 1024

// BenchmarkProcessMessageOrders sends prescription-orders a fresh
// simulator accepts (acceptedOrders), each under a fresh short-form id,
// through the simulator's handler in process: decode, EPS's checks, the
// state, the answer; one op is one request, as the gateway sends one for
// each prescription of the end-to-end rig. "loadgen" is the load
// generator's prescription alone (testdata/prescribe/
// acute-nurse-controlled-drug-unsigned.json), "all" every accepted order
// in turn.
func BenchmarkProcessMessageOrders(b *testing.B) {
	tpls := acceptedOrders(b)
	for _, bc := range []struct {
		name string
		keep func(orderTemplate) bool
	}{
		{"loadgen", func(t orderTemplate) bool { return t.name == "acute-nurse-controlled-drug-unsigned.json" }},
		{"all", func(orderTemplate) bool { return true }},
	} {
		var use []orderTemplate
		for _, t := range tpls {
			if bc.keep(t) {
				use = append(use, t)
			}
		}
		if len(use) == 0 {
			b.Fatalf("%s: no prescription-order", bc.name)
		}
		b.Run(bc.name, func(b *testing.B) { benchOrders(b, use) })
	}
}

func benchOrders(b *testing.B, tpls []orderTemplate) {
	pool := make([][]byte, orderBenchPool)
	for i := range pool {
		t := tpls[i%len(tpls)]
		sf, err := MakeShortFormID(uint32(i+1), t.ods)
		if err != nil {
			b.Fatal(err)
		}
		pool[i] = bytes.ReplaceAll(t.body, []byte(t.sf), []byte(sf))
	}
	target := "http://sim" + DefaultBasePath + "/$process-message"
	var h http.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % len(pool)
		if k == 0 {
			b.StopTimer()
			h = newBenchServer()
			b.StartTimer()
		}
		benchServe(b, h, http.MethodPost, target, pool[k], http.StatusOK)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
