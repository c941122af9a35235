package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// fillRedis sets a real redis-server's memory limit (maxmemory-policy
// noeviction, as porxgate requires) just above what it holds and writes
// until Redis refuses writes as out of memory; it returns the keys it
// wrote, for the test to delete.
func fillRedis(t *testing.T, ctx context.Context, admin *redis.Client) []string {
	t.Helper()
	info, err := admin.Info(ctx, "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	var used int64
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			used, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if used == 0 {
		t.Fatalf("no used_memory in INFO memory:\n%s", info)
	}
	for _, kv := range [][2]string{{"maxmemory-policy", "noeviction"}, {"maxmemory", strconv.FormatInt(used+256<<10, 10)}} {
		if err := admin.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	junk := strings.Repeat("x", 16<<10)
	var keys []string
	for i := range 1000 {
		k := "junk:" + strconv.Itoa(i)
		if err := admin.Set(ctx, k, junk, 0).Err(); err != nil {
			if !strings.HasPrefix(err.Error(), "OOM") {
				t.Fatalf("filling Redis: %v", err)
			}
			return keys
		}
		keys = append(keys, k)
	}
	t.Fatal("Redis did not fill up")
	return nil
}

// TestFullRedisIsNotReady fills a real redis-server (maxmemory with
// noeviction: it answers PING but refuses every write as OOM). Every
// legacy message is then refused with 910004, so that its sender retries;
// /readyz must say so, naming the store as full, and the refusals must be
// counted. Before, /readyz answered 200 "ready" with the store "ok" (it
// only pinged), porxgate_store_up stayed 1, and no alert could fire while
// every message was refused.
func TestFullRedisIsNotReady(t *testing.T) {
	srv := redistest.Start(t)
	st, err := store.NewRedis(srv.URL(), "gw:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	g := startGateway(t, testConfig(), st, true, WithProcessor(newFakeProcessor()))
	m := g.srv.metrics
	readyz := func() (int, map[string]any) {
		t.Helper()
		code, body := get(t, g.base+"/readyz")
		var s struct {
			Store map[string]any `json:"store"`
		}
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("/readyz not JSON: %v\n%s", err, body)
		}
		return code, s.Store
	}
	if code, s := readyz(); code != http.StatusOK || s["status"] != "ok" {
		t.Fatalf("before: /readyz %d, store %v", code, s)
	}

	keys := fillRedis(t, ctx, admin)
	code, resp := sendEb(t, g.base, newReq(newID(t, 1)))
	if c, d := faultCode(t, resp); code != http.StatusInternalServerError || c != "200" || !strings.Contains(d, "910004") {
		t.Fatalf("Redis full: HTTP %d, fault %s %q; want 500 with a retryable 910004 fault", code, c, d)
	}
	if n := counterSum(t, m, "porxgate_messages_received_total", map[string]string{"outcome": "store_error"}); n != 1 {
		t.Errorf("Redis full: %v messages counted as store_error, want 1", n)
	}
	code, s := readyz()
	if code != http.StatusServiceUnavailable || s["status"] != "full" || !strings.Contains(s["error"].(string), "OOM") {
		t.Errorf("Redis full: /readyz %d, store %v; want 503 with the store full and Redis's OOM error", code, s)
	}

	if err := admin.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	if code, s := readyz(); code != http.StatusOK || s["status"] != "ok" {
		t.Errorf("room again: /readyz %d, store %v; want 200, ok", code, s)
	}
	if code, resp := sendEb(t, g.base, newReq(newID(t, 2))); code != http.StatusAccepted {
		t.Errorf("room again: HTTP %d, want 202\n%s", code, resp)
	}
}
