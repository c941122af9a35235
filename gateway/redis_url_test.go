package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestOpenStoreSentinelURL opens the store from a redis-sentinel:// --redis
// URL against a real Sentinel group and checks that what it accepts lands
// on the group's master, in the database the URL names.
func TestOpenStoreSentinelURL(t *testing.T) {
	g := redistest.StartSentinel(t)
	cfg, err := LoadConfig([]string{"--redis", "redis-sentinel://" + strings.Join(g.SentinelAddrs(), ",") + "/" + redistest.MasterName + "/3"},
		func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*store.Redis); !ok {
		t.Fatalf("store %s, want Redis", st.Kind())
	}
	fresh, err := st.Accept(ctx, "sentinel-url:1", time.Minute, store.Item{Queue: inboxQueue, ID: "m1", Data: []byte(`{}`), Due: time.Now()})
	if err != nil || !fresh {
		t.Fatalf("accept: fresh %v err %v", fresh, err)
	}
	master := redis.NewClient(&redis.Options{Addr: g.Master.Addr, DB: 3})
	defer master.Close()
	if n, err := master.DBSize(ctx).Result(); err != nil || n == 0 {
		t.Fatalf("the master's database 3 holds %d keys (err %v), want the accepted message", n, err)
	}
}
