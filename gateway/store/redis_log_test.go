package store

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/logctx"
)

// TestRedisLoggerHoldsRepeatsBack feeds the logger the line the Redis
// client writes for every command while Redis is down (about eight a second
// from an idle gateway, measured against a killed redis-server) and checks
// that it is written once per Quiet, then with the count held back, while
// other lines pass at once.
func TestRedisLoggerHoldsRepeatsBack(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := NewRedisLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.Repeats.Now = func() time.Time { return now }
	const down = "redis: connection pool: failed to dial after %d attempts: dial tcp 127.0.0.1:6379: connect: connection refused"
	ctx := context.Background()
	for range 80 { // ten seconds of an outage
		l.Printf(ctx, down, 5)
		now = now.Add(125 * time.Millisecond)
	}
	l.Printf(ctx, "sentinel: new master=%q addr=%q", "porxgate", "127.0.0.1:6380")
	now = now.Add(logctx.DefaultQuiet)
	l.Printf(ctx, down, 5)
	type line struct {
		Level    string `json:"level"`
		Detail   string `json:"detail"`
		Repeated int    `json:"repeated"`
	}
	var got []line
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var ln line
		if err := json.Unmarshal([]byte(s), &ln); err != nil {
			t.Fatal(err)
		}
		got = append(got, ln)
	}
	if len(got) != 3 {
		t.Fatalf("%d lines, want 3 (the first, the sentinel's, the repeat a minute on):\n%s", len(got), buf.String())
	}
	if got[0].Level != "WARN" || got[0].Repeated != 0 || !strings.Contains(got[0].Detail, "failed to dial") {
		t.Errorf("first line %+v", got[0])
	}
	if got[1].Level != "INFO" || !strings.HasPrefix(got[1].Detail, "sentinel: new master") {
		t.Errorf("sentinel line %+v", got[1])
	}
	if got[2].Repeated != 79 {
		t.Errorf("the repeat a minute on says repeated %d, want 79", got[2].Repeated)
	}

	// A negative Quiet holds nothing back.
	buf.Reset()
	l = &RedisLogger{Log: slog.New(slog.NewJSONHandler(&buf, nil)), Repeats: logctx.Repeats{Quiet: -1}}
	l.Printf(ctx, down, 5)
	l.Printf(ctx, down, 5)
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("Quiet -1: %d lines, want 2", n)
	}
}
