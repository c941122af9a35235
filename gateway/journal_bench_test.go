package gateway

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// BenchmarkExchangeJournal measures one whole prescription exchange — v3
// → FHIR, the EPS simulator over a loopback socket, the answer back to v3 —
// with the journal off, in memory and in Redis (its writer running, as in
// the gateway), and reports what one exchange costs the journal in bytes.
// Throughput is per processing goroutine; exchanges/s-drained counts until
// the journal's writer has written everything. The machine may be shared.
func BenchmarkExchangeJournal(b *testing.B) {
	rs := redistest.Start(b)
	r, err := store.NewRedis(rs.URL(), "bench:")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	fixture, err := os.ReadFile("../testdata/prescribe/acute-nurse-controlled-drug-unsigned.json")
	if err != nil {
		b.Fatal(err)
	}
	template, err := prescribemap.PrescribeToV3(fixture, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		b.Fatal(err)
	}
	backends := []struct {
		name string
		b    func() journal.Backend
	}{
		{"off", nil},
		{"memory", func() journal.Backend { return journal.NewMemory(journal.Retention{}) }},
		{"redis", func() journal.Backend { return journal.NewRedis(r.Client(), r.Prefix(), journal.Retention{}) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			var j *journal.Journal
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if be.b != nil {
				j = journal.New(be.b(), journal.Options{Queue: 1 << 16})
				go j.Run(ctx)
			}
			s := sim.New(sim.Options{Logger: quietLog()})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, ln) }()
			defer func() { cancel(); <-done }()
			c, err := upstream.New(upstream.Config{BaseURL: "http://" + ln.Addr().String() + "/FHIR/R4", Tap: j.Tap}, quietLog())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			var p Processor = NewEPSProcessor(mapping.NewRegistry(), c, nil, nil, quietLog())
			if j != nil {
				p = journalProcessor{next: p, j: j}
			}
			b.ReportAllocs()
			n := 0
			start := time.Now()
			for b.Loop() {
				n++
				rx, err := sim.MakeShortFormID(uint32(n)+uint32(time.Now().UnixNano()&0xFFFF)<<16, "A99968")
				if err != nil {
					b.Fatal(err)
				}
				id := strings.ToUpper(ids.NewUUID())
				in := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, Family: v3.FamilyUK,
					MessageID: id, ConversationID: id, FromParty: senderParty, ReceivedAt: time.Now(),
					Payload: bytes.ReplaceAll(template, []byte("C1D2E3-A99968-00A1BM"), []byte(rx))}
				out, err := p.Process(ctx, in)
				if err != nil || len(out.Answers) != 1 {
					b.Fatalf("exchange %d: %v %+v", n, err, out)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
			if j != nil {
				wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer wcancel()
				if err := j.Wait(wctx); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "exchanges/s-drained")
				st, err := j.Backend().Stats(wctx)
				if err != nil || st.Exchanges == 0 {
					b.Fatalf("journal stats %+v %v", st, err)
				}
				b.ReportMetric(float64(st.Bytes)/float64(st.Exchanges), "journal-bytes/exchange")
				b.ReportMetric(float64(j.Dropped()), "dropped")
				if be.name == "redis" {
					_ = r.Client().FlushDB(wctx).Err()
				}
			}
		})
	}
}
