package redistest

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of three masters on loopback (no replicas: the
// tests check that multi-key scripts stay on one slot, not failover).
type Cluster struct {
	// Nodes are the masters.
	Nodes []*Server
	// TLSAddrs are the masters' TLS ports (StartClusterTLSAnnouncingPlain),
	// in the order of Nodes; nil for a plain-text Cluster.
	TLSAddrs []string
}

// StartCluster starts three cluster-enabled redis-servers, joins them with
// redis-cli --cluster create and waits until every node reports the
// cluster ok. Everything stops when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, false)
}

// StartClusterTLSAnnouncingPlain is StartCluster with nodes that listen
// on a TLS port (TLSAddrs, with a certificate for 127.0.0.1 from a CA of
// the test's own) beside the plain-text one, but speak plain text to each
// other (tls-cluster no), so that the Cluster names its nodes by their
// plain-text ports, to a client on a TLS port too (CLUSTER SLOTS): a
// client seeded at the TLS ports is told of nodes that speak plain text.
func StartClusterTLSAnnouncingPlain(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, true)
}

// startCluster starts the Cluster, its nodes with a TLS port each too
// when withTLS is set.
func startCluster(t testing.TB, withTLS bool) *Cluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli not found on PATH: install it (Debian: apt-get install -y redis-tools); the Cluster test needs it")
	}
	var tlsArgs []string
	if withTLS {
		tlsArgs = append(newTLSFiles(t).args, "--tls-cluster", "no", "--tls-replication", "no")
	}
	c := &Cluster{}
	for range 3 {
		// The cluster bus port is chosen free too: by default it is the
		// client port + 10000, which another process (a test's connection
		// from the ephemeral range) may hold, and the node then exits. It
		// may be taken before the node binds it, as the client port may
		// (and the TLS port): then they are all chosen again.
		for try := 1; ; try++ {
			dir := t.TempDir()
			bus, err := freePort()
			if err != nil {
				t.Fatalf("finding a free port for the cluster bus: %v", err)
			}
			args := []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "2000"}
			tlsAddr := ""
			if withTLS {
				tlsPort, err := freePort()
				if err != nil {
					t.Fatalf("finding a free port for TLS: %v", err)
				}
				tlsAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(tlsPort))
				args = append(append(args, "--tls-port", strconv.Itoa(tlsPort)), tlsArgs...)
			}
			n, err := tryStart(t, "redis-server", nil, args...)
			if err == nil {
				c.Nodes = append(c.Nodes, n)
				if withTLS {
					c.TLSAddrs = append(c.TLSAddrs, tlsAddr)
				}
				break
			}
			if !errors.Is(err, ErrPortTaken) || try == portTries {
				t.Fatal(err)
			}
			t.Logf("redistest: %v; trying other ports", err)
		}
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		waitFor(t, 20*time.Second, "cluster ok on "+n.Addr, func(ctx context.Context) bool {
			cl := n.client()
			defer cl.Close()
			info, err := cl.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
	}
	return c
}

// Addrs returns the nodes' host:port.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}
