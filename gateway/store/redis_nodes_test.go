package store

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/testnet"
)

// TestDurabilityClientsTakeTheURLsOptions: the clients CheckDurability
// opens beside the store's own, of a Sentinel group's replicas and
// sentinels, take every option the URL sets, as the store's own client
// does (TestEveryKindTakesTheURLsOptions), but the pool of a client that
// sends one command at a time (pool_size, min_idle_conns) and, for the
// sentinels, the credentials go-redis gives its own connections to them.
// Before, they took the credentials and TLS alone: a parameter go-redis
// reads that they drop fails here by name.
func TestDurabilityClientsTakeTheURLsOptions(t *testing.T) {
	want, err := parseRedisURL("rediss://app:pw@h:6379/0?" + everyURLParameter)
	if err != nil {
		t.Fatal(err)
	}
	r := openSentinelURL(t, "rediss-sentinel://app:pw@s1:26379,s2:26379/m/0?sentinel_password=x&"+everyURLParameter)
	onePool := []string{"PoolSize", "MinIdleConns"}
	replica := nodeOptions(r.base, "10.0.0.7:6379")
	if checked := checkURLOptions(t, want, reflect.ValueOf(replica).Elem(), onePool...); checked < 18 {
		t.Fatalf("only %d options compared: the URL above no longer sets each parameter", checked)
	}
	sentinel := r.sentinelOptions("s2:26379")
	checkURLOptions(t, want, reflect.ValueOf(sentinel).Elem(), append(onePool, "Username", "Password")...)
	for name, got := range map[string]*redis.Options{"replica": replica, "sentinel": sentinel} {
		if got.PoolSize != 1 || got.MinIdleConns != 0 || got.DialerRetries != 1 {
			t.Errorf("%s: pool %d, idle %d, dials %d; want one connection, none ahead, one dial", name, got.PoolSize, got.MinIdleConns, got.DialerRetries)
		}
		if got.TLSConfig == r.base.TLSConfig || got.TLSConfig.ServerName != "" {
			t.Errorf("%s: TLS %p (the URL's %p), server name %q; want a copy checking the address dialled", name, got.TLSConfig, r.base.TLSConfig, got.TLSConfig.ServerName)
		}
	}
	if replica.Addr != "10.0.0.7:6379" || replica.Username != "app" || replica.Password != "pw" {
		t.Errorf("replica %s as %q/%q; want 10.0.0.7:6379 as the master's user app/pw", replica.Addr, replica.Username, replica.Password)
	}
	if sentinel.Addr != "s2:26379" || sentinel.Username != "" || sentinel.Password != "x" || sentinel.DB != 0 {
		t.Errorf("sentinel %s as %q/%q, database %d; want s2:26379 with the sentinels' password x, database 0", sentinel.Addr, sentinel.Username, sentinel.Password, sentinel.DB)
	}
}

// TestDurabilityCheckSpeaksAsTheURLSays: the connections CheckDurability
// opens to a real Sentinel group's sentinels and replicas carry the
// client_name and protocol its redis-sentinel:// URL sets, as the
// servers see them. The first sentinel refuses SENTINEL REPLICAS and the
// replicas CONFIG GET (ACL), so each logs the connection that asked
// (ACL LOG, with what CLIENT LIST shows of it: its name and RESP
// version): before, they were unnamed and spoke RESP3.
func TestDurabilityCheckSpeaksAsTheURLSays(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Sentinel group")
	}
	g := redistest.StartSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := func(s *redistest.Server) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	refuse := map[*redistest.Server]string{g.Sentinels[0]: "sentinel|replicas", g.Replicas[0]: "config|get", g.Replicas[1]: "config|get"}
	for s, cmd := range refuse {
		if err := admin(s).Do(ctx, "ACL", "SETUSER", "default", "-"+cmd).Err(); err != nil {
			t.Fatalf("ACL SETUSER default -%s on %s: %v", cmd, s.Addr, err)
		}
	}
	const name = "porxgate-durability"
	r := openSentinelURL(t, "redis-sentinel://"+strings.Join(g.SentinelAddrs(), ",")+"/"+redistest.MasterName+"/0?client_name="+name+"&protocol=2")
	ds, err := r.CheckDurability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, d := range ds {
		if strings.HasPrefix(d.Node, "replica ") && d.Unread == nil && d.AppendFsync == "" {
			read++ // read, but for the appendfsync CONFIG GET was refused
		}
	}
	if read != 2 {
		t.Fatalf("%d replicas read without their appendfsync (%+v); want both", read, ds)
	}
	for s, cmd := range refuse {
		entries, err := admin(s).ACLLog(ctx, 0).Result()
		if err != nil {
			t.Fatalf("ACL LOG on %s: %v", s.Addr, err)
		}
		n := 0
		for _, e := range entries {
			if e.Object != cmd {
				continue
			}
			n++
			if c := e.ClientInfo; c == nil || c.Name != name || c.Resp != 2 {
				t.Errorf("%s: %s asked by %+v; want a client named %q speaking RESP2, as the URL says", s.Addr, cmd, c, name)
			}
		}
		if n == 0 {
			t.Errorf("%s logged no refused %s (%+v): the check did not ask it", s.Addr, cmd, entries)
		}
	}
}

// TestReplicaCheckTakesTheURLsDialTimeout: a replica the sentinels name
// but the gateway cannot reach (its dial never answered) is read with the
// URL's dial_timeout, and the dial's time-out is what the check reports
// of it; with none in the URL (go-redis's 5s), the check's own bound
// (replicaReadTimeout) ends the look, and says so. Before, the URL's
// dial_timeout did not reach the check's clients.
func TestReplicaCheckTakesTheURLsDialTimeout(t *testing.T) {
	silent := testnet.SilentAddr(t)
	for _, tc := range []struct {
		name, query string
		bound       bool // the check's bound, not the dial's timeout, ended it
	}{
		{"dial_timeout=50ms", "dial_timeout=50ms&max_retries=-1", false},
		{"go-redis's dial timeout", "max_retries=-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := openSentinelURL(t, "redis-sentinel://"+testnet.RefusingAddr(t)+"/"+redistest.MasterName+"/0?"+tc.query)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			d := r.readReplica(ctx, silent)
			if d.Node != "replica "+silent || d.Unread == nil {
				t.Fatalf("%+v; want the replica %s unread", d, silent)
			}
			var op *net.OpError
			dial := errors.As(d.Unread, &op) && op.Op == "dial" && op.Timeout()
			bound := strings.Contains(d.Unread.Error(), "no answer within "+replicaReadTimeout.String())
			if bound != tc.bound || !tc.bound && !dial {
				t.Fatalf("unread: %v; want the check's bound named %v, else the dial's time-out", d.Unread, tc.bound)
			}
		})
	}
}

// openSentinelURL opens the store on the Sentinel group the
// redis-sentinel:// URL raw names, closed when the test ends.
func openSentinelURL(t *testing.T, raw string) *Redis {
	t.Helper()
	o, err := ParseSentinelURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRedis(o, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}
