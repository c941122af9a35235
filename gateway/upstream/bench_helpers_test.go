package upstream

import (
	"context"
	"net"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

// serveBench serves s on 127.0.0.1:0 until the benchmark ends.
func serveBench(b *testing.B, s *sim.Server) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}
