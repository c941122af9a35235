package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

func stores(t *testing.T) map[string]store.Store {
	t.Helper()
	srv := redistest.Start(t)
	r, err := store.NewRedis(srv.URL(), "test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	cluster := redistest.StartCluster(t)
	rc, err := store.OpenRedis(store.RedisOptions{ClusterAddrs: cluster.Addrs()}, "test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	return map[string]store.Store{"memory": store.NewMemory(nil), "redis": r, "redis-cluster": rc}
}

func TestMarkSeen(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			first, err := s.MarkSeen(ctx, "PORX_IN020101UK31:A", time.Minute)
			if err != nil || !first {
				t.Fatalf("first MarkSeen = %v, %v; want true, nil", first, err)
			}
			again, err := s.MarkSeen(ctx, "PORX_IN020101UK31:A", time.Minute)
			if err != nil || again {
				t.Fatalf("second MarkSeen = %v, %v; want false, nil", again, err)
			}
			other, err := s.MarkSeen(ctx, "PORX_IN020101UK31:B", time.Minute)
			if err != nil || !other {
				t.Fatalf("other key MarkSeen = %v, %v; want true, nil", other, err)
			}
		})
	}
}

func TestMarkSeenExpires(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := store.NewMemory(func() time.Time { return now })
	if ok, _ := m.MarkSeen(ctx, "k", time.Second); !ok {
		t.Fatal("first mark not new")
	}
	now = now.Add(2 * time.Second)
	if ok, _ := m.MarkSeen(ctx, "k", time.Second); !ok {
		t.Fatal("mark after expiry not new")
	}
	for name, s := range stores(t) {
		if name != "redis" {
			continue
		}
		if ok, _ := s.MarkSeen(ctx, "short", 100*time.Millisecond); !ok {
			t.Fatal("redis first mark not new")
		}
		deadline := time.Now().Add(3 * time.Second)
		for {
			ok, err := s.MarkSeen(ctx, "short", 100*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("redis key never expired")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestClosedMemory(t *testing.T) {
	m := store.NewMemory(nil)
	_ = m.Close()
	if err := m.Ping(context.Background()); err == nil {
		t.Fatal("Ping after Close succeeded")
	}
}

// TestTouch: Touch renews a mark that is there and says false for one
// that is not; a short mark touched to a long ttl outlives its first ttl.
func TestTouch(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if ok, err := s.Touch(ctx, "touch:none", time.Minute); err != nil || ok {
				t.Fatalf("Touch of a missing key = %v, %v; want false, nil", ok, err)
			}
			if ok, err := s.MarkSeen(ctx, "touch:k", 50*time.Millisecond); err != nil || !ok {
				t.Fatalf("MarkSeen = %v, %v", ok, err)
			}
			if ok, err := s.Touch(ctx, "touch:k", time.Minute); err != nil || !ok {
				t.Fatalf("Touch = %v, %v; want true, nil", ok, err)
			}
			time.Sleep(100 * time.Millisecond)
			if again, err := s.MarkSeen(ctx, "touch:k", time.Minute); err != nil || again {
				t.Fatalf("MarkSeen after Touch = %v, %v; want false (still marked)", again, err)
			}
		})
	}
}

// TestKeepReply: the answer is kept and the mark extended in one step; a
// key with no mark still gets its answer kept and its mark made again,
// and reports false; the
// members of each removal leave their set in that step.
func TestKeepReply(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if ok, err := s.MarkSeen(ctx, "keep:k", 50*time.Millisecond); err != nil || !ok {
				t.Fatalf("MarkSeen = %v, %v", ok, err)
			}
			if marked, err := s.KeepReply(ctx, "keep:k", []byte("answer"), time.Minute); err != nil || !marked {
				t.Fatalf("KeepReply = %v, %v; want true, nil", marked, err)
			}
			time.Sleep(100 * time.Millisecond)
			if again, err := s.MarkSeen(ctx, "keep:k", time.Minute); err != nil || again {
				t.Fatalf("MarkSeen after KeepReply = %v, %v; want false (the mark extended)", again, err)
			}
			if b, ok, err := s.GetReply(ctx, "keep:k"); err != nil || !ok || string(b) != "answer" {
				t.Fatalf("GetReply = %q, %v, %v; want the answer", b, ok, err)
			}
			if marked, err := s.KeepReply(ctx, "keep:none", []byte("other"), time.Minute); err != nil || marked {
				t.Fatalf("KeepReply of an unmarked key = %v, %v; want false, nil", marked, err)
			}
			if b, ok, err := s.GetReply(ctx, "keep:none"); err != nil || !ok || string(b) != "other" {
				t.Fatalf("GetReply of the unmarked key = %q, %v, %v; want its answer kept", b, ok, err)
			}
			// Its mark is made again: a duplicate gets the kept answer.
			if again, err := s.MarkSeen(ctx, "keep:none", time.Minute); err != nil || again {
				t.Fatalf("MarkSeen after KeepReply of an unmarked key = %v, %v; want false (marked again)", again, err)
			}
			// With removals: their members leave their sets in the same step.
			if err := s.SetAdd(ctx, "keep:owed", time.Minute, "a", "b", "c"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.KeepReply(ctx, "keep:settled", []byte("kept"), time.Minute,
				store.SetRemoval{Set: "keep:owed", Members: []string{"a", "c"}}, store.SetRemoval{Set: "keep:absent", Members: []string{"x"}}); err != nil {
				t.Fatalf("KeepReply with removals: %v", err)
			}
			if m, err := s.SetMembers(ctx, "keep:owed"); err != nil || len(m) != 1 || m[0] != "b" {
				t.Fatalf("set after KeepReply with removals = %v, %v; want [b]", m, err)
			}
			if b, ok, err := s.GetReply(ctx, "keep:settled"); err != nil || !ok || string(b) != "kept" {
				t.Fatalf("GetReply after KeepReply with removals = %q, %v, %v", b, ok, err)
			}
		})
	}
}

// TestSets: named sets add, list (sorted) and remove members; an empty
// addition changes nothing.
func TestSets(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if got, err := s.SetMembers(ctx, "none"); err != nil || len(got) != 0 {
				t.Fatalf("members of a missing set = %v, %v", got, err)
			}
			if err := s.SetAdd(ctx, "nominated:FCG71", time.Hour, "B", "A", "C"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetRemove(ctx, "nominated:FCG71", "B"); err != nil {
				t.Fatal(err)
			}
			got, err := s.SetMembers(ctx, "nominated:FCG71")
			if err != nil || strings.Join(got, ",") != "A,C" {
				t.Fatalf("members = %v, %v; want A,C", got, err)
			}
			// An addition of no members writes nothing: it neither makes a
			// set nor gives one a new ttl (Redis keeps no empty set; the
			// memory store once shortened the set's life to the ttl given).
			if err := s.SetAdd(ctx, "nominated:FCG71", time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
			if got, err := s.SetMembers(ctx, "nominated:FCG71"); err != nil || strings.Join(got, ",") != "A,C" {
				t.Fatalf("members after an empty addition = %v, %v; want A,C kept for their hour", got, err)
			}
		})
	}
}

// replyReserver is what both stores offer beside Store: the attempt
// record of the EPS processor in one step.
type replyReserver interface {
	ReserveReply(ctx context.Context, key string, body []byte, ttl time.Duration, adds ...store.SetAddition) ([]byte, bool, error)
}

// TestReserveReply: the first reservation writes the reply and the set
// members; a second finds the first's reply and writes nothing.
func TestReserveReply(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			r := s.(replyReserver)
			got, found, err := r.ReserveReply(ctx, "k", []byte("first"), time.Hour,
				store.SetAddition{Set: "nom", TTL: time.Hour, Members: []string{"RX1"}}, store.SetAddition{Set: "empty", TTL: time.Hour})
			if err != nil || found || got != nil {
				t.Fatalf("first reservation = %q, %v, %v; want nothing found", got, found, err)
			}
			got, found, err = r.ReserveReply(ctx, "k", []byte("second"), time.Hour,
				store.SetAddition{Set: "nom", TTL: time.Hour, Members: []string{"RX2"}})
			if err != nil || !found || string(got) != "first" {
				t.Fatalf("second reservation = %q, %v, %v; want the first's reply", got, found, err)
			}
			if b, ok, err := s.GetReply(ctx, "k"); err != nil || !ok || string(b) != "first" {
				t.Fatalf("GetReply = %q, %v, %v", b, ok, err)
			}
			if m, err := s.SetMembers(ctx, "nom"); err != nil || len(m) != 1 || m[0] != "RX1" {
				t.Fatalf("set members %v, %v; want only the first reservation's", m, err)
			}
			if m, _ := s.SetMembers(ctx, "empty"); len(m) != 0 {
				t.Fatalf("an addition without members made %v", m)
			}
		})
	}
}

// TestZeroTTL: a mark or a reply given no time (0, or less than the
// millisecond Redis counts in) lasts at most a millisecond in both stores;
// Redis once kept it for ever (go-redis's SET with no expiry).
func TestZeroTTL(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			for _, ttl := range []time.Duration{0, -time.Second, 300 * time.Microsecond} {
				key := fmt.Sprint("zero:", ttl)
				if ok, err := s.MarkSeen(ctx, key, ttl); err != nil || !ok {
					t.Fatalf("MarkSeen(%s) = %v, %v", ttl, ok, err)
				}
				if err := s.PutReply(ctx, key, []byte("r"), ttl); err != nil {
					t.Fatal(err)
				}
				if _, err := s.KeepReply(ctx, key+":kept", []byte("k"), ttl); err != nil {
					t.Fatal(err)
				}
				time.Sleep(20 * time.Millisecond)
				if ok, err := s.MarkSeen(ctx, key, time.Minute); err != nil || !ok {
					t.Errorf("MarkSeen after a mark of ttl %s = %v, %v; want fresh (the mark gone)", ttl, ok, err)
				}
				for _, k := range []string{key, key + ":kept"} {
					if b, ok, err := s.GetReply(ctx, k); err != nil || ok {
						t.Errorf("GetReply(%s) after a reply of ttl %s = %q, %v, %v; want none", k, ttl, b, ok, err)
					}
				}
			}
		})
	}
}
