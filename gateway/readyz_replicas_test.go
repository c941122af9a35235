package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestReadyzCountsReplicas: with --redis-wait-replicas N every queue
// write waits for N replicas and fails without them, so the front door
// refuses every message (a retryable fault) while fewer are connected.
// /readyz used to say ready all the while (it only pinged the master);
// it now says not ready, naming the replicas missing, and ready again
// once they are back. With more replicas online than a write waits for
// it stays ready and warns: a failover may promote a replica without an
// acknowledged write.
func TestReadyzCountsReplicas(t *testing.T) {
	master, replicas := redistest.StartReplicated(t, 2)
	open := func(wait int) store.Store {
		r, err := store.OpenRedis(store.RedisOptions{URL: master.URL(), WaitReplicas: wait, WaitTimeout: 200 * time.Millisecond}, "rz:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	for _, tt := range []struct {
		name      string
		wait      int
		wantReady int
		wantIn    string
		wantNotIn string
	}{
		{"both replicas waited for", 2, 200, `"status":"ok"`, "warning"},
		{"one of the two replicas waited for", 1, 200, `"warning":"2 replicas online, each write waits for 1`, "replicas missing"},
		{"more replicas waited for than there are", 3, 503, "2 of the 3 replicas", "warning"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := startServer(t, open(tt.wait), fakeUpstream{})
			if code, body := get(t, base+"/readyz"); code != tt.wantReady || !strings.Contains(body, tt.wantIn) || strings.Contains(body, tt.wantNotIn) {
				t.Fatalf("/readyz = %d %s; want %d containing %s and no %s", code, body, tt.wantReady, tt.wantIn, tt.wantNotIn)
			}
		})
	}
	t.Run("a replica gone and back", func(t *testing.T) {
		base := startServer(t, open(2), fakeUpstream{})
		replicas[1].Kill(t)
		waitFor(t, "/readyz not ready with a replica gone", func() bool {
			code, body := get(t, base+"/readyz")
			return code == 503 && strings.Contains(body, "1 of the 2 replicas")
		})
		replicas[1].Restart(t) // it comes back as a replica (--replicaof)
		waitFor(t, "/readyz ready with the replica back", func() bool {
			code, _ := get(t, base+"/readyz")
			return code == 200
		})
	})
}
