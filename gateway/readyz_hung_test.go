package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestReadyzHungRedisBlamesOnlyTheStore freezes the real redis-server (a
// hung Redis: connections accepted, nothing answered) under a gateway
// whose EPS (the simulator) answers, and checks that /readyz names the
// store, and only the store, as the trouble. Before, the store's ping used
// up the one deadline both checks shared, so the EPS ping failed at once
// and /readyz told the on-call operator that EPS was unreachable too; and
// /readyz answered only when the Redis client gave up (about 5 s), not at
// its own 2 s deadline.
func TestReadyzHungRedisBlamesOnlyTheStore(t *testing.T) {
	redisSrv := redistest.Start(t)
	st, err := store.NewRedis(redisSrv.URL(), "t:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	_, client := startSim(t)
	base := startServer(t, st, &EPSClient{Client: client, desc: "simulator"})
	type status struct {
		Status string `json:"status"`
		Store  struct {
			Status string `json:"status"`
		} `json:"store"`
		Upstream struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"upstream"`
	}
	readyz := func() (int, status, string) {
		t.Helper()
		code, body := get(t, base+"/readyz")
		var s status
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("/readyz not JSON: %v\n%s", err, body)
		}
		return code, s, body
	}
	if code, s, body := readyz(); code != http.StatusOK || s.Store.Status != "ok" || s.Upstream.Status != "ok" {
		t.Fatalf("before: /readyz %d %s", code, body)
	}
	redisSrv.Pause(t)
	code, s, body := readyz()
	if code != http.StatusServiceUnavailable || s.Store.Status != "unreachable" {
		t.Fatalf("Redis hung: /readyz %d %s; want 503 with the store unreachable", code, body)
	}
	if !strings.Contains(body, "no answer within") {
		t.Errorf("Redis hung: /readyz did not answer at its own deadline (the Redis client's read timeout came first)\n%s", body)
	}
	if s.Upstream.Status != "ok" || s.Upstream.Error != "" {
		t.Errorf("Redis hung, EPS answering: /readyz says upstream %q (%s)\n%s", s.Upstream.Status, s.Upstream.Error, body)
	}
}
