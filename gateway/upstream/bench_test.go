package upstream

import (
	"context"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

// BenchmarkClientProcessMessage sends prescription-orders through the whole
// client chain to the simulator over loopback.
func BenchmarkClientProcessMessage(b *testing.B) {
	s := sim.New(sim.Options{Logger: quiet})
	root := serveBench(b, s)
	c, err := New(testConfig(root, nil), quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	mk := &rxMaker{}
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = mk.next(b, "FH542").fixture(b, "prescription-order.json", nil)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r, err := c.ProcessMessage(ctx, bodies[i])
		if err != nil || r.Status != 200 {
			b.Fatalf("ProcessMessage: %v %v", r, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
