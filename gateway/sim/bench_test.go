package sim

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStateLifecycle runs one prescription through the state machine:
// add, nominated release, dispense, claim.
func BenchmarkStateLifecycle(b *testing.B) {
	s := NewState(nil)
	ps := make([]rx, b.N)
	for i := range ps {
		ps[i] = newRx(b, uint32(i+1), "FH542")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		p := ps[i]
		if err := s.AddPrescription(NewPrescription{ShortFormID: p.sf, NHSNumber: p.nhs, Nominated: p.pharmacy,
			ItemIDs: []string{p.item1, p.item2}}, t0); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Release(ReleaseRequest{Owner: p.pharmacy, ShortFormID: p.sf}, t0); err != nil {
			b.Fatal(err)
		}
		if err := s.Dispense(DispenseRequest{MessageID: p.sf, Dispenser: p.pharmacy, ShortFormID: p.sf,
			Items: map[string]ItemStatus{p.item1: ItemDispensed, p.item2: ItemDispensed}}, t0); err != nil {
			b.Fatal(err)
		}
		if err := s.Claim(ClaimRequest{ShortFormID: p.sf, ClaimID: p.sf, Claimant: p.pharmacy}, t0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkDecodePrescriptionOrder decodes the test prescription-order.
func BenchmarkDecodePrescriptionOrder(b *testing.B) {
	body := fixture(b, "prescription-order.json", newRx(b, 1, "FH542").repl(nil))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m, err := decodeMessage(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := decodePrescriptionOrder(m, body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// serverBenchPool is how many prescriptions one simulator serves in
// BenchmarkServerLifecycle and BenchmarkServerCancel before a fresh one
// takes over (their requests are built before the clock starts).
const serverBenchPool = 256

// benchServe sends one request to h in process and fails b unless the
// answer has the wanted status.
func benchServe(b *testing.B, h http.Handler, method, target string, body []byte, want int) {
	rec := serveOnce(h, method, target, body)
	if rec.Code != want {
		b.Fatalf("%s %s: %d, want %d: %s", method, target, rec.Code, want, rec.Body.Bytes())
	}
}

// serveOnce sends one request to h in process and returns what h answered.
func serveOnce(h http.Handler, method, target string, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	var rdr io.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	h.ServeHTTP(rec, httptest.NewRequest(method, target, rdr))
	return rec
}

// newBenchServer is a simulator for benchmarks: fixed clock, counter ids,
// no logs.
func newBenchServer() http.Handler {
	return New(Options{Now: func() time.Time { return t0 }, NewID: counterIDs(),
		Logger: slog.New(slog.DiscardHandler)}).Handler()
}

// BenchmarkServerLifecycle runs one prescription through the FHIR face
// (decode, state, encode) in process: prescription-order, nominated
// release, dispense notification, claim and a tracker search; one op is
// the five requests.
func BenchmarkServerLifecycle(b *testing.B) {
	type bodies struct{ order, release, dispense, claim []byte }
	pool := make([]bodies, serverBenchPool)
	sfs := make([]string, serverBenchPool)
	for i := range pool {
		p := newRx(b, uint32(i+1), "FH542")
		sfs[i] = p.sf
		pool[i] = bodies{
			order:    fixture(b, "prescription-order.json", p.repl(nil)),
			release:  fixture(b, "release-nominated.json", p.repl(nil)),
			dispense: fixture(b, "dispense-notification.json", p.repl(map[string]string{"STATUS1": "0001", "STATUS2": "0001"})),
			claim:    fixture(b, "claim.json", p.repl(nil)),
		}
	}
	base := "http://sim" + DefaultBasePath
	var h http.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % serverBenchPool
		if k == 0 {
			h = newBenchServer()
		}
		p := pool[k]
		benchServe(b, h, http.MethodPost, base+"/$process-message", p.order, http.StatusOK)
		benchServe(b, h, http.MethodPost, base+"/Task/$release", p.release, http.StatusOK)
		benchServe(b, h, http.MethodPost, base+"/$process-message", p.dispense, http.StatusOK)
		benchServe(b, h, http.MethodPost, base+"/Claim", p.claim, http.StatusOK)
		benchServe(b, h, http.MethodGet, base+"/Task?focus:identifier="+sfs[k], nil, http.StatusOK)
	}
	b.ReportMetric(float64(5*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkServerCancel adds a prescription and cancels it through the
// FHIR face; one op is the two requests.
func BenchmarkServerCancel(b *testing.B) {
	type bodies struct{ order, cancel []byte }
	pool := make([]bodies, serverBenchPool)
	for i := range pool {
		p := newRx(b, uint32(i+1), "FH542")
		pool[i] = bodies{order: fixture(b, "prescription-order.json", p.repl(nil)), cancel: fixture(b, "cancel.json", p.repl(nil))}
	}
	base := "http://sim" + DefaultBasePath
	var h http.Handler
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		k := i % serverBenchPool
		if k == 0 {
			h = newBenchServer()
		}
		benchServe(b, h, http.MethodPost, base+"/$process-message", pool[k].order, http.StatusOK)
		benchServe(b, h, http.MethodPost, base+"/$process-message", pool[k].cancel, http.StatusOK)
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkReleasedOrder releases the project's prescription-orders
// (testdata/prescribe) that EPS's release shape rewrites, as it rewrites
// the gateway's: decode, reshape and encode again (releasedOrder); one op
// is each of them once.
func BenchmarkReleasedOrder(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "prescribe", "*.json"))
	var ps []Prescription
	for _, f := range files {
		order, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if p := (Prescription{Order: order}); !bytes.Equal(releasedOrder(p), order) {
			ps = append(ps, p)
		}
	}
	if len(ps) < 2 {
		b.Fatalf("%d prescription-orders in testdata/prescribe that the release shape rewrites, want at least 2", len(ps))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, p := range ps {
			_ = releasedOrder(p)
		}
	}
}
