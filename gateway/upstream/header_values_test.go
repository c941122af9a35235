package upstream

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

// TestSenderIDsThatAreNoHeaderValues: the correlation id and the session
// URID come from the legacy message (its eb:MessageId, its author's role
// profile), and XML text may hold a line feed or another control
// character that no HTTP header may carry. Such a call still goes to EPS —
// with a correlation id of porxgate's own, and without the unusable
// NHSD-Session-URID — in one attempt. Before, net/http refused to send
// it; the client took that for a network failure, retried it, counted
// every attempt against the operation's breaker and so, with two such
// messages, opened process-message's breaker for every sender.
func TestSenderIDsThatAreNoHeaderValues(t *testing.T) {
	tests := []struct {
		name            string
		ctx             func(context.Context) context.Context
		wantCorrelation string // "" for a fresh one
	}{
		{"correlation id", func(ctx context.Context) context.Context {
			return WithCorrelationID(ctx, "E0E5A5F2-0E6F-4D5C-9C1B-1E2B\n3C4D5E6F")
		}, "E0E5A5F2-0E6F-4D5C-9C1B-1E2B3C4D5E6F"},
		{"correlation id of control characters only", func(ctx context.Context) context.Context {
			return WithCorrelationID(ctx, "\r\n")
		}, ""},
		{"session URID", func(ctx context.Context) context.Context {
			return WithSessionURID(ctx, "5552\x0154240100")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, root := startSim(t, sim.Options{})
			rec := newRecorder()
			cfg := testConfig(root, rec)
			cfg.Breaker.ConsecutiveFailures = 2
			c := newClient(t, cfg)
			bundle := []byte(`{"resourceType":"Bundle"}`)
			for i := range 3 {
				r, err := c.ProcessMessage(tt.ctx(context.Background()), bundle)
				if err != nil {
					t.Fatalf("call %d: %v", i+1, err)
				}
				if r.Attempts != 1 {
					t.Fatalf("call %d: %d attempts, want 1", i+1, r.Attempts)
				}
			}
			if st := c.BreakerStates()[OpProcessMessage]; st != "closed" {
				t.Fatalf("process-message breaker %s, want closed", st)
			}
			for _, a := range rec.attempts("/$process-message") {
				if a.sessionURID != "" || strings.ContainsAny(a.correlationID, "\r\n") || a.correlationID == "" ||
					tt.wantCorrelation != "" && a.correlationID != tt.wantCorrelation {
					t.Fatalf("sent X-Correlation-ID %q, NHSD-Session-URID %q; want correlation %q (or a fresh one) and no session URID",
						a.correlationID, a.sessionURID, tt.wantCorrelation)
				}
			}
			if r, err := c.Metadata(context.Background()); err != nil || r.Status != http.StatusOK {
				t.Fatalf("another call afterwards: %v", err)
			}
		})
	}
}
