package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestRunServesCancellations: Run wires the pending-cancellation handling
// (tracker on the store, poller, admin view, metrics) and stops it with
// ctx.
func TestRunServesCancellations(t *testing.T) {
	for _, redis := range []bool{false, true} {
		name := "memory"
		if redis {
			name = "redis"
		}
		t.Run(name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			_ = ln.Close()
			aln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			adminAddr := aln.Addr().String()
			_ = aln.Close()
			cfg := testConfig()
			cfg.Addr = addr
			cfg.Admin.Addr = adminAddr
			cfg.CancelPollInterval = 20 * time.Millisecond
			if redis {
				cfg.RedisURL = redistest.Start(t).URL()
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- Run(ctx, cfg, quietLog()) }()
			var body string
			waitFor(t, "the admin view", func() bool {
				select {
				case err := <-done: // say why, not only that it never served
					t.Fatalf("Run ended before serving: %v", err)
				default:
				}
				resp, err := http.Get("http://" + adminAddr + cancels.PathAdmin)
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				body = string(b)
				return resp.StatusCode == 200
			})
			if !strings.Contains(body, `"count":0`) {
				t.Errorf("admin view %s", body)
			}
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(m), "porxgate_cancellations_pending 0") || !strings.Contains(string(m), "porxgate_cancellation_oldest_age_seconds 0") {
				t.Errorf("metrics:\n%s", grepLines(string(m), "cancellation"))
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not stop")
			}
		})
	}
}
