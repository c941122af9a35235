package gateway

import (
	"io"
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
			cfg := testConfig()
			cfg.Admin.Addr = "127.0.0.1:0"
			cfg.CancelPollInterval = 20 * time.Millisecond
			if redis {
				cfg.RedisURL = redistest.Start(t).URL()
			}
			run := startRun(t, cfg, quietLog())
			var body string
			waitFor(t, "the admin view", func() bool {
				if ended, err := run.ended(); ended { // say why, not only that it never served
					t.Fatalf("Run ended before serving: %v", err)
				}
				resp, err := http.Get("http://" + run.AdminAddr + cancels.PathAdmin)
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
			resp, err := http.Get("http://" + run.Addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(m), "porxgate_cancellations_pending 0") || !strings.Contains(string(m), "porxgate_cancellation_oldest_age_seconds 0") {
				t.Errorf("metrics:\n%s", grepLines(string(m), "cancellation"))
			}
			if err := run.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}
