package deploy

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway"
)

// stopBudget is the longest a stop of a gateway on Redis may take with
// the given --shutdown-timeout: the drain of the requests in flight (up
// to the timeout: a SOAP request waiting on EPS is cut at three
// quarters of it, then answered), then the workers' work in hand (up to
// the timeout again), then the outcome of work cut short written back
// (storeCtx: up to five seconds). Measured with --shutdown-timeout 4s, a
// request body stalled and a message waiting on a hung EPS: 6.0 s from
// "shutting down" to "stopped cleanly".
func stopBudget(shutdown time.Duration) time.Duration { return 2*shutdown + 5*time.Second }

// TestStopGraceCoversTheStop: the compose file gave the gateway 30 s
// between SIGTERM and SIGKILL with --shutdown-timeout 20s, "more than
// --shutdown-timeout", while a stop drains requests and then the work in
// hand, each for up to that timeout: a stop that used both was killed
// mid-drain, its message left under its lease. The grace of the compose
// file and of the systemd unit now covers the whole stop.
func TestStopGraceCoversTheStop(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	setting := func(file, body string, re *regexp.Regexp, def time.Duration) time.Duration {
		t.Helper()
		m := re.FindStringSubmatch(body)
		if m == nil {
			if def == 0 {
				t.Fatalf("%s: no match for %s", file, re)
			}
			return def
		}
		d, err := time.ParseDuration(m[1])
		if err != nil {
			t.Fatalf("%s: %s: %v", file, m[0], err)
		}
		return d
	}
	def := gateway.DefaultConfig().ShutdownTimeout
	tests := []struct {
		file           string
		grace, timeout *regexp.Regexp
	}{
		{"compose.yaml", regexp.MustCompile(`(?m)^\s*stop_grace_period:\s*(\S+)`), regexp.MustCompile(`(?m)^\s*PORXGATE_SHUTDOWN_TIMEOUT:\s*(\S+)`)},
		{"porxgate.service", regexp.MustCompile(`(?m)^TimeoutStopSec=(\S+)`), regexp.MustCompile(`(?m)^Environment=PORXGATE_SHUTDOWN_TIMEOUT=(\S+)`)},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := read(tt.file)
			grace := setting(tt.file, body, tt.grace, 0)
			shutdown := setting(tt.file, body, tt.timeout, def)
			if need := stopBudget(shutdown); grace <= need {
				t.Errorf("%s gives the stop %v before SIGKILL; with --shutdown-timeout %v it may take %v (requests drained, then the work in hand, each for up to the timeout, then the outcomes written)",
					tt.file, grace, shutdown, need)
			}
		})
	}
}
