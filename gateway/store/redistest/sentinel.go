package redistest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MasterName is the name the test sentinels know the master by.
const MasterName = "porxgate"

// Sentinel is a Redis Sentinel group on loopback: a master, two replicas
// (so that after a failover the new master still has one) and three
// sentinels with quorum 2 that declare the master down after one second.
type Sentinel struct {
	// Master is the server that was master when the group started.
	Master *Server
	// Replicas replicate Master.
	Replicas []*Server
	// Sentinels watch Master under MasterName.
	Sentinels []*Server
}

// StartSentinel starts the group and waits until the replicas are in sync
// and every sentinel knows the replicas. Everything stops when the test ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	master, replicas := StartReplicated(t, 2)
	g := &Sentinel{Master: master, Replicas: replicas}
	host, port := splitAddr(g.Master.Addr)
	for i := range 3 {
		conf := filepath.Join(t.TempDir(), fmt.Sprintf("sentinel%d.conf", i))
		body := fmt.Sprintf("sentinel monitor %s %s %s 2\n"+
			"sentinel down-after-milliseconds %[1]s 1000\n"+
			"sentinel failover-timeout %[1]s 10000\n"+
			"sentinel parallel-syncs %[1]s 2\n", MasterName, host, port)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatalf("writing sentinel config: %v", err)
		}
		g.Sentinels = append(g.Sentinels, start(t, "redis-sentinel", conf, "--dir", filepath.Dir(conf)))
	}
	for _, s := range g.Sentinels {
		waitFor(t, 15*time.Second, "sentinel "+s.Addr+" sees both replicas and the other sentinels", func(ctx context.Context) bool {
			c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
			defer c.Close()
			m, err := c.Master(ctx, MasterName).Result()
			return err == nil && m["num-slaves"] == "2" && m["num-other-sentinels"] == "2"
		})
	}
	return g
}

// StartTLSSentinel starts a Sentinel group that speaks only TLS: a master
// and one sentinel (quorum 1) that speaks TLS to it too, each with a
// certificate for 127.0.0.1 alone (no host name) from a CA of the test's
// own, as a deployment's certificates name its own hosts. caFile is that
// CA written out, for a client that is to trust it (SSL_CERT_FILE).
// Everything stops when the test ends.
func StartTLSSentinel(t testing.TB) (g *Sentinel, caFile string) {
	t.Helper()
	return startTLSSentinel(t, true)
}

// StartTLSSentinelPlainMaster is StartTLSSentinel with a master that
// speaks only plain text: the sentinel speaks TLS to its clients and
// plain text to the master, so a client that speaks TLS to the whole
// group (rediss-sentinel://) is told the master by the sentinel and
// cannot speak to it.
func StartTLSSentinelPlainMaster(t testing.TB) (g *Sentinel, caFile string) {
	t.Helper()
	return startTLSSentinel(t, false)
}

// startTLSSentinel starts a TLS sentinel and its master, which speaks
// TLS when tlsMaster is set, else plain text.
func startTLSSentinel(t testing.TB, tlsMaster bool) (g *Sentinel, caFile string) {
	t.Helper()
	p := newTLSFiles(t)
	args := []string{"--tls-replication", "yes"}
	if tlsMaster {
		g = &Sentinel{Master: startWith(t, "redis-server", p.client, p.args...)}
	} else {
		g = &Sentinel{Master: start(t, "redis-server")}
		args = []string{"--tls-replication", "no"}
	}
	host, port := splitAddr(g.Master.Addr)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	body := fmt.Sprintf("sentinel monitor %s %s %s 1\n", MasterName, host, port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatalf("writing sentinel config: %v", err)
	}
	args = append(append([]string{conf, "--dir", filepath.Dir(conf)}, args...), p.args...)
	s := startWith(t, "redis-sentinel", p.client, args...)
	g.Sentinels = append(g.Sentinels, s)
	waitFor(t, 15*time.Second, "sentinel "+s.Addr+" sees the master", func(ctx context.Context) bool {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, TLSConfig: p.client})
		defer c.Close()
		m, err := c.Master(ctx, MasterName).Result()
		return err == nil && m["flags"] == "master"
	})
	return g, p.caFile
}

// nodelay starts a replica's full sync at once.
var nodelay = []string{"--repl-diskless-sync-delay", "0"}

// ReplicaWait is the WaitTimeout (store.RedisOptions) of a test's store
// whose writes wait for the replicas StartReplicated started: long
// enough for a replica starved of CPU on a loaded machine to confirm a
// write, and two seconds under go-redis's 5s read timeout, which the
// script and its WAIT are read under (store.RedisOptions.Validate wants
// one). A wait as long as the read timeout failed as a lost reply, not
// ErrNotReplicated, when the replica was slow.
const ReplicaWait = 3 * time.Second

// StartReplicated starts a master and n replicas of it, with no
// sentinels, and waits until the replicas are in sync. Everything stops
// when the test ends.
func StartReplicated(t testing.TB, n int) (master *Server, replicas []*Server) {
	t.Helper()
	// A replica's full sync starts at once rather than after diskless
	// sync's default delay of 5s; the replicas too, for when one is
	// promoted and the others sync with it.
	master = start(t, "redis-server", nodelay...)
	host, port := splitAddr(master.Addr)
	for range n {
		replicas = append(replicas, start(t, "redis-server", append([]string{"--replicaof", host, port}, nodelay...)...))
	}
	for _, r := range replicas {
		waitFor(t, 10*time.Second, "replica "+r.Addr+" in sync", func(ctx context.Context) bool {
			c := r.client()
			defer c.Close()
			info, err := c.Info(ctx, "replication").Result()
			return err == nil && strings.Contains(info, "master_link_status:up")
		})
	}
	// The master counts a replica (for WAIT) once it is online there.
	waitFor(t, 10*time.Second, "master "+master.Addr+" sees its replicas online", func(ctx context.Context) bool {
		c := master.client()
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Count(info, "state=online") == n
	})
	return master, replicas
}

// SentinelAddrs returns the sentinels' host:port.
func (g *Sentinel) SentinelAddrs() []string {
	out := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		out[i] = s.Addr
	}
	return out
}

// MasterAddr asks the first sentinel that answers for the current master.
func (g *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var last error
	for _, s := range g.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
		addr, err := c.GetMasterAddrByName(ctx, MasterName).Result()
		c.Close()
		if err == nil && len(addr) == 2 {
			return addr[0] + ":" + addr[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names the master: %w", last)
}

// WaitFailover waits until the sentinels name a master other than old, and
// returns it.
func (g *Sentinel) WaitFailover(t testing.TB, old string, limit time.Duration) string {
	t.Helper()
	var now string
	waitFor(t, limit, "failover away from "+old, func(ctx context.Context) bool {
		addr, err := g.MasterAddr(ctx)
		now = addr
		return err == nil && addr != old
	})
	return now
}

func (s *Server) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
}

func splitAddr(addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}

// waitFor polls ok until it reports true or limit passes, then fails t.
func waitFor(t testing.TB, limit time.Duration, what string, ok func(context.Context) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		done := ok(ctx)
		cancel()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Rejoin restarts a killed former master as a replica of master, as a
// supervisor restarting it (and the sentinels reconfiguring it) would, and
// waits until it is in sync.
func (g *Sentinel) Rejoin(t testing.TB, s *Server, master string) {
	t.Helper()
	s.Restart(t)
	host, port := splitAddr(master)
	c := s.client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.SlaveOf(ctx, host, port).Err(); err != nil {
		t.Fatalf("REPLICAOF %s on %s: %v", master, s.Addr, err)
	}
	waitFor(t, 15*time.Second, s.Addr+" in sync with "+master, func(ctx context.Context) bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
}
