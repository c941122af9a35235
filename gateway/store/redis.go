package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/internal/ids"
)

// DefaultPrefix is the key prefix of every key porxgate writes in Redis.
const DefaultPrefix = "porxgate:"

// Redis is a Store backed by Redis: one server, a Sentinel group or a
// Cluster, through go-redis's universal client.
type Redis struct {
	client redis.UniversalClient
	// scripts runs the store's Lua scripts, pipelined under load.
	scripts *scriptBatcher
	prefix  string
	// looks are the servers Ping looks at when one does not answer
	// (pingDiagnosed): the one server, a Cluster's seeds, or a Sentinel
	// group's sentinels (and then the master they name); tls is whether
	// the client speaks TLS to them.
	looks []string
	tls   bool
	// nodes are the nodes a Cluster's client knows (its seeds and those
	// they name), for Ping's look beyond the seeds; nil for one server
	// or a Sentinel group.
	nodes *clusterNodes
	// sentinel names the Sentinel group, for CheckDurability's look at
	// the replicas it may promote and Ping's at its master; nil for one
	// server or a Cluster.
	sentinel *redis.FailoverOptions
	// base are the client's options (baseOptions: the URL's, with the
	// pool size chosen) that the clients the store opens beside its own
	// are built from (nodeOptions): those of a Sentinel group's
	// sentinels and replicas. Nil for one server or a Cluster.
	base *redis.Options
}

// NewRedis connects to the one Redis server a redis:// or rediss:// URL
// names, with key prefix (DefaultPrefix when empty): OpenRedis with the
// URL alone, the same client options (baseOptions: the callers'
// deadlines honoured, at least MinPoolSize connections). Before session
// 22 it built its own, and kept go-redis's pool of ten connections per
// GOMAXPROCS. The connection is checked lazily; call Ping to check it
// now.
func NewRedis(url, prefix string) (*Redis, error) {
	return OpenRedis(RedisOptions{URL: url}, prefix)
}

// parseRedisURL reads a redis:// or rediss:// URL into the client's
// options, with the callers' context deadlines honoured
// (ContextTimeoutEnabled, which go-redis leaves off): a call given a
// deadline gives up at it, not at the client's read timeout and retries,
// so a hung Redis holds nobody longer than they allowed.
func parseRedisURL(raw string) (*redis.Options, error) {
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", urlError(raw, err))
	}
	opts.ContextTimeoutEnabled = true
	return opts, nil
}

// errURLUserinfo is a URL's user information that cannot be read.
var errURLUserinfo = errors.New("the user or password cannot be read: percent-encode its %, @, :, / and spaces (%25, %40, %3A, %2F, %20)")

// urlError is err, from parsing the URL raw, without the password raw may
// carry: the URL parser quotes the whole URL in its errors, and these go
// to the start's error and the log. An error in the user information
// itself is named, not quoted; any other names the URL with its user
// information redacted.
func urlError(raw string, err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err // the client's own errors name a part (the database, an option), not the URL
	}
	i, j := strings.Index(raw, "://"), strings.LastIndexByte(raw, '@')
	if i < 0 || j < i+3 {
		return err // no user information
	}
	redacted := raw[:i+3] + "xxxxx" + raw[j:]
	if _, perr := url.Parse(redacted); perr != nil {
		return perr // quotes the redacted URL
	}
	return errURLUserinfo
}

// Kind implements Store.
func (r *Redis) Kind() string { return "redis" }

// Client returns the underlying client, for rooms that keep richer state.
func (r *Redis) Client() redis.UniversalClient { return r.client }

// Prefix returns the key prefix.
func (r *Redis) Prefix() string { return r.prefix }

// keyTTL is ttl as a key's expiry in Redis: at least a millisecond, the
// least Redis keeps. go-redis's SET takes 0 for no expiry at all (and a
// negative ttl is refused), so that a mark or a reply given no time would
// be kept for ever, where the memory store forgets it at once.
func keyTTL(ttl time.Duration) time.Duration { return max(ttl, time.Millisecond) }

// seenMark is the value of a duplicate-elimination mark: when it was
// set, and a token unique to the call that sets it, by which the call's
// script, sent again by the client after its reply was lost (go-redis
// retries a command whose connection broke, though Redis may have run
// it), tells its own mark from a duplicate's.
func seenMark() string {
	return time.Now().UTC().Format(time.RFC3339) + " " + ids.NewUUID()
}

// seenMarkOf is seenMark with party, when there is one, as its third
// field (AcceptFrom): "<time> <token> <party>".
func seenMarkOf(party string) string {
	if party == "" {
		return seenMark()
	}
	return seenMark() + " " + party
}

// MarkSeen implements Store with SET NX and an expiry (markScript). It
// does not wait for replicas (WaitReplicas): the mark is the SOAP door's
// short "in progress" mark, and what keeps a request processed once
// through a failover is the EPS processor's record of its attempt
// (ReserveReply), which does wait.
func (r *Redis) MarkSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	n, err := markScript.Run(ctx, r.scripts.base, []string{r.prefix + "seen:" + key},
		seenMark(), keyTTL(ttl).Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("redis mark seen %s: %w", key, err)
	}
	return n == 1, nil
}

// Ping implements Store. A server that speaks the other transport than
// the URL's scheme asks for (TLS or plain text) is named as such
// (ErrSchemeMismatch) instead of a bare timeout or EOF.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.pingDiagnosed(ctx); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Close implements Store.
func (r *Redis) Close() error { return r.client.Close() }
