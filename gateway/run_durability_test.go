package gateway

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestRunRefusesAnEvictingRedis: a Redis that deletes keys when full
// (maxmemory with allkeys-lru) could drop a prescription porxgate has
// acknowledged, so the gateway does not start on it and says what to
// set; on a Redis without an append-only file it starts and warns.
// Before, it started on either without a word.
func TestRunRefusesAnEvictingRedis(t *testing.T) {
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	ctx := context.Background()
	for _, kv := range [][2]string{{"maxmemory", "64mb"}, {"maxmemory-policy", "allkeys-lru"}} {
		if err := admin.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadConfig([]string{"--redis", srv.URL(), "--addr", "127.0.0.1:0", "--admin-addr", "off"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = Run(runCtx, cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), "maxmemory-policy noeviction") || !strings.Contains(err.Error(), "allkeys-lru") {
		t.Fatalf("Run on an evicting Redis = %v, want a refusal naming the policy and the fix", err)
	}

	if err := admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	runCtx, cancel = context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, cfg, slog.New(slog.NewJSONHandler(&logs, nil))) }()
	logged := func(level, prefix string) bool {
		for _, l := range logs.lines(t) {
			if msg, _ := l["msg"].(string); l["level"] == level && strings.HasPrefix(msg, prefix) {
				return true
			}
		}
		return false
	}
	waitFor(t, "the gateway listening", func() bool { return logged("INFO", "porxgate listening") })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run on a non-evicting Redis: %v", err)
	}
	if !logged("WARN", "redis has appendonly no") {
		t.Errorf("no warning of the missing append-only file: %v", logs.lines(t))
	}
}
