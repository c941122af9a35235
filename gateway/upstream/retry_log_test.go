package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/logctx"
)

// TestRetryLineKeepsTheExchangesParty sends a call whose first attempt
// EPS answers 503, from a context carrying an exchange's correlation
// fields but no party of its own (WithParty), and checks the retry's warn
// line: it carries the exchange's party. Before, the line wrote party ""
// itself, which replaced the exchange's party on the line.
func TestRetryLineKeepsTheExchangesParty(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[]}`))
	}))
	t.Cleanup(srv.Close)
	var buf bytes.Buffer
	log := logctx.Wrap(slog.New(slog.NewJSONHandler(&buf, nil)))
	c, err := New(Config{BaseURL: srv.URL, Retry: RetryConfig{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx := logctx.With(context.Background(), slog.String(logctx.KeyMessageID, "M1"), slog.String(logctx.KeyParty, "FQ2KM-807341"))
	if _, err := c.ProcessMessage(ctx, []byte(`{"resourceType":"Bundle"}`)); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(l), &rec) != nil || rec["msg"] != "upstream attempt failed, retrying" {
			continue
		}
		found = true
		if rec[logctx.KeyParty] != "FQ2KM-807341" || rec[logctx.KeyMessageID] != "M1" {
			t.Errorf("retry line %s", l)
		}
	}
	if !found {
		t.Fatalf("no retry line:\n%s", buf.String())
	}
}
