package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions name the Redis to keep state in: one server by URL, a
// Sentinel group, or a Cluster.
type RedisOptions struct {
	// URL is a redis:// or rediss:// URL. Alone it names one server; with
	// SentinelAddrs or ClusterAddrs its host is not used and may be left
	// out ("redis://:pw@/0"), and the rest applies as to one server: user,
	// password, database, TLS (rediss) and every parameter go-redis reads
	// from a URL (read_timeout, write_timeout, dial_timeout, max_retries,
	// pool_size, ...). A Cluster has database 0 only: another is refused.
	URL string
	// SentinelAddrs are the host:port of the sentinels watching MasterName.
	// The client asks them for the master and follows failovers.
	SentinelAddrs []string
	// MasterName is the name the sentinels know the master by.
	MasterName string
	// SentinelPassword authenticates to the sentinels when they require it.
	SentinelPassword string
	// ClusterAddrs are host:port of some Cluster nodes (seeds). All the
	// gateway's keys carry one hash tag (see ClusterPrefix), so its data
	// lives on one slot: the Cluster gives failover, not sharding.
	ClusterAddrs []string
	// WaitReplicas, when positive, makes every script wait (Redis WAIT on
	// the same connection) until that many replicas have the write, for at
	// most WaitTimeout; fewer is an error, so nothing is acknowledged or
	// acted on that a failover could lose. The queue writes, the records
	// of EPS's answers, the SOAP answers kept and the named sets are
	// scripts (see the package doc for the few writes that are not). Not
	// with ClusterAddrs.
	WaitReplicas int
	// WaitTimeout bounds the wait for replicas (default 1s). With
	// WaitReplicas it must be a second or more under the client's read
	// timeout (the URL's read_timeout, else go-redis's 5s): Validate
	// refuses it otherwise (waitReplyMargin).
	WaitTimeout time.Duration
}

// defaultWaitTimeout is the wait for replicas when WaitTimeout is not set.
const defaultWaitTimeout = time.Second

// waitReplyMargin is how much of the client's read timeout a wait for
// replicas must leave for the script before the WAIT and the reply after
// it. The script and its WAIT go in one pipeline, read under the read
// timeout: a WAIT that outlives it does not fail as ErrNotReplicated but
// as a client i/o timeout, a lost reply, its connection dropped.
const waitReplyMargin = time.Second

// defaultReadTimeout is go-redis's read timeout when the URL sets no
// read_timeout.
const defaultReadTimeout = 5 * time.Second

// waitTimeout returns WaitTimeout, or defaultWaitTimeout when unset.
func (o RedisOptions) waitTimeout() time.Duration {
	if o.WaitTimeout <= 0 {
		return defaultWaitTimeout
	}
	return o.WaitTimeout
}

// readTimeout returns the read timeout the URL's options give the client
// (of one server, a Sentinel group or a Cluster alike: failoverOptions,
// clusterOptions), go-redis's default when it sets none (or sets 0); 0
// when it disables the timeout (read_timeout=-1 or -2).
func readTimeout(opts *redis.Options) time.Duration {
	switch {
	case opts.ReadTimeout == 0:
		return defaultReadTimeout
	case opts.ReadTimeout < 0:
		return 0
	}
	return opts.ReadTimeout
}

// ErrNotReplicated is returned when a write reached the master but not
// WaitReplicas replicas within WaitTimeout. The write may still survive;
// the caller must not acknowledge it as durable.
var ErrNotReplicated = errors.New("write not acknowledged by enough replicas")

// Validate reports contradictory options.
func (o RedisOptions) Validate() error {
	var errs []error
	switch {
	case len(o.SentinelAddrs) > 0 && len(o.ClusterAddrs) > 0:
		errs = append(errs, errors.New("sentinel and cluster addresses: give one or the other"))
	case len(o.SentinelAddrs) > 0 && o.MasterName == "":
		errs = append(errs, errors.New("sentinel addresses need the master name"))
	case o.MasterName != "" && len(o.SentinelAddrs) == 0:
		errs = append(errs, errors.New("a master name needs sentinel addresses"))
	case len(o.SentinelAddrs) == 0 && len(o.ClusterAddrs) == 0 && o.URL == "":
		errs = append(errs, errors.New("no Redis named: give a URL, sentinel addresses or cluster addresses"))
	}
	if o.URL != "" {
		if opts, err := o.urlOptions(); err != nil {
			errs = append(errs, err)
		} else if len(o.ClusterAddrs) > 0 && opts.DB != 0 {
			errs = append(errs, fmt.Errorf("database %d: a Redis Cluster has database 0 only", opts.DB))
		}
	}
	if opts, err := o.urlOptions(); err == nil && o.WaitReplicas > 0 {
		if rt := readTimeout(opts); rt > 0 && o.waitTimeout() > rt-waitReplyMargin {
			errs = append(errs, fmt.Errorf("read timeout %s with a wait for replicas of %s: the read timeout must exceed the wait by %s or more, "+
				"else a WAIT that outlives it fails as a lost reply, not as replicas missing (raise the URL's read_timeout)", rt, o.waitTimeout(), waitReplyMargin))
		}
	}
	for _, a := range append(append([]string(nil), o.SentinelAddrs...), o.ClusterAddrs...) {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("address %q: want host:port", a))
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("address %q: port %q is not a port number", a, port))
		}
	}
	if o.WaitReplicas < 0 {
		errs = append(errs, fmt.Errorf("wait replicas %d: must not be negative", o.WaitReplicas))
	}
	if o.WaitReplicas > 0 && len(o.ClusterAddrs) > 0 {
		errs = append(errs, errors.New("waiting for replicas is not supported on Redis Cluster"))
	}
	return errors.Join(errs...)
}

// urlOptions parses URL, tolerating a missing host when the servers come
// from the sentinel or cluster addresses.
func (o RedisOptions) urlOptions() (*redis.Options, error) {
	if o.URL == "" {
		// As parseRedisURL gives them: the callers' deadlines honoured.
		return &redis.Options{ContextTimeoutEnabled: true}, nil
	}
	raw := o.URL
	if len(o.SentinelAddrs)+len(o.ClusterAddrs) > 0 {
		// The servers come from the addresses: a host is not needed, but
		// redis.ParseURL wants one.
		if u, err := url.Parse(raw); err == nil && u.Hostname() == "" {
			u.Host = "localhost:6379"
			raw = u.String()
		}
	}
	opts, err := parseRedisURL(raw)
	if err != nil {
		return nil, err
	}
	if opts.TLSConfig != nil && len(o.SentinelAddrs)+len(o.ClusterAddrs) > 0 {
		// The URL's host (or the one put in above) names none of the
		// servers: each is checked for the address it is dialled at, as
		// crypto/tls does when no ServerName is set. With the URL's
		// host, every sentinel, master and node had to present a
		// certificate for "localhost".
		opts.TLSConfig.ServerName = ""
	}
	return opts, nil
}

// ClusterPrefix returns prefix as a Redis Cluster hash tag ("porxgate:"
// becomes "{porxgate}:"), so that every key a script touches together maps
// to one slot. A prefix that has a tag already is kept.
func ClusterPrefix(prefix string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if i := strings.IndexByte(prefix, '{'); i >= 0 && strings.IndexByte(prefix[i:], '}') > 1 {
		return prefix
	}
	return "{" + strings.TrimSuffix(prefix, ":") + "}:"
}

// MinPoolSize is the fewest connections the client keeps to Redis when the
// URL sets no pool_size. go-redis's own default is ten per GOMAXPROCS,
// which gives a gateway pinned to one core ten connections for its inbox
// and delivery workers, its front door's requests and the journal's
// writer together: under load they queue for a connection (and time out)
// while Redis is idle.
const MinPoolSize = 64

// baseOptions are the options the store's client is built from, for
// every kind (one server's client takes them as they are, a Sentinel
// group's and a Cluster's through failoverOptions and clusterOptions):
// the URL's (urlOptions), with at least MinPoolSize connections when the
// URL sets no pool_size, and with TLS a dialer that fails at once on a
// server that speaks plain text (tlsDialer). NewRedis and OpenRedis both
// come here.
func (o RedisOptions) baseOptions() (*redis.Options, error) {
	base, err := o.urlOptions()
	if err != nil {
		return nil, err
	}
	if base.PoolSize == 0 { // not set by the URL's pool_size
		base.PoolSize = max(MinPoolSize, 10*runtime.GOMAXPROCS(0))
	}
	if base.TLSConfig != nil {
		names := schemeNames(len(o.SentinelAddrs) > 0)
		names.role = "server" // a sentinel, or a master or replica
		base.Dialer = tlsDialer(base, names)
	}
	return base, nil
}

// OpenRedis connects to the Redis o names, with key prefix (DefaultPrefix
// when empty; as a hash tag on a Cluster). The connection is checked
// lazily; call Ping to check it now.
func OpenRedis(o RedisOptions, prefix string) (*Redis, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	base, err := o.baseOptions()
	if err != nil {
		return nil, err
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	r := &Redis{prefix: prefix, tls: base.TLSConfig != nil}
	switch {
	case len(o.ClusterAddrs) > 0:
		r.prefix = ClusterPrefix(prefix)
		r.looks = o.ClusterAddrs
		r.nodes = &clusterNodes{}
		co := clusterOptions(o.ClusterAddrs, base)
		co.NewClient = r.nodes.newClient
		r.client = redis.NewClusterClient(co)
	case len(o.SentinelAddrs) > 0:
		r.sentinel = failoverOptions(o, base)
		r.looks = o.SentinelAddrs
		r.base = base // failoverOptions copied it: NewFailoverClient does not change it
		r.client = redis.NewFailoverClient(r.sentinel)
	default:
		r.looks = []string{base.Addr}
		r.client = redis.NewClient(base)
	}
	if o.WaitReplicas > 0 {
		r.client = replicatedClient{UniversalClient: r.client, replicas: o.WaitReplicas, timeout: o.waitTimeout()}
	}
	r.scripts = newScriptBatcher(r.client)
	return r, nil
}

// failoverOptions are the options of a client of the Sentinel group o
// names: the sentinels and the master's name from o, everything else from
// base, the URL's options, as a client of one server takes them
// (parseRedisURL: go-redis's URL parameters). Before, only the
// credentials, database, TLS and pool size were carried, and a group's
// client kept go-redis's defaults for the rest: a read_timeout the URL
// raised for --redis-wait-replicas, say, was checked by Validate but not
// used. go-redis gives the sentinels' connections the same timeouts,
// retries and pool settings as the master's.
func failoverOptions(o RedisOptions, base *redis.Options) *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs, SentinelPassword: o.SentinelPassword,
		Username: base.Username, Password: base.Password, DB: base.DB, TLSConfig: base.TLSConfig, Dialer: base.Dialer,
		Protocol: base.Protocol, ClientName: base.ClientName,
		MaxRetries: base.MaxRetries, MinRetryBackoff: base.MinRetryBackoff, MaxRetryBackoff: base.MaxRetryBackoff,
		DialTimeout: base.DialTimeout, ReadTimeout: base.ReadTimeout, WriteTimeout: base.WriteTimeout,
		ContextTimeoutEnabled: base.ContextTimeoutEnabled, PoolFIFO: base.PoolFIFO,
		PoolSize: base.PoolSize, PoolTimeout: base.PoolTimeout, MaxConcurrentDials: base.MaxConcurrentDials,
		MinIdleConns: base.MinIdleConns, MaxIdleConns: base.MaxIdleConns, MaxActiveConns: base.MaxActiveConns,
		PipelinePoolSize: base.PipelinePoolSize, PipelineReadBufferSize: base.PipelineReadBufferSize,
		PipelineWriteBufferSize: base.PipelineWriteBufferSize, ConnMaxIdleTime: base.ConnMaxIdleTime,
		ConnMaxLifetime: base.ConnMaxLifetime, ConnMaxLifetimeJitter: base.ConnMaxLifetimeJitter,
	}
}

// nodeOptions are the options of a client of the one server at addr that
// the store opens beside its own: CheckDurability's, of a Sentinel
// group's replicas and (sentinelClient) its sentinels. They are base, the
// URL's options (urlOptions) as the store's own client takes them
// (failoverOptions), so that every option the URL sets reaches every
// connection the gateway opens: dial_timeout, protocol, client_name, the
// read and write timeouts, retries, TLS (skip_verify; the server name is
// the address dialled) and the rest. Before, these clients took the
// credentials and TLS alone, and dialled, spoke RESP3 and went unnamed
// under go-redis's defaults whatever the URL said. Such a client sends one
// command at a time and is closed after its look, so its pool is one
// connection, none opened ahead (min_idle_conns), and a failed dial is
// its answer: go-redis dials five times by default, which for a server
// that cannot be reached is five dial timeouts within the look's bound.
func nodeOptions(base *redis.Options, addr string) *redis.Options {
	o := *base
	o.Addr = addr
	if base.TLSConfig != nil {
		o.TLSConfig = base.TLSConfig.Clone()
	}
	o.PoolSize, o.MinIdleConns, o.DialerRetries = 1, 0, 1
	return &o
}

// clusterOptions are the options of a client of the Cluster seeded by
// addrs, everything else from base, the URL's options, as failoverOptions
// takes them (a Cluster has no database: Validate refuses one but 0).
// The pool settings apply per node.
func clusterOptions(addrs []string, base *redis.Options) *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs: addrs, Username: base.Username, Password: base.Password, TLSConfig: base.TLSConfig, Dialer: base.Dialer,
		Protocol: base.Protocol, ClientName: base.ClientName,
		MaxRetries: base.MaxRetries, MinRetryBackoff: base.MinRetryBackoff, MaxRetryBackoff: base.MaxRetryBackoff,
		DialTimeout: base.DialTimeout, ReadTimeout: base.ReadTimeout, WriteTimeout: base.WriteTimeout,
		ContextTimeoutEnabled: base.ContextTimeoutEnabled, PoolFIFO: base.PoolFIFO,
		PoolSize: base.PoolSize, PoolTimeout: base.PoolTimeout, MaxConcurrentDials: base.MaxConcurrentDials,
		MinIdleConns: base.MinIdleConns, MaxIdleConns: base.MaxIdleConns, MaxActiveConns: base.MaxActiveConns,
		PipelinePoolSize: base.PipelinePoolSize, PipelineReadBufferSize: base.PipelineReadBufferSize,
		PipelineWriteBufferSize: base.PipelineWriteBufferSize, ConnMaxIdleTime: base.ConnMaxIdleTime,
		ConnMaxLifetime: base.ConnMaxLifetime, ConnMaxLifetimeJitter: base.ConnMaxLifetimeJitter,
	}
}

// replicatedClient runs every Lua script (the store's and the cancellation
// tracker's writes) in a pipeline followed by WAIT on the same connection,
// and fails the script's answer when fewer than replicas replicas
// acknowledged it in time.
type replicatedClient struct {
	redis.UniversalClient
	replicas int
	timeout  time.Duration
}

// Eval implements redis.Scripter.
func (c replicatedClient) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return c.waited(ctx, func(p redis.Pipeliner) *redis.Cmd { return p.Eval(ctx, script, keys, args...) })
}

// EvalSha implements redis.Scripter.
func (c replicatedClient) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	return c.waited(ctx, func(p redis.Pipeliner) *redis.Cmd { return p.EvalSha(ctx, sha1, keys, args...) })
}

func (c replicatedClient) waited(ctx context.Context, send func(redis.Pipeliner) *redis.Cmd) *redis.Cmd {
	pipe := c.UniversalClient.Pipeline()
	cmd := send(pipe)
	wait := pipe.Do(ctx, "WAIT", c.replicas, c.timeout.Milliseconds())
	_, _ = pipe.Exec(ctx) // each command carries its own error
	switch {
	case cmd.Err() != nil:
	case wait.Err() != nil:
		cmd.SetErr(fmt.Errorf("redis WAIT %d: %w", c.replicas, wait.Err()))
	default:
		if n, err := wait.Int64(); err != nil || n < int64(c.replicas) {
			cmd.SetErr(fmt.Errorf("%w: %d of %d within %s", ErrNotReplicated, n, c.replicas, c.timeout))
		}
	}
	return cmd
}
