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
// have run it. A Resolve or a claim (Due) whose reply is lost once after
// Redis ran it (a real redis-server behind a proxy that drops the
// connection as the reply comes back) must still hand its caller the
// cancellation it resolved or claimed. Before, the run again found the
// record resolved or leased, by the caller itself, and answered "resolved
// meanwhile" or nothing due: the Subsequent Cancel Response waited out
// the lease (30 s by default) before the poller sent it.
func TestTrackerLostReplyRunsTwiceHarmlessly(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.StartProxy(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases := []struct {
		name string
		// op runs the operation on the tracked record r and reports
		// which record it handed over ("" for none).
		op func(tr *Redis, r Record) (string, error)
	}{
		{"Resolve", func(tr *Redis, r Record) (string, error) {
			c, ok, err := tr.Resolve(ctx, r.PrescriptionID, r.LineItem, Outcome{Code: "0001", Source: "test", At: t0}, t0)
			if !ok {
				return "", err
			}
			return c.Key(), err
		}},
		{"Due", func(tr *Redis, _ Record) (string, error) {
			cs, err := tr.Due(ctx, t0.Add(time.Minute), 1)
			if len(cs) != 1 {
				return fmt.Sprint(len(cs), " claims"), err
			}
			return cs[0].Key(), err
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, fault := range []bool{false, true} {
				client := redis.NewClient(&redis.Options{Addr: proxy.Addr})
				defer client.Close()
				tr := NewRedis(client, fmt.Sprintf("rerun%d-%v:", i, fault), Options{})
				r := rec("P"+strings.Repeat("0", 5)+fmt.Sprint(i), i, t0)
				r.NextPoll = t0
				if added, err := tr.Track(ctx, r); err != nil || !added {
					t.Fatalf("Track = %v, %v", added, err)
				}
				lost := proxy.Lost()
				if fault {
					proxy.LoseReply(recordKey(r.PrescriptionID, r.LineItem))
				}
				got, err := c.op(tr, r)
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
