package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestHungRedisHonoursTheCallersDeadline freezes a real redis-server (a
// hung Redis: connections accepted, nothing answered) under each way of
// opening the store, and checks that a store call gives up at its
// caller's deadline. Before, go-redis ignored context deadlines
// (ContextTimeoutEnabled off): every call waited out the client's 3 s read
// timeout, and its retries, whatever its caller had allowed — a front
// door that gives the store 10 s held its sender up to about 12 s, and a
// /metrics scrape took about 5 s. A script call queued for a pipeline
// behind calls that set no deadline (the idle workers' claims) then still
// waited for them: an Accept given 300 ms took 5 s (20 s on a Cluster).
func TestHungRedisHonoursTheCallersDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	// bound is well under the 3 s read timeout the client fell back on.
	const bound = 2 * time.Second
	tests := []struct {
		name string
		open func(t *testing.T) (*Redis, func(t *testing.T))
	}{
		{"NewRedis URL", func(t *testing.T) (*Redis, func(t *testing.T)) {
			srv := redistest.Start(t)
			r, err := NewRedis(srv.URL(), "t:")
			if err != nil {
				t.Fatal(err)
			}
			return r, func(t *testing.T) { srv.Pause(t) }
		}},
		{"OpenRedis URL", func(t *testing.T) (*Redis, func(t *testing.T)) {
			srv := redistest.Start(t)
			r, err := OpenRedis(RedisOptions{URL: srv.URL()}, "t:")
			if err != nil {
				t.Fatal(err)
			}
			return r, func(t *testing.T) { srv.Pause(t) }
		}},
		{"OpenRedis Sentinel", func(t *testing.T) (*Redis, func(t *testing.T)) {
			g := redistest.StartSentinel(t)
			r, err := OpenRedis(RedisOptions{SentinelAddrs: g.SentinelAddrs(), MasterName: redistest.MasterName}, "t:")
			if err != nil {
				t.Fatal(err)
			}
			return r, func(t *testing.T) { // every server, so that no failover ends the hang
				g.Master.Pause(t)
				for _, s := range g.Replicas {
					s.Pause(t)
				}
			}
		}},
		{"OpenRedis Cluster", func(t *testing.T) (*Redis, func(t *testing.T)) {
			c := redistest.StartCluster(t)
			r, err := OpenRedis(RedisOptions{ClusterAddrs: c.Addrs()}, "t:")
			if err != nil {
				t.Fatal(err)
			}
			return r, func(t *testing.T) {
				for _, n := range c.Nodes {
					n.Pause(t)
				}
			}
		}},
	}
	calls := []struct {
		name string
		call func(ctx context.Context, r *Redis) error
	}{
		{"MarkSeen", func(ctx context.Context, r *Redis) error {
			_, err := r.MarkSeen(ctx, "m1", time.Minute)
			return err
		}},
		{"Accept (a script)", func(ctx context.Context, r *Redis) error {
			_, err := r.Accept(ctx, "m2", time.Minute, Item{Queue: "inbox", ID: "m2", Data: []byte("x")})
			return err
		}},
		{"QueueLen", func(ctx context.Context, r *Redis) error {
			_, err := r.QueueLen(ctx, "inbox")
			return err
		}},
		{"Accept, 16 at once (queued calls go in one pipeline)", func(ctx context.Context, r *Redis) error {
			errs := make(chan error, 16)
			for i := range cap(errs) {
				go func() {
					id := fmt.Sprintf("p%d", i)
					_, err := r.Accept(ctx, id, time.Minute, Item{Queue: "inbox", ID: id, Data: []byte("x")})
					errs <- err
				}()
			}
			var all []error
			for range cap(errs) {
				all = append(all, <-errs)
			}
			if slices.Contains(all, nil) {
				return nil // reported as no error
			}
			return all[len(all)-1] // the last to give up
		}},
		{"Accept queued behind calls that set no deadline (idle workers' claims)", func(ctx context.Context, r *Redis) error {
			// The workers' claims take every place in flight (maxScriptBatches)
			// and, on a hung Redis, wait out the client's read timeouts and
			// retries; the Accept, queued for the next pipeline, must not.
			for range maxScriptBatches {
				go func() { _, _ = r.Claim(context.WithoutCancel(ctx), "inbox", time.Now(), time.Minute) }()
			}
			time.Sleep(50 * time.Millisecond) // the claims in flight
			_, err := r.Accept(ctx, "q1", time.Minute, Item{Queue: "inbox", ID: "q1", Data: []byte("x")})
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, hang := tc.open(t)
			defer r.Close()
			warm, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for _, c := range calls { // every connection the calls use is open and answered before the hang
				if err := c.call(warm, r); err != nil {
					t.Fatalf("%s before the hang: %v", c.name, err)
				}
			}
			hang(t)
			for _, c := range calls {
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				err := c.call(ctx, r)
				took := time.Since(start)
				cancel()
				if err == nil {
					t.Errorf("%s on a hung Redis: no error", c.name)
					continue
				}
				if took > bound {
					t.Errorf("%s on a hung Redis, given %s: gave up after %s (%v); want by about its deadline", c.name, deadline, took.Round(time.Millisecond), err)
				}
				var timeout interface{ Timeout() bool }
				if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &timeout) && timeout.Timeout()) {
					t.Errorf("%s on a hung Redis: %v; want a timeout", c.name, err)
				}
			}
		})
	}
}
