package cancels

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestTrackerLostReplyRunsTwiceHarmlessly: go-redis sends a script again
// when its connection breaks before the reply has come, though Redis may
// have run it. Each tracker write whose reply is lost once after Redis
// ran it (a real redis-server behind a proxy that drops the connection as
// the reply comes back) must answer as it would have without the fault.
// Before, a Resolve or a claim (Due) found the record resolved or leased,
// by the call itself, and answered "resolved meanwhile" or nothing due:
// the Subsequent Cancel Response waited out the lease (30 s by default)
// before the poller sent it. Then Track answered "tracked already",
// Reschedule and Complete "lease lost" (the response queued was logged as
// taken over by another replica, and went uncounted).
func TestTrackerLostReplyRunsTwiceHarmlessly(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// claim leases the record r, due at t0, as the poller does.
	claim := func(tr *Redis, r Record) (Claim, error) {
		cs, err := tr.Due(ctx, t0.Add(time.Minute), 1)
		if err != nil || len(cs) != 1 {
			return Claim{}, fmt.Errorf("Due = %d claims, %v", len(cs), err)
		}
		return cs[0], nil
	}
	cases := []struct {
		name string
		// op runs the operation on the record r (tracked first unless
		// untracked), calling arm just before it, and reports which
		// record it handed over or answered for ("" for none).
		op        func(tr *Redis, r Record, arm func()) (string, error)
		untracked bool
	}{
		{"Track", func(tr *Redis, r Record, arm func()) (string, error) {
			arm()
			added, err := tr.Track(ctx, r)
			if !added {
				return "", err
			}
			return r.Key(), err
		}, true},
		{"Resolve", func(tr *Redis, r Record, arm func()) (string, error) {
			arm()
			c, ok, err := tr.Resolve(ctx, r.PrescriptionID, r.LineItem, Outcome{Code: "0001", Source: "test", At: t0}, t0)
			if !ok {
				return "", err
			}
			return c.Key(), err
		}, false},
		{"Due", func(tr *Redis, r Record, arm func()) (string, error) {
			arm()
			c, err := claim(tr, r)
			return c.Key(), err
		}, false},
		{"Reschedule", func(tr *Redis, r Record, arm func()) (string, error) {
			c, err := claim(tr, r)
			if err != nil {
				return "", err
			}
			arm()
			_, err = tr.Reschedule(ctx, c, t0.Add(time.Minute), "EPS tracker unavailable")
			return c.Key(), err
		}, false},
		{"Complete", func(tr *Redis, r Record, arm func()) (string, error) {
			c, err := claim(tr, r)
			if err != nil {
				return "", err
			}
			arm()
			return c.Key(), tr.Complete(ctx, c)
		}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, fault := range []bool{false, true} {
				client := redis.NewClient(&redis.Options{Addr: proxy.Addr})
				defer client.Close()
				tr := NewRedis(client, fmt.Sprintf("rerun%d-%v:", i, fault), Options{})
				r := rec("P"+strings.Repeat("0", 5)+fmt.Sprint(i), i, t0)
				r.NextPoll = t0
				if !c.untracked {
					if added, err := tr.Track(ctx, r); err != nil || !added {
						t.Fatalf("Track = %v, %v", added, err)
					}
				}
				lost := proxy.Lost()
				got, err := c.op(tr, r, func() {
					if fault {
						proxy.LoseReply(recordKey(r.PrescriptionID, r.LineItem))
					}
				})
				if fault && proxy.Lost() != lost+1 {
					t.Fatalf("the proxy lost %d replies, want 1: the fault did not happen", proxy.Lost()-lost)
				}
				if want := r.Key(); got != want || err != nil {
					t.Errorf("%s (reply lost: %v) = %q, %v; want %q", c.name, fault, got, err, want)
				}
			}
		})
	}
}
