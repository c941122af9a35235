package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/internal/testnet"
)

// TestSchemeMismatchDiagnosedForEveryKind: Ping names a scheme that does
// not match the servers (ErrSchemeMismatch, and which scheme to use) for
// every kind of URL the gateway takes, against real servers: a Sentinel
// group named in one URL or beside sentinel addresses, whose sentinels
// speak the other transport, or whose sentinel speaks the URL's TLS but
// whose master does not; a Cluster whose first seed is down; and a
// Cluster whose seeds speak the URL's TLS but which names its nodes by
// their plain-text ports (tls-cluster no). Before, a Sentinel group's
// Ping said only what the client saw (a timeout, EOF), a Cluster's looked
// at its first seed alone, and until session 22 at its seeds alone (the
// client's commands go to the nodes the seeds name). A TLS sentinel whose
// certificate is not trusted, or servers spoken to as they speak, are not
// taken for a mismatch.
func TestSchemeMismatchDiagnosedForEveryKind(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Sentinel groups")
	}
	plain := redistest.StartSentinel(t)
	tlsGroup, _ := redistest.StartTLSSentinel(t)
	tlsSentinelPlainMaster, _ := redistest.StartTLSSentinelPlainMaster(t)
	tlsOnly, _ := redistest.StartTLS(t)
	down := testnet.RefusingAddr(t)
	announcingPlain := redistest.StartClusterTLSAnnouncingPlain(t)
	plainNodes := slices.Sorted(slices.Values(announcingPlain.Addrs()))
	sentinelURL := func(scheme string, g *redistest.Sentinel, query string) RedisOptions {
		t.Helper()
		o, err := ParseSentinelURL(scheme + "://" + strings.Join(g.SentinelAddrs(), ",") + "/" + redistest.MasterName + "/0" + query)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	tests := []struct {
		name     string
		o        RedisOptions
		mismatch bool
		want     string // "" for no error
	}{
		{"rediss-sentinel at plain sentinels", sentinelURL("rediss-sentinel", plain, ""), true,
			"the sentinel at " + plain.Sentinels[0].Addr + " speaks plain text (it answered a plain-text PING), but the URL's rediss-sentinel:// (or rediss:// beside sentinel addresses) scheme asks for TLS: use redis-sentinel:// (or redis://)"},
		{"rediss beside plain sentinel addresses", RedisOptions{URL: "rediss:///0", SentinelAddrs: plain.SentinelAddrs(), MasterName: redistest.MasterName}, true,
			"the sentinel at " + plain.Sentinels[0].Addr + " speaks plain text"},
		{"redis-sentinel at a TLS sentinel", sentinelURL("redis-sentinel", tlsGroup, ""), true,
			"the sentinel at " + tlsGroup.Sentinels[0].Addr + " speaks TLS, but the URL's redis-sentinel:// (or redis://) scheme is plain text: use rediss-sentinel://"},
		{"rediss-sentinel at a TLS sentinel whose master speaks plain text", sentinelURL("rediss-sentinel", tlsSentinelPlainMaster, "?skip_verify=true"), true,
			"the master at " + tlsSentinelPlainMaster.Master.Addr + " speaks plain text (it answered a plain-text PING), but the URL's rediss-sentinel://"},
		{"rediss-sentinel at a TLS sentinel, certificate not trusted", sentinelURL("rediss-sentinel", tlsGroup, ""), false, "certificate"},
		{"redis-sentinel at plain sentinels", sentinelURL("redis-sentinel", plain, ""), false, ""},
		{"rediss Cluster, first seed down, the next plain", RedisOptions{URL: "rediss:///0", ClusterAddrs: []string{down, plain.Master.Addr}}, true,
			"the server at " + plain.Master.Addr + " speaks plain text (it answered a plain-text PING), but the URL's rediss:// scheme asks for TLS: use redis://"},
		{"redis Cluster, first seed down, the next TLS", RedisOptions{URL: "redis:///0", ClusterAddrs: []string{down, tlsOnly.Addr}}, true,
			"the server at " + tlsOnly.Addr + " speaks TLS, but the URL's redis:// scheme is plain text: use rediss://"},
		{"rediss Cluster at TLS seeds that name plain-text nodes", RedisOptions{URL: "rediss:///0?skip_verify=true", ClusterAddrs: announcingPlain.TLSAddrs}, true,
			"the Cluster node at " + plainNodes[0] + " speaks plain text (it answered a plain-text PING), but the URL's rediss:// scheme asks for TLS: " +
				"the seeds speak TLS, but the Cluster names its nodes by their plain-text ports, as it does to a TLS client when its nodes do not speak TLS to each other: " +
				"set tls-cluster yes on every node (or use redis://)"},
		{"redis Cluster at the plain-text seeds of the same nodes", RedisOptions{URL: "redis:///0", ClusterAddrs: announcingPlain.Addrs()}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenRedis(tt.o, "t:")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = r.Ping(ctx)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("ping: %v; want an answer", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("ping answered; want it to fail saying %q", tt.want)
			case errors.Is(err, ErrSchemeMismatch) != tt.mismatch || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("ping: %v; want mismatch %v saying %q", err, tt.mismatch, tt.want)
			}
		})
	}
}
