package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// BenchmarkEbXMLAccept measures the ebXML front door over a real socket:
// parse, checks, the store's atomic accept (duplicate mark + inbox) and the
// 202 acknowledgment; the workers do not run.
func BenchmarkEbXMLAccept(b *testing.B) {
	srv := redistest.Start(b)
	r, err := store.NewRedis(srv.URL(), "bench:")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for name, st := range map[string]store.Store{"memory": store.NewMemory(nil), "redis": r} {
		b.Run(name, func(b *testing.B) {
			g := benchGateway(b, st)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			defer client.CloseIdleConnections()
			ct, action, body := newReq("00000000-0000-4000-8000-000000000000").build()
			const idInBody = "00000000-0000-4000-8000-000000000000"
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("%08X-0000-4000-8000-%012X", i, time.Now().UnixNano()&0xFFFFFFFFFFFF)
				if code := benchPost(b, client, g+PathEbXML, ct, action, []byte(strings.ReplaceAll(string(body), idInBody, id))); code != http.StatusAccepted {
					b.Fatalf("status %d", code)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// benchPost posts body to url with client, as an MHS sends an ebXML
// message (Content-Type ct, SOAPAction action), reads the answer and
// returns its status.
func benchPost(b *testing.B, client *http.Client, url, ct, action string, body []byte) int {
	b.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("SOAPAction", action)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// benchGateway serves a gateway without workers until the benchmark ends
// and returns its base URL.
func benchGateway(b *testing.B, st store.Store) string {
	b.Helper()
	return benchGatewayWith(b, testConfig(), st)
}

// benchGatewayWith is benchGateway of the configuration cfg.
func benchGatewayWith(b *testing.B, cfg Config, st store.Store) string {
	b.Helper()
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(newFakeProcessor()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}
