package store

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestRedisClaimCopiesNoData checks that a claim from Redis hands over
// the item's data as the client read it, not copied again: the bytes
// allocated by a claim (and by a completion that claims the next) of a
// 20 KB item, an inbox entry's size, are the reply's once and a little.
// Each claim allocated the data twice before.
func TestRedisClaimCopiesNoData(t *testing.T) {
	srv := redistest.Start(t)
	r := openRedis(t, srv, "claimcopy:")
	ctx := context.Background()
	data := bytes.Repeat([]byte("e"), 20<<10)
	now := time.Now()
	for _, id := range []string{"a", "b"} {
		if err := r.Enqueue(ctx, Item{Queue: "inbox", ID: id, Data: data, Due: now}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := r.Claim(ctx, "inbox", now, time.Minute)
	if err != nil || l == nil || !bytes.Equal(l.Data, data) {
		t.Fatalf("claimed %v, %v", l, err)
	}
	tests := []struct {
		name  string
		claim func() *Lease
	}{
		// Each makes the lease's item due again and claims one, both
		// items being due: the step a worker takes for the next message.
		{"claim", func() *Lease {
			if err := r.Retry(ctx, l, l.Data, now); err != nil {
				t.Fatal(err)
			}
			next, err := r.Claim(ctx, "inbox", now, time.Minute)
			if err != nil || next == nil {
				t.Fatalf("claim: %v, %v", next, err)
			}
			return next
		}},
		{"complete and claim", func() *Lease {
			// Another id, of a bounded length (l.ID+"x" each time grew
			// the keys by a byte an op, and the bytes an op with the
			// number of ops the benchmark chose).
			id := l.ID + "x"
			if strings.HasSuffix(l.ID, "x") {
				id = strings.TrimSuffix(l.ID, "x")
			}
			if err := r.Enqueue(ctx, Item{Queue: "inbox", ID: id, Data: l.Data, Due: now}); err != nil {
				t.Fatal(err)
			}
			next, err := r.CompleteClaim(ctx, l, Finish{}, now, time.Minute)
			if err != nil || next == nil {
				t.Fatalf("complete and claim: %v, %v", next, err)
			}
			return next
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			perClaim := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					l = tt.claim()
				}
			}).AllocedBytesPerOp()
			if !bytes.Equal(l.Data, data) {
				t.Fatalf("claimed %d bytes of data, want the item's %d", len(l.Data), len(data))
			}
			t.Logf("%d bytes allocated a claim of a %d-byte item", perClaim, len(data))
			if limit := int64(len(data))*8/5 + 2<<10; perClaim > limit {
				t.Errorf("%d bytes allocated a claim of a %d-byte item, want at most %d (its data once)", perClaim, len(data), limit)
			}
		})
	}
}
