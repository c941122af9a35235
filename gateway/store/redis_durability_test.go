package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestCheckDurability reads a real Redis's eviction and persistence
// settings as CONFIG SET leaves them and checks what porxgate makes of
// them: any eviction policy under a memory limit is refused, and missing
// or relaxed persistence is warned of.
func TestCheckDurability(t *testing.T) {
	srv := redistest.Start(t)
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer admin.Close()
	r := openRedis(t, srv, "")
	tests := []struct {
		name       string
		config     []string // name, value pairs for CONFIG SET, in order
		wantEvicts bool
		wantWarn   string // "" none
	}{
		{"the test default: no limit, no AOF", []string{"maxmemory", "0", "maxmemory-policy", "noeviction", "appendonly", "no"}, false, "appendonly no"},
		{"as deploy.md asks", []string{"appendonly", "yes", "appendfsync", "always", "maxmemory", "64mb", "maxmemory-policy", "noeviction"}, false, ""},
		{"fsync every second", []string{"appendfsync", "everysec"}, false, "appendfsync everysec"},
		{"allkeys-lru under a limit", []string{"appendfsync", "always", "maxmemory-policy", "allkeys-lru"}, true, ""},
		{"volatile-ttl under a limit", []string{"maxmemory-policy", "volatile-ttl"}, true, ""},
		{"an eviction policy without a limit never evicts", []string{"maxmemory", "0"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i := 0; i+1 < len(tt.config); i += 2 {
				if err := admin.ConfigSet(ctx, tt.config[i], tt.config[i+1]).Err(); err != nil {
					t.Fatalf("CONFIG SET %s %s: %v", tt.config[i], tt.config[i+1], err)
				}
			}
			ds, err := r.CheckDurability(ctx)
			if err != nil || len(ds) != 1 {
				t.Fatalf("CheckDurability = %+v, %v", ds, err)
			}
			d := ds[0]
			if d.Evicts() != tt.wantEvicts {
				t.Errorf("%+v: Evicts %v, want %v", d, d.Evicts(), tt.wantEvicts)
			}
			if tt.wantEvicts && !strings.Contains(d.EvictionError().Error(), "maxmemory-policy noeviction") {
				t.Errorf("eviction error does not say what to set: %v", d.EvictionError())
			}
			warns := strings.Join(d.Warnings(), "; ")
			if (tt.wantWarn == "") != (warns == "") || !strings.Contains(warns, tt.wantWarn) {
				t.Errorf("%+v: warnings %q, want %q", d, warns, tt.wantWarn)
			}
		})
	}
}

// TestCheckDurabilityWithoutConfig: a Redis that refuses CONFIG (as
// managed services do) with the append-only file on cannot say its
// appendfsync; a crash of its host may lose the last acknowledged
// messages unless it is always. That was warned of by no one: the start
// said nothing, where deploy.md promises a warning for any appendfsync
// but always.
func TestCheckDurabilityWithoutConfig(t *testing.T) {
	srv := redistest.StartArgs(t, "--appendonly", "yes", "--appendfsync", "everysec", "--rename-command", "CONFIG", `""`)
	r := openRedis(t, srv, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.client.ConfigGet(ctx, "appendfsync").Err(); err == nil {
		t.Fatal("CONFIG answers: the test does not test a Redis that refuses it")
	}
	ds, err := r.CheckDurability(ctx)
	if err != nil || len(ds) != 1 {
		t.Fatalf("CheckDurability = %+v, %v", ds, err)
	}
	if !ds[0].AOF {
		t.Fatalf("%+v: the append-only file not seen", ds[0])
	}
	if warns := strings.Join(ds[0].Warnings(), "; "); !strings.Contains(warns, "appendfsync always") {
		t.Errorf("%+v: warnings %q; want one that asks to make sure of appendfsync always", ds[0], warns)
	}
}

// TestInfoFields splits INFO answers as Redis writes them (CRLF, section
// headers) and as a proxy might pass them on (LF, values with colons).
func TestInfoFields(t *testing.T) {
	tests := []struct {
		name string
		info string
		want map[string]string
	}{
		{"CRLF with a section header", "# Memory\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n", map[string]string{"maxmemory": "0", "maxmemory_policy": "noeviction"}},
		{"LF, a value with a colon", "aof_enabled:1\nexecutable:/usr/bin/redis:x\n", map[string]string{"aof_enabled": "1", "executable": "/usr/bin/redis:x"}},
		{"empty", "", map[string]string{}},
		{"a line without a colon is passed over", "garbage\nmaxmemory:5\n", map[string]string{"maxmemory": "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := infoFields(tt.info)
			if len(got) != len(tt.want) {
				t.Fatalf("fields %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestClockSkew reads a real Redis's clock, on this machine's: the skew is
// within a round trip of zero, and a paused Redis (a round trip of about a
// second) does not make it seem so far off.
func TestClockSkew(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	skew, err := r.ClockSkew(ctx)
	if err != nil || skew.Abs() > 100*time.Millisecond {
		t.Fatalf("skew against a Redis on this machine = %v, %v", skew, err)
	}
	srv.Pause(t)
	go func() { time.Sleep(time.Second); srv.Resume() }()
	skew, err = r.ClockSkew(ctx)
	if err != nil || skew.Abs() > 750*time.Millisecond {
		t.Fatalf("skew across a slow round trip = %v, %v; want about half the round trip at most", skew, err)
	}
}

// TestCheckDurabilityCluster reads every master of a real Cluster, and an
// evicting master among well-set ones is found.
func TestCheckDurabilityCluster(t *testing.T) {
	cluster := redistest.StartCluster(t)
	rc, err := OpenRedis(RedisOptions{ClusterAddrs: cluster.Addrs()}, "test:")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	last := redis.NewClient(&redis.Options{Addr: cluster.Nodes[2].Addr})
	defer last.Close()
	for _, kv := range [][2]string{{"maxmemory", "64mb"}, {"maxmemory-policy", "allkeys-lfu"}} {
		if err := last.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := rc.CheckDurability(ctx)
	if err != nil || len(ds) != 3 {
		t.Fatalf("CheckDurability = %+v, %v; want the three masters", ds, err)
	}
	var evicting []string
	for _, d := range ds {
		if d.Node == "" {
			t.Errorf("%+v: a Cluster master's settings without its address", d)
		}
		if d.Evicts() {
			evicting = append(evicting, d.Node)
		}
	}
	if len(evicting) != 1 || evicting[0] != cluster.Nodes[2].Addr {
		t.Errorf("evicting masters %v, want only %s", evicting, cluster.Nodes[2].Addr)
	}
}

// TestCheckDurabilitySentinel: on a Sentinel group the replicas are read
// too, since the sentinels promote one of them when the master fails:
// a replica kept without persistence, or one that evicts keys once it is
// master (replicas ignore maxmemory until then), lost acknowledged
// messages after a failover while the start had found nothing to warn
// of. Only the master was read.
func TestCheckDurabilitySentinel(t *testing.T) {
	g := redistest.StartSentinel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	configure := func(s *redistest.Server, pairs ...string) {
		t.Helper()
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		defer c.Close()
		for i := 0; i+1 < len(pairs); i += 2 {
			if err := c.ConfigSet(ctx, pairs[i], pairs[i+1]).Err(); err != nil {
				t.Fatalf("CONFIG SET %s %s on %s: %v", pairs[i], pairs[i+1], s.Addr, err)
			}
		}
	}
	// The master as deploy.md asks; one replica persists too, the other
	// does not and evicts.
	configure(g.Master, "appendonly", "yes", "appendfsync", "always")
	configure(g.Replicas[0], "appendonly", "yes", "appendfsync", "always")
	configure(g.Replicas[1], "maxmemory", "64mb", "maxmemory-policy", "allkeys-lru")
	r, err := OpenRedis(RedisOptions{SentinelAddrs: g.SentinelAddrs(), MasterName: redistest.MasterName}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ds, err := r.CheckDurability(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Durability{}
	for _, d := range ds {
		got[d.Node] = d
	}
	if len(ds) != 3 || len(got) != 3 {
		t.Fatalf("settings of %d servers (%+v); want the master's and both replicas'", len(ds), ds)
	}
	if d := got[""]; d.Evicts() || len(d.Warnings()) != 0 {
		t.Errorf("master %+v: evicts %v, warnings %q; want neither", d, d.Evicts(), d.Warnings())
	}
	if d := got["replica "+g.Replicas[0].Addr]; d.Evicts() || len(d.Warnings()) != 0 {
		t.Errorf("persisting replica %+v: evicts %v, warnings %q; want neither", d, d.Evicts(), d.Warnings())
	}
	bad := got["replica "+g.Replicas[1].Addr]
	if !bad.Evicts() || !strings.Contains(bad.EvictionError().Error(), "replica "+g.Replicas[1].Addr) {
		t.Errorf("evicting replica %+v: evicts %v (%v); want refused, named", bad, bad.Evicts(), bad.EvictionError())
	}
	if w := strings.Join(bad.Warnings(), "; "); !strings.Contains(w, "appendonly no") || !strings.Contains(w, "replica "+g.Replicas[1].Addr) {
		t.Errorf("replica without persistence: warnings %q; want appendonly no, named", w)
	}
	// A replica that does not answer holds the check about
	// replicaReadTimeout, not the client's read timeout (3 s) or the
	// caller's whole time.
	g.Replicas[0].Pause(t)
	start := time.Now()
	ds, err = r.CheckDurability(ctx)
	if took := time.Since(start); err != nil || took > 3*replicaReadTimeout {
		t.Errorf("with a replica hung: %+v, %v after %s; want an answer within about %s", ds, err, took.Round(time.Millisecond), replicaReadTimeout)
	}
	g.Replicas[0].Resume()
	// A replica that cannot be read does not hide the others' settings:
	// it is warned of, as unknown.
	unread := Durability{Node: "replica 10.0.0.9:6379", Unread: errors.New("NOAUTH")}
	if w := strings.Join(unread.Warnings(), "; "); unread.Evicts() || !strings.Contains(w, "replica 10.0.0.9:6379") || !strings.Contains(w, "by hand") {
		t.Errorf("unread replica: evicts %v, warnings %q; want a warning to check it by hand", unread.Evicts(), w)
	}
}

// openRedis opens the store on srv with prefix, closed when the test ends.
func openRedis(t *testing.T, srv *redistest.Server, prefix string) *Redis {
	t.Helper()
	r, err := NewRedis(srv.URL(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}
