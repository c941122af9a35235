package store

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"reflect"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// everyURLParameter sets each parameter go-redis reads from a redis:// URL
// (setupConnParams) to a value none of its defaults has.
const everyURLParameter = "protocol=2&client_name=porxgate-test&max_retries=7&min_retry_backoff=3ms&max_retry_backoff=700ms" +
	"&dial_timeout=1100ms&read_timeout=2200ms&write_timeout=3300ms&pool_fifo=true&pool_size=17&pool_timeout=4400ms" +
	"&min_idle_conns=2&max_idle_conns=5&max_active_conns=40&max_concurrent_dials=3" +
	"&pipeline_pool_size=4&pipeline_read_buffer_size=65536&pipeline_write_buffer_size=32768" +
	"&conn_max_idle_time=5500ms&conn_max_lifetime=6600ms&conn_max_lifetime_jitter=100ms&skip_verify=true"

// clientOptions returns the options r's client runs with (go-redis's
// defaults filled in): a *redis.Options for one server or a Sentinel
// group, a *redis.ClusterOptions for a Cluster.
func clientOptions(t *testing.T, r *Redis) reflect.Value {
	t.Helper()
	c := r.client
	if rc, ok := c.(replicatedClient); ok {
		c = rc.UniversalClient
	}
	switch c := c.(type) {
	case *redis.Client:
		return reflect.ValueOf(c.Options()).Elem()
	case *redis.ClusterClient:
		return reflect.ValueOf(c.Options()).Elem()
	}
	t.Fatalf("client %T", c)
	return reflect.Value{}
}

// TestEveryKindTakesTheURLsOptions: a client of a Sentinel group or a
// Cluster runs with every option its URL sets, as a client of one server
// does. Before, only the credentials, database, TLS and pool size were
// carried: a group's or Cluster's client read and wrote under go-redis's
// 5s default whatever read_timeout and write_timeout the URL gave, and
// dropped its retries, dial timeout and the rest. The options are those
// of one server's URL with every parameter set: a parameter go-redis
// reads that a kind drops fails here by name.
func TestEveryKindTakesTheURLsOptions(t *testing.T) {
	want, err := parseRedisURL("rediss://app:pw@h:6379/0?" + everyURLParameter)
	if err != nil {
		t.Fatal(err)
	}
	sentinelURL, err := ParseSentinelURL("rediss-sentinel://app:pw@s1:26379,s2:26379/m/0?sentinel_password=x&" + everyURLParameter)
	if err != nil {
		t.Fatal(err)
	}
	sentinelURL.WaitReplicas = 1 // wrapped in replicatedClient: the options are still those of the client below
	opened := func(o RedisOptions) func() (*Redis, error) { return func() (*Redis, error) { return OpenRedis(o, "") } }
	for _, tc := range []struct {
		name string
		open func() (*Redis, error)
	}{
		{"one server", opened(RedisOptions{URL: "rediss://app:pw@h:6379/0?" + everyURLParameter})},
		{"one server by NewRedis", func() (*Redis, error) { return NewRedis("rediss://app:pw@h:6379/0?"+everyURLParameter, "") }},
		{"sentinel addresses", opened(RedisOptions{URL: "rediss://app:pw@/0?" + everyURLParameter, SentinelAddrs: []string{"s1:26379"}, MasterName: "m"})},
		{"sentinel URL", opened(sentinelURL)},
		{"cluster", opened(RedisOptions{URL: "rediss://app:pw@/0?" + everyURLParameter, ClusterAddrs: []string{"c1:6379", "c2:6379"}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if checked := checkURLOptions(t, want, clientOptions(t, r)); checked < 20 {
				t.Fatalf("only %d options compared: the URL above no longer sets each parameter", checked)
			}
		})
	}
}

// checkURLOptions compares, field by field, the options got (a
// redis.Options, FailoverOptions or ClusterOptions) with each option the
// URL set in want, the options of one server's URL, but for the server's
// address and those named in except. It returns how many it compared.
func checkURLOptions(t *testing.T, want *redis.Options, got reflect.Value, except ...string) int {
	t.Helper()
	wv := reflect.ValueOf(want).Elem()
	checked := 0
	for i := range wv.NumField() {
		f := wv.Type().Field(i)
		if !f.IsExported() || wv.Field(i).IsZero() || f.Name == "Addr" || f.Name == "Network" || slices.Contains(except, f.Name) {
			continue // not set by the URL, or a server's address (the addresses name them)
		}
		checked++
		g := got.FieldByName(f.Name)
		switch {
		case !g.IsValid():
			t.Errorf("the URL sets %s, which the client's options do not have", f.Name)
		case f.Name == "TLSConfig":
			// The same settings; the server name is the address
			// dialled for a group or a Cluster (urlOptions).
			c, _ := g.Interface().(*tls.Config)
			if c == nil || c.InsecureSkipVerify != want.TLSConfig.InsecureSkipVerify || c.MinVersion != want.TLSConfig.MinVersion {
				t.Errorf("TLS %+v, want skip_verify %v and minimum version %#x from the URL", c, want.TLSConfig.InsecureSkipVerify, want.TLSConfig.MinVersion)
			}
		case !reflect.DeepEqual(g.Interface(), wv.Field(i).Interface()):
			t.Errorf("%s = %v, the URL sets %v", f.Name, g.Interface(), wv.Field(i).Interface())
		}
	}
	return checked
}

// TestHAClientsTakeTheURLsReadTimeout runs a command that keeps Redis
// busy for half a second through a client of each kind whose URL sets
// read_timeout=100ms, against real servers: a real Sentinel group
// (master, replicas, sentinels) and a real Cluster. Each gives up as its
// URL says, with a timeout; with no read_timeout in the URL (go-redis's
// 5s) the same command is answered. Before, the group's and the
// Cluster's clients kept the 5s default, and the command was answered.
func TestHAClientsTakeTheURLsReadTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Sentinel group and a Cluster")
	}
	one := redistest.Start(t)
	group := redistest.StartSentinel(t)
	cluster := redistest.StartCluster(t)
	// max_retries=-1: a command that timed out is not sent again (each
	// send would keep Redis busy again).
	const params = "max_retries=-1"
	sentinelHosts := ""
	for i, a := range group.SentinelAddrs() {
		if i > 0 {
			sentinelHosts += ","
		}
		sentinelHosts += a
	}
	kinds := []struct {
		name string
		o    func(query string) RedisOptions
	}{
		{"one server", func(q string) RedisOptions { return RedisOptions{URL: "redis://" + one.Addr + "/0?" + q} }},
		{"sentinel addresses", func(q string) RedisOptions {
			return RedisOptions{URL: "redis:///0?" + q, SentinelAddrs: group.SentinelAddrs(), MasterName: redistest.MasterName}
		}},
		{"sentinel URL", func(q string) RedisOptions {
			o, err := ParseSentinelURL("redis-sentinel://" + sentinelHosts + "/" + redistest.MasterName + "/0?" + q)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}},
		{"cluster", func(q string) RedisOptions {
			return RedisOptions{URL: "redis:///0?" + q, ClusterAddrs: cluster.Addrs()}
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			ctx := context.Background() // no deadline: the client's read timeout bounds the wait
			short, err := OpenRedis(k.o(params+"&read_timeout=100ms"), "")
			if err != nil {
				t.Fatal(err)
			}
			defer short.Close()
			if err := short.Client().Ping(ctx).Err(); err != nil {
				t.Fatalf("ping: %v", err)
			}
			err = busy(ctx, short.Client())
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("a command Redis answers after half a second, read_timeout=100ms: %v, want a read timeout", err)
			}
			dflt, err := OpenRedis(k.o(params), "")
			if err != nil {
				t.Fatal(err)
			}
			defer dflt.Close()
			if err := busy(ctx, dflt.Client()); err != nil {
				t.Fatalf("the same command with go-redis's default read timeout: %v", err)
			}
		})
	}
}

// busyScript keeps Redis busy for half a second (by its own clock), then
// answers 1. Sentinel and the Cluster hold a node down only after a
// second without an answer.
const busyScript = `local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= 500000
return 1`

// busy runs busyScript on the node that holds the key porxgate:busy.
func busy(ctx context.Context, c redis.UniversalClient) error {
	return c.Eval(ctx, busyScript, []string{"{porxgate}:busy"}).Err()
}

// TestHAClientsWithoutURLKeepTheStoreDefaults: a Sentinel group or a
// Cluster named without a URL still honours the callers' deadlines and
// keeps MinPoolSize connections, as one server's client does, whether
// opened by OpenRedis or NewRedis. NewRedis built its own options until
// session 22 and kept go-redis's pool of ten connections per GOMAXPROCS
// (20 on two cores).
func TestHAClientsWithoutURLKeepTheStoreDefaults(t *testing.T) {
	for name, open := range map[string]func() (*Redis, error){
		"sentinel": func() (*Redis, error) {
			return OpenRedis(RedisOptions{SentinelAddrs: []string{"s1:26379"}, MasterName: "m"}, "")
		},
		"cluster":                 func() (*Redis, error) { return OpenRedis(RedisOptions{ClusterAddrs: []string{"c1:6379"}}, "") },
		"one server by OpenRedis": func() (*Redis, error) { return OpenRedis(RedisOptions{URL: "redis://h:6379/0"}, "") },
		"one server by NewRedis":  func() (*Redis, error) { return NewRedis("redis://h:6379/0", "") },
	} {
		t.Run(name, func(t *testing.T) {
			r, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := clientOptions(t, r)
			if !got.FieldByName("ContextTimeoutEnabled").Bool() || got.FieldByName("PoolSize").Int() < MinPoolSize {
				t.Fatalf("ContextTimeoutEnabled %v, PoolSize %d; want true and at least %d",
					got.FieldByName("ContextTimeoutEnabled").Bool(), got.FieldByName("PoolSize").Int(), MinPoolSize)
			}
		})
	}
}
