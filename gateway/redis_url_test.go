package gateway

import (
	"context"
	"errors"
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

// TestRedisSchemeMismatchDiagnosed: --redis rediss:// pointed at a
// plain-text Redis failed the start after five seconds with only "redis
// ping: context deadline exceeded" (the TLS handshake waits for ever on a
// server that waits for a command), and /readyz said the same; redis://
// at a TLS-only Redis said only "EOF". Both now name the likely cause and
// the fix, at the start and on /readyz; a TLS Redis whose certificate is
// not trusted, or a plain one spoken to in plain text, is not taken for
// a mismatch.
func TestRedisSchemeMismatchDiagnosed(t *testing.T) {
	plain := redistest.Start(t)
	tlsOnly, _ := redistest.StartTLS(t)
	tests := []struct {
		name, url string
		mismatch  bool
		want      string
	}{
		{"rediss at plain text", "rediss://" + plain.Addr + "/0", true, "speaks plain text (it answered a plain-text PING), but the URL's rediss:// scheme asks for TLS: use redis://"},
		{"redis at TLS only", "redis://" + tlsOnly.Addr + "/0", true, "speaks TLS, but the URL's redis:// scheme is plain text: use rediss://"},
		{"rediss at TLS, certificate not trusted", tlsOnly.URL(), false, "certificate signed by unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cfg := DefaultConfig()
			cfg.RedisURL = tt.url
			st, err := OpenStore(ctx, cfg)
			if err == nil {
				st.Close()
				t.Fatal("the store opened")
			}
			if errors.Is(err, store.ErrSchemeMismatch) != tt.mismatch || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("open: %v; want mismatch %v saying %q", err, tt.mismatch, tt.want)
			}
			// /readyz of a gateway whose Redis is (now) such a server.
			r, err := store.OpenRedis(cfg.RedisOptions(), "t:")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			base := startServer(t, r, fakeUpstream{})
			// Asked again until it names the cause, as a probe is: each
			// look at the store has 2 s (readyTimeout), which a loaded
			// machine can spend on the PING and the diagnosis after it, and
			// /readyz then says only that the store did not answer in time:
			// the test failed so once in two runs of go test ./... on the
			// shared machine. Never ready meanwhile.
			waitFor(t, "/readyz naming the cause", func() bool {
				code, body := get(t, base+"/readyz")
				if code != 503 {
					t.Fatalf("/readyz = %d %s; want 503 saying %q", code, body, tt.want)
				}
				if !strings.Contains(body, tt.want) {
					t.Logf("/readyz = %d %s; asking again", code, body)
					return false
				}
				return true
			})
		})
	}
	// A Cluster whose seed speaks plain text, named with TLS: the seed is
	// looked at.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := DefaultConfig()
	cfg.RedisURL, cfg.RedisClusterAddrs = "rediss:///0", plain.Addr
	if st, err := OpenStore(ctx, cfg); err == nil || !errors.Is(err, store.ErrSchemeMismatch) {
		if st != nil {
			st.Close()
		}
		t.Errorf("cluster with rediss:// at a plain-text seed: %v, want the mismatch named", err)
	}
	// The control: plain text to the plain-text server is fine.
	r, err := store.OpenRedis(store.RedisOptions{URL: plain.URL()}, "t:")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Ping(context.Background()); err != nil {
		t.Fatalf("plain ping: %v", err)
	}
}
