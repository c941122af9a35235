package sim

import (
	"testing"
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
