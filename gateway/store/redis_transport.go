package store

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrSchemeMismatch says the Redis server speaks the other transport than
// the URL's scheme asks for: plain text where rediss:// asks for TLS, or
// TLS where redis:// is plain text. The client alone only sees a TLS
// handshake that never ends (a plain-text server waits for a command) or
// a connection closed at once.
var ErrSchemeMismatch = errors.New("redis URL scheme does not match the server")

// Bounds of the look (probeTransport) at what a server that does not
// answer a PING speaks.
const (
	// schemeProbeAfter is how long a PING goes unanswered before the look
	// is made beside it.
	schemeProbeAfter = time.Second
	// schemeProbeTimeout bounds the look itself.
	schemeProbeTimeout = time.Second
)

// pingDiagnosed pings the server; when no answer comes within
// schemeProbeAfter, or the PING fails without the server having answered
// it, a look at what the servers the client reaches first speak
// (lookTransport: the one server, a Cluster's seeds and the nodes they
// name, or a Sentinel group's sentinels and master) runs, and a scheme
// mismatch it finds is the error, at once, instead of the client's
// "context deadline exceeded" or "EOF". Until session 21 a Sentinel group
// was not looked at, and a Cluster at its first seed alone; until
// session 22 a Cluster's nodes beyond its seeds were not.
func (r *Redis) pingDiagnosed(ctx context.Context) error {
	pong := make(chan error, 1)
	go func() { pong <- r.client.Ping(ctx).Err() }()
	timer := time.NewTimer(schemeProbeAfter)
	defer timer.Stop()
	var probe chan error // the look under way; nil before it and once it has answered
	looked := false
	look := func() {
		probe = make(chan error, 1)
		go func() {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), schemeProbeTimeout)
			defer cancel()
			probe <- r.lookTransport(pctx)
		}()
	}
	for {
		select {
		case err := <-pong:
			var answered redis.Error // the server answered the PING (NOAUTH…): it speaks as the client does
			if err == nil || looked || errors.As(err, &answered) || errors.Is(err, context.Canceled) {
				return err
			}
			if probe == nil {
				look()
			}
			switch perr := <-probe; {
			case perr != nil && errors.Is(err, ErrSchemeMismatch):
				return perr // the client's own dial found it (tlsDialer): the look says it once, naming the server it looked at first
			case perr != nil:
				return fmt.Errorf("%w (the client saw: %w)", perr, err)
			}
			return err
		case <-timer.C:
			look()
		case perr := <-probe:
			if perr != nil {
				return fmt.Errorf("%w (the PING was not answered)", perr)
			}
			probe, looked = nil, true // nothing found: wait for the PING
		}
	}
}

// lookTransport looks (probeTransport) at what the servers the client
// speaks to first speak: each of r.looks at once (the one server, a
// Cluster's seeds, a Sentinel group's sentinels); for a Sentinel group
// whose sentinels speak as the client does, then at the master they name
// (asked as CheckDurability asks them, sentinelClient); for a Cluster
// whose seeds do, then at the nodes they name (lookClusterNodes). The
// first mismatch, in the order of r.looks, is the answer; nil when none
// is found within ctx.
func (r *Redis) lookTransport(ctx context.Context) error {
	names := schemeNames(r.sentinel != nil)
	errs := make([]error, len(r.looks))
	var wg sync.WaitGroup
	for i, addr := range r.looks {
		wg.Go(func() { errs[i] = probeTransport(ctx, addr, r.tls, names) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if r.nodes != nil {
		return r.lookClusterNodes(ctx, names)
	}
	if r.sentinel == nil {
		return nil
	}
	// go-redis's TLS dial is bounded by the dial timeout, not by ctx:
	// the master is waited for within ctx alone.
	found := make(chan string, 1)
	go func() { found <- r.masterAddr(ctx) }()
	select {
	case addr := <-found:
		if addr == "" {
			return nil
		}
		names.role = "master"
		return probeTransport(ctx, addr, r.tls, names)
	case <-ctx.Done():
		return nil
	}
}

// lookClusterNodes looks (probeTransport) at the nodes the Cluster's
// client has come to know beyond its seeds (r.nodes): those the seeds
// name in their slot map (CLUSTER SLOTS), to which the client sends its
// commands. The first mismatch, in address order, is the answer, saying
// why a Cluster whose seeds speak as the client does names such nodes;
// nil when none is found within ctx. Until session 22 only the seeds
// were looked at: a rediss:// client seeded at the TLS ports of a
// Cluster that names its nodes by their plain-text ports (tls-cluster
// no) waited out every command on a TLS handshake never answered, and
// Ping said only that.
func (r *Redis) lookClusterNodes(ctx context.Context, names transportNames) error {
	var nodes []string
	for _, a := range r.nodes.list() {
		if !slices.Contains(r.looks, a) {
			nodes = append(nodes, a)
		}
	}
	names.role = "Cluster node"
	names.fix = "the seeds speak plain text, but the Cluster names this node by a port that speaks TLS: use " + names.tls + " if every node speaks TLS"
	if r.tls {
		names.fix = "the seeds speak TLS, but the Cluster names its nodes by their plain-text ports, as it does to a TLS client " +
			"when its nodes do not speak TLS to each other: set tls-cluster yes on every node (or use " + names.plain + ")"
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, addr := range nodes {
		wg.Go(func() { errs[i] = probeTransport(ctx, addr, r.tls, names) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// clusterNodes are the addresses of the nodes a Cluster's client has
// made a client for, as the client names them (ClusterOptions.NewClient
// records each): its seeds, and the nodes they name in their slot map
// once it is loaded, after go-redis's own rewriting of their addresses.
type clusterNodes struct {
	mu    sync.Mutex
	addrs []string
}

// newClient records the node's address and makes its client, as go-redis
// does by default.
func (n *clusterNodes) newClient(o *redis.Options) *redis.Client {
	n.mu.Lock()
	if !slices.Contains(n.addrs, o.Addr) {
		n.addrs = append(n.addrs, o.Addr)
	}
	n.mu.Unlock()
	return redis.NewClient(o)
}

// list returns the addresses recorded, sorted.
func (n *clusterNodes) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Sorted(slices.Values(n.addrs))
}

// masterAddr asks the group's sentinels for its master, the first that
// answers; "" when none does.
func (r *Redis) masterAddr(ctx context.Context) string {
	for _, a := range r.sentinel.SentinelAddrs {
		sc := r.sentinelClient(a)
		hp, err := sc.GetMasterAddrByName(ctx, r.sentinel.MasterName).Result()
		_ = sc.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1])
		}
	}
	return ""
}

// schemeNames are what probeTransport's messages call the URL's schemes
// and the servers first looked at: one server's or a Cluster's
// (rediss://, redis://), or a Sentinel group's (its sentinels).
func schemeNames(sentinel bool) transportNames {
	if sentinel {
		return transportNames{tls: "rediss-sentinel:// (or rediss:// beside sentinel addresses)",
			plain: "redis-sentinel:// (or redis://)", role: "sentinel"}
	}
	return transportNames{tls: "rediss://", plain: "redis://", role: "server"}
}

// transportNames are what probeTransport's message calls the URL's
// schemes for TLS and plain text, and the server it looked at; fix, when
// set, is what the message says to do instead of the scheme to use.
type transportNames struct {
	tls, plain, role, fix string
}

// probeTransport looks at what the server at addr speaks, when the client
// was set to speak TLS (wantTLS) or plain text. It returns an error
// wrapping ErrSchemeMismatch, naming the likely cause, when the server
// plainly speaks the other; nil when it does not (it speaks as the client
// does, or cannot be told: it is down, or answers neither).
//
// For rediss:// it sends a plain-text PING: a plain-text Redis answers it
// (+PONG, or -NOAUTH…). For redis:// it starts a TLS handshake, trusting
// any certificate and sending nothing else: a TLS server answers it, or
// refuses it with a TLS alert. names say what the message calls the
// server and the URL's schemes.
func probeTransport(ctx context.Context, addr string, wantTLS bool, names transportNames) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if wantTLS {
		if _, err := conn.Write([]byte("PING\r\n")); err != nil {
			return nil
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || len(line) < 3 || (line[0] != '+' && line[0] != '-') {
			return nil
		}
		fix := names.fix
		if fix == "" {
			fix = "use " + names.plain + ", or enable TLS on the " + names.role + " (tls-port)"
		}
		return fmt.Errorf("%w: the %s at %s speaks plain text (it answered a plain-text PING), but the URL's %s scheme asks for TLS: %s",
			ErrSchemeMismatch, names.role, addr, names.tls, fix)
	}
	host, _, _ := net.SplitHostPort(addr)
	// Only a look at whether the server speaks TLS: nothing is sent over
	// the connection, whose certificate is therefore not checked.
	tc := tls.Client(conn, &tls.Config{ServerName: host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // see above
	err = tc.HandshakeContext(ctx)
	var alert tls.AlertError
	if err != nil && !errors.As(err, &alert) {
		return nil
	}
	fix := names.fix
	if fix == "" {
		fix = "use " + names.tls
	}
	return fmt.Errorf("%w: the %s at %s speaks TLS, but the URL's %s scheme is plain text: %s", ErrSchemeMismatch, names.role, addr, names.plain, fix)
}
