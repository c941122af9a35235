package store_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// sentinelTLSChildEnv carries the sentinels' addresses to the test's own
// binary run again with the test CA as the system's (SSL_CERT_FILE), as
// a deployment trusts its Redis's CA: the store has no CA setting of its
// own, and Go reads the system's roots once per process.
const sentinelTLSChildEnv = "PORXGATE_TEST_TLS_SENTINELS"

// TestSentinelOverTLS: a Sentinel group spoken to with TLS
// (rediss-sentinel://, or --redis rediss:///0 beside the sentinel
// addresses) whose certificates name their own hosts. The URL has no
// host, and the client checked every sentinel's and master's certificate
// for "localhost", the host put in to parse it: no deployment whose
// certificates do not name localhost could connect ("certificate is
// valid for 127.0.0.1, not localhost"). Each server's certificate is now
// checked for the address it is dialled at.
func TestSentinelOverTLS(t *testing.T) {
	if addrs := os.Getenv(sentinelTLSChildEnv); addrs != "" {
		sentinelOverTLS(t, strings.Split(addrs, ","))
		return
	}
	g, caFile := redistest.StartTLSSentinel(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSentinelOverTLS$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+caFile, "SSL_CERT_DIR="+t.TempDir(),
		sentinelTLSChildEnv+"="+strings.Join(g.SentinelAddrs(), ","))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the store over TLS: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), "--- PASS: TestSentinelOverTLS/"); n != 2 {
		t.Fatalf("%d of the 2 ways of naming the group passed:\n%s", n, out)
	}
}

// sentinelOverTLS opens the store on the TLS sentinels at addrs, as each
// way of naming them does, and accepts a message through it.
func sentinelOverTLS(t *testing.T, addrs []string) {
	fromURL, err := store.ParseSentinelURL("rediss-sentinel://" + strings.Join(addrs, ",") + "/" + redistest.MasterName + "/0")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    store.RedisOptions
	}{
		{"rediss-sentinel URL", fromURL},
		{"host-less rediss URL and sentinel addresses", store.RedisOptions{URL: "rediss:///0", SentinelAddrs: addrs, MasterName: redistest.MasterName}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := store.OpenRedis(tt.o, "tls:")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Ping(ctx); err != nil {
				t.Fatalf("ping: %v", err)
			}
			id := []string{"m1", "m2"}[i]
			fresh, err := r.Accept(ctx, id, time.Minute, store.Item{Queue: "inbox", ID: id, Data: []byte(id), Due: time.Now()})
			if err != nil || !fresh {
				t.Fatalf("accept: fresh %v, err %v", fresh, err)
			}
			// The durability check asks the sentinels for the replicas
			// over TLS too (the group has none).
			ds, err := r.CheckDurability(ctx)
			if err != nil || len(ds) != 1 || ds[0].Unread != nil {
				t.Fatalf("durability check: %+v, %v; want the master's settings alone", ds, err)
			}
		})
	}
}
