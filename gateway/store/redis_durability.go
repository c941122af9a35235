package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Durability is what a Redis says of how long the writes it accepts last:
// whether it may evict keys to make room, and how it persists them.
// porxgate acknowledges a message once Redis has taken the write, so
// these settings decide whether "nothing acknowledged is lost" holds
// (docs/deploy.md, Redis persistence).
type Durability struct {
	// MaxMemory is maxmemory in bytes; 0 is no limit.
	MaxMemory int64
	// Policy is maxmemory-policy, e.g. "noeviction" or "allkeys-lru".
	Policy string
	// AOF reports appendonly yes.
	AOF bool
	// AppendFsync is appendfsync ("always", "everysec", "no"); empty when
	// Redis would not say (CONFIG is often disabled on managed Redis).
	AppendFsync string
	// Unread, when not nil, says why the settings of Node could not be
	// read (a Sentinel group's replica that did not answer): they are
	// unknown, and warned of as such.
	Unread error
	// Node names the Redis the settings were read from (a Cluster's
	// master address, or "replica host:port" for a Sentinel group's
	// replica; empty for a single server or Sentinel master).
	Node string
}

// Evicts reports whether Redis deletes keys when it is full: any policy
// but noeviction under a memory limit. Queued messages (and, under the
// volatile policies, duplicate-elimination marks and kept answers) would
// then vanish after they were acknowledged.
func (d Durability) Evicts() bool {
	return d.MaxMemory > 0 && d.Policy != "" && d.Policy != "noeviction"
}

// EvictionError is the refusal to use a Redis that evicts keys.
func (d Durability) EvictionError() error {
	where := ""
	if d.Node != "" {
		where = " (" + d.Node + ")"
	}
	return fmt.Errorf("redis%s evicts keys when full (maxmemory-policy %s, maxmemory %d): messages acknowledged to senders could be deleted before they are processed; set maxmemory-policy noeviction (porxgate then refuses new messages with 910004 while Redis is full)",
		where, d.Policy, d.MaxMemory)
}

// Warnings lists the settings under which a crash of Redis or its host
// may lose acknowledged messages, each with what to set instead; an
// appendfsync Redis would not say is warned of too.
func (d Durability) Warnings() []string {
	where := ""
	if d.Node != "" {
		where = " (" + d.Node + ")"
	}
	var w []string
	switch {
	case d.Unread != nil:
		w = append(w, "redis"+where+" did not say its settings ("+d.Unread.Error()+"): make sure of maxmemory-policy noeviction, appendonly yes and appendfsync always there by hand (docs/deploy.md)")
	case !d.AOF:
		w = append(w, "redis"+where+" has appendonly no: a restart of Redis loses every message written since its last snapshot; set appendonly yes and appendfsync always")
	case d.AppendFsync == "":
		w = append(w, "redis"+where+" would not say its appendfsync (CONFIG GET refused): unless it is always, a crash of its host may lose the last acknowledged messages; make sure of appendfsync always, or accept the risk in the clinical safety case")
	case d.AppendFsync != "always":
		w = append(w, "redis"+where+" has appendfsync "+d.AppendFsync+": a crash of its host may lose the last acknowledged messages; set appendfsync always, or accept the risk in the clinical safety case")
	}
	return w
}

// CheckDurability reads the durability settings of the Redis the store
// writes to (every master of a Cluster), and of a Sentinel group's
// replicas too: the sentinels promote one of them when the master fails,
// and from then on its settings decide what survives. It uses INFO,
// which managed Redis services allow, and CONFIG GET appendfsync where
// allowed.
func (r *Redis) CheckDurability(ctx context.Context) ([]Durability, error) {
	client := r.client
	if rc, ok := client.(replicatedClient); ok {
		client = rc.UniversalClient
	}
	cc, ok := client.(*redis.ClusterClient)
	if !ok {
		d, err := readDurability(ctx, client)
		if err != nil {
			return nil, err
		}
		out := []Durability{d}
		if r.sentinel != nil {
			out = append(out, r.replicaDurability(ctx)...)
		}
		return out, nil
	}
	var (
		mu  sync.Mutex
		out []Durability
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		d, err := readDurability(ctx, node)
		if err != nil {
			return fmt.Errorf("%s: %w", node.Options().Addr, err)
		}
		d.Node = node.Options().Addr
		mu.Lock()
		out = append(out, d)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// replicaDurability reads the settings of each replica the Sentinel
// group's sentinels know and do not hold down, asking the first sentinel
// that answers. A replica that cannot be read, or replicas no sentinel
// lists, give a Durability with Unread set: the master's settings are
// checked all the same. The sentinels and the replicas are spoken to
// with every option the URL sets (nodeOptions).
func (r *Redis) replicaDurability(ctx context.Context) []Durability {
	o := r.sentinel
	var (
		reps []map[string]string
		last error
	)
	for _, a := range o.SentinelAddrs {
		sc := r.sentinelClient(a)
		reps, last = sc.Replicas(ctx, o.MasterName).Result()
		_ = sc.Close()
		if last == nil {
			break
		}
	}
	if last != nil {
		return []Durability{{Node: "replicas of " + o.MasterName, Unread: fmt.Errorf("no sentinel listed them: %w", last)}}
	}
	var out []Durability
	for _, rep := range reps {
		if down(rep["flags"]) || rep["ip"] == "" || rep["port"] == "" {
			continue
		}
		out = append(out, r.readReplica(ctx, net.JoinHostPort(rep["ip"], rep["port"])))
	}
	return out
}

// sentinelClient is a client of the group's sentinel at addr
// (sentinelOptions).
func (r *Redis) sentinelClient(addr string) *redis.SentinelClient {
	return redis.NewSentinelClient(r.sentinelOptions(addr))
}

// sentinelOptions are the options of a client of the group's sentinel at
// addr: the URL's (nodeOptions), as go-redis gives its own connections
// to the sentinels, with no user, the sentinels' password and database 0.
func (r *Redis) sentinelOptions(addr string) *redis.Options {
	opts := nodeOptions(r.base, addr)
	opts.Username, opts.Password, opts.DB = "", r.sentinel.SentinelPassword, 0
	return opts
}

// readReplica reads the settings of the group's replica at addr within
// replicaReadTimeout, with the URL's options (nodeOptions): a dial to a
// replica that cannot be reached ends at the URL's dial_timeout when it
// is shorter. A replica not read has Unread set, which says when the
// bound, not the client, ended the look.
func (r *Redis) readReplica(ctx context.Context, addr string) Durability {
	c := redis.NewClient(nodeOptions(r.base, addr))
	defer func() { _ = c.Close() }()
	rctx, cancel := context.WithTimeout(ctx, replicaReadTimeout)
	defer cancel()
	d, err := readDurability(rctx, c)
	if err != nil {
		if rctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s: %w", replicaReadTimeout, err)
		}
		d = Durability{Unread: err} // the others are read all the same
	}
	d.Node = "replica " + addr
	return d
}

// replicaReadTimeout bounds the read of one replica's settings: a replica
// the gateway cannot reach (an address announced for another network, a
// host gone) must not hold the start, nor use up the time of the checks
// after it.
const replicaReadTimeout = time.Second

// down reports whether a sentinel's flags for a server say it is down or
// disconnected.
func down(flags string) bool {
	for f := range strings.SplitSeq(flags, ",") {
		if f == "s_down" || f == "o_down" || f == "disconnected" {
			return true
		}
	}
	return false
}

// infoReader is what readDurability needs of a client.
type infoReader interface {
	Info(ctx context.Context, section ...string) *redis.StringCmd
	ConfigGet(ctx context.Context, parameter string) *redis.MapStringStringCmd
}

// readDurability reads one Redis's settings.
func readDurability(ctx context.Context, c infoReader) (Durability, error) {
	var d Durability
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return d, fmt.Errorf("redis INFO memory: %w", err)
	}
	fields := infoFields(info)
	d.Policy = fields["maxmemory_policy"]
	if v := fields["maxmemory"]; v != "" {
		if d.MaxMemory, err = strconv.ParseInt(v, 10, 64); err != nil {
			return d, fmt.Errorf("redis INFO memory: maxmemory %q: %w", v, err)
		}
	}
	info, err = c.Info(ctx, "persistence").Result()
	if err != nil {
		return d, fmt.Errorf("redis INFO persistence: %w", err)
	}
	aof, ok := infoFields(info)["aof_enabled"]
	if !ok {
		return d, errors.New("redis INFO persistence: no aof_enabled")
	}
	d.AOF = aof == "1"
	if cfg, err := c.ConfigGet(ctx, "appendfsync").Result(); err == nil {
		d.AppendFsync = cfg["appendfsync"]
	}
	return d, nil
}

// infoFields splits an INFO answer into its name:value fields.
func infoFields(info string) map[string]string {
	out := make(map[string]string)
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// ClockSkew is how far this process's clock is from the Redis's (positive:
// Redis is ahead), read with TIME and halving the round trip. Queue due
// times and leases are written from the callers' clocks, so replicas whose
// clocks differ by more than a lease may take each other's work.
func (r *Redis) ClockSkew(ctx context.Context) (time.Duration, error) {
	before := time.Now()
	t, err := r.client.Time(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("redis TIME: %w", err)
	}
	after := time.Now()
	mid := before.Add(after.Sub(before) / 2)
	return t.Sub(mid), nil
}
