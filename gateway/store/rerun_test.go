package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// rerunCase is one store operation whose reply the proxy loses after
// Redis has run it, so that go-redis sends it again on a new connection.
type rerunCase struct {
	name string
	// prepare writes what the operation needs, through the proxy before
	// it is armed, and returns the pattern that names the operation's
	// command (a key or argument only it carries).
	prepare func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) (pattern string)
	// op runs the operation and describes its answer.
	op func(ctx context.Context, s *store.Redis, now time.Time) string
	// want is the answer the operation gives when its reply is not lost.
	want string
	// afterQueue, when set, names the queue whose items due are claimed
	// after the operation, and wantAfter lists them as they are without
	// the fault.
	afterQueue string
	wantAfter  string
}

// rerunCases are the store's writes that are not idempotent by nature:
// run twice, the second run finds the first one's writes.
func rerunCases() []rerunCase {
	var lease *store.Lease // the lease a case's prepare took
	claim := func(t *testing.T, ctx context.Context, s *store.Redis, queue string, now time.Time) *store.Lease {
		t.Helper()
		if err := s.Enqueue(ctx, item(queue, "x", "x-data", now)); err != nil {
			t.Fatal(err)
		}
		l, err := s.Claim(ctx, queue, now, time.Minute)
		if err != nil || l == nil {
			t.Fatalf("Claim = %v, %v", l, err)
		}
		return l
	}
	// leaseIn is the prepare of an operation on a lease: an item of queue
	// claimed, the lease's token its pattern.
	leaseIn := func(queue string) func(*testing.T, context.Context, *store.Redis, time.Time) string {
		return func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
			lease = claim(t, ctx, s, queue, now)
			return lease.Token
		}
	}
	errString := func(err error) string {
		if err == nil {
			return "ok"
		}
		return err.Error()
	}
	return []rerunCase{
		{
			name: "Accept held",
			prepare: func(*testing.T, context.Context, *store.Redis, time.Time) string {
				return "seen:accept-held"
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				it := item("inbox", "m1", "m1-data", now.Add(time.Minute))
				it.Token = "handed-token"
				fresh, err := s.Accept(ctx, "accept-held", time.Hour, it)
				return fmt.Sprintf("fresh %v, %s", fresh, errString(err))
			},
			want: "fresh true, ok",
		},
		{
			name: "Accept",
			prepare: func(*testing.T, context.Context, *store.Redis, time.Time) string {
				return "seen:accept-plain"
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				fresh, err := s.Accept(ctx, "accept-plain", time.Hour, item("acc", "m2", "m2-data", now))
				return fmt.Sprintf("fresh %v, %s", fresh, errString(err))
			},
			want:       "fresh true, ok",
			afterQueue: "acc",
			wantAfter:  "[m2=m2-data]",
		},
		{
			name: "AcceptFrom, another party's message in hand",
			prepare: func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
				it := item("inbox", "m3", "first", now)
				it.Party = "P1"
				if err := s.Enqueue(ctx, it); err != nil {
					t.Fatal(err)
				}
				return "seen:accept-other"
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				it := item("inbox", "m3", "other's", now)
				it.Party = "P2"
				a, err := s.AcceptFrom(ctx, "accept-other", "P2", time.Hour, it)
				party, marked, _ := s.TouchMark(ctx, "accept-other", time.Hour)
				return fmt.Sprintf("%+v, %s, marked %v %q", a, errString(err), marked, party)
			},
			want:       `{Fresh:false Party:P1}, ok, marked false ""`,
			afterQueue: "inbox",
			wantAfter:  "[m3=first]",
		},
		{
			name: "AcceptFrom held, its own party's message in hand",
			prepare: func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
				it := item("inbox", "m4", "first", now)
				it.Party = "P1"
				if err := s.Enqueue(ctx, it); err != nil {
					t.Fatal(err)
				}
				return "seen:accept-own"
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				it := item("inbox", "m4", "again", now.Add(time.Minute))
				it.Party, it.Token = "P1", "handed-own"
				a, err := s.AcceptFrom(ctx, "accept-own", "P1", time.Hour, it)
				return fmt.Sprintf("%+v, %s", a, errString(err))
			},
			want:       `{Fresh:false Party:P1}, ok`,
			afterQueue: "inbox",
			wantAfter:  "[m4=first]",
		},
		{
			// An item over stagedItemMin goes in the pipeline before the
			// script, written apart: sent again whole, it is written
			// again and renamed into place once.
			name: "Accept held, a big item",
			prepare: func(*testing.T, context.Context, *store.Redis, time.Time) string {
				return "seen:accept-big"
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				it := item("accbig", "mb", bigData("mb"), now)
				it.Token = "handed-big"
				fresh, err := s.Accept(ctx, "accept-big", time.Hour, it)
				return fmt.Sprintf("fresh %v, %s, %s", fresh, errString(err), stagedLeft(ctx, s))
			},
			want: "fresh true, ok, none staged",
			// Held until now (its lease's end), then claimed whole.
			afterQueue: "accbig",
			wantAfter:  "[mb=" + bigData("mb") + "]",
		},
		{
			name: "MarkSeen",
			prepare: func(*testing.T, context.Context, *store.Redis, time.Time) string {
				return "seen:mark"
			},
			op: func(ctx context.Context, s *store.Redis, _ time.Time) string {
				fresh, err := s.MarkSeen(ctx, "mark", time.Hour)
				return fmt.Sprintf("fresh %v, %s", fresh, errString(err))
			},
			want: "fresh true, ok",
		},
		{
			name: "Claim",
			prepare: func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
				if err := s.Enqueue(ctx, item("claimq", "a", "a-data", now.Add(-time.Second)), item("claimq", "b", "b-data", now)); err != nil {
					t.Fatal(err)
				}
				return "q:claimq:due"
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				l, err := s.Claim(ctx, "claimq", now, time.Minute)
				if err != nil || l == nil {
					return fmt.Sprintf("%v, %v", l, err)
				}
				return l.ID + "=" + string(l.Data)
			},
			want: "a=a-data",
			// The item not claimed is still there to be claimed.
			afterQueue: "claimq",
			wantAfter:  "[b=b-data]",
		},
		{
			name:    "Retry",
			prepare: leaseIn("retryq"),
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				return errString(s.Retry(ctx, lease, []byte("x-again"), now))
			},
			want:       "ok",
			afterQueue: "retryq",
			wantAfter:  "[x=x-again]",
		},
		{
			name:    "Complete",
			prepare: leaseIn("completeq"),
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				answer := item("completeout", "answer", "answer-data", now.Add(time.Minute))
				answer.Token = "handed-answer"
				return errString(s.Complete(ctx, lease, store.Finish{Enqueue: []store.Item{answer}}))
			},
			want: "ok",
		},
		{
			name: "CompleteClaim",
			prepare: func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
				lease = claim(t, ctx, s, "completeclaimq", now)
				if err := s.Enqueue(ctx, item("completeclaimq", "y", "y-data", now.Add(-time.Second)), item("completeclaimq", "z", "z-data", now)); err != nil {
					t.Fatal(err)
				}
				return lease.Token
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				answer := item("completeout", "answer", "answer-data", now.Add(time.Minute))
				answer.Token = "handed-answer"
				next, err := s.CompleteClaim(ctx, lease, store.Finish{Enqueue: []store.Item{answer}}, now, time.Minute)
				if err != nil || next == nil {
					return fmt.Sprintf("%v, %v", next, err)
				}
				return fmt.Sprintf("%s=%s more %v", next.ID, next.Data, next.More)
			},
			// The lease ended once, the next item claimed once: the other
			// is still there to be claimed.
			want:       "y=y-data more true",
			afterQueue: "completeclaimq",
			wantAfter:  "[z=z-data]",
		},
		{
			name:    "Complete, a big answer queued",
			prepare: leaseIn("completebigq"),
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				err := s.Complete(ctx, lease, store.Finish{Enqueue: []store.Item{item("completebigout", "answer", bigData("answer"), now)}})
				return fmt.Sprintf("%s, %s", errString(err), stagedLeft(ctx, s))
			},
			want:       "ok, none staged",
			afterQueue: "completebigout",
			wantAfter:  "[answer=" + bigData("answer") + "]",
		},
		{
			name: "Drop",
			prepare: func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
				if err := s.Enqueue(ctx, item("dropq", "acked", "acked-data", now.Add(time.Hour))); err != nil {
					t.Fatal(err)
				}
				return "q:dropq:item:acked"
			},
			op: func(ctx context.Context, s *store.Redis, _ time.Time) string {
				found, err := s.Drop(ctx, "dropq", "acked")
				return fmt.Sprintf("found %v, %s", found, errString(err))
			},
			want: "found true, ok",
		},
		{
			name: "ReserveReply",
			prepare: func(*testing.T, context.Context, *store.Redis, time.Time) string {
				return "reply:reserve"
			},
			op: func(ctx context.Context, s *store.Redis, _ time.Time) string {
				kept, found, err := s.ReserveReply(ctx, "reserve", []byte(`{"attempt":1}`), time.Hour,
					store.SetAddition{Set: "nominated", TTL: time.Hour, Members: []string{"p1"}})
				return fmt.Sprintf("kept %q, found %v, %s", kept, found, errString(err))
			},
			want: `kept "", found false, ok`,
		},
		{
			name: "Requeue",
			prepare: func(t *testing.T, ctx context.Context, s *store.Redis, now time.Time) string {
				l := claim(t, ctx, s, "requeueq", now)
				if err := s.Complete(ctx, l, store.Finish{DeadLetter: []byte(`{"dead":"requeue"}`)}); err != nil {
					t.Fatal(err)
				}
				return `{"dead":"requeue"}`
			},
			op: func(ctx context.Context, s *store.Redis, now time.Time) string {
				ok, err := s.Requeue(ctx, []byte(`{"dead":"requeue"}`), item("requeueq", "x-resent", "x-data", now))
				return fmt.Sprintf("requeued %v, %s", ok, errString(err))
			},
			want:       "requeued true, ok",
			afterQueue: "requeueq",
			wantAfter:  "[x-resent=x-data]",
		},
	}
}

// bigData is an item's data bigger than the store writes as a script's
// argument (stagedItemMin), starting with name.
func bigData(name string) string {
	return name + strings.Repeat("-0123456789abcdef", 256)
}

// stagedLeft names the items written before a script that are still
// there ("none staged" when none is): each script renames or deletes
// those of its call.
func stagedLeft(ctx context.Context, s *store.Redis) string {
	keys, err := s.Client().Keys(ctx, s.Prefix()+"q:*:staged:*").Result()
	if err != nil {
		return err.Error()
	}
	if len(keys) == 0 {
		return "none staged"
	}
	return fmt.Sprint("staged left: ", keys)
}

// queued claims the items of a queue that are due now and lists them
// (id=data), sorted.
func queued(ctx context.Context, s *store.Redis, queue string, now time.Time) string {
	var out []string
	for {
		l, err := s.Claim(ctx, queue, now, time.Minute)
		if err != nil {
			return "claim: " + err.Error()
		}
		if l == nil {
			break
		}
		out = append(out, l.ID+"="+string(l.Data))
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// TestLostReplyRunsTwiceHarmlessly: go-redis sends a command again when
// the connection breaks before its reply has come (MaxRetries; the
// pipelines of scripts too, whole), though Redis may have run it. Each
// of the store's writes that is not idempotent by nature, its reply lost
// once after Redis ran it (a real redis-server behind a proxy that drops
// the connection as the reply comes back), must answer as it would have
// without the fault, and leave the same state. Before, a lost reply
// turned an accepted message into a duplicate (a message handed to an
// idle worker then waited out the lease, 30 s by default, before anyone
// processed it, and was logged as "not processed again"), a Complete or
// Retry into a lost lease (its answer's handover dropped, the delivery
// reported as taken over), a Claim into the next item's claim (the first
// stranded for the lease), a ReserveReply into the record of an earlier
// attempt whose answer is unknown, a Requeue into a resend "by someone
// else", and a SOAP request's mark into a duplicate of itself.
func TestLostReplyRunsTwiceHarmlessly(t *testing.T) {
	srv := redistest.Start(t)
	master, _ := redistest.StartReplicated(t, 1)
	kinds := []struct {
		name  string
		proxy *redistest.Proxy
		open  func(url, prefix string) (*store.Redis, error)
	}{
		{"redis", redistest.StartProxy(t, srv), store.NewRedis},
		// With WaitReplicas each script goes in a pipeline with WAIT,
		// which go-redis sends again whole.
		{"wait-replicas", redistest.StartProxy(t, master), func(url, prefix string) (*store.Redis, error) {
			return store.OpenRedis(store.RedisOptions{URL: url, WaitReplicas: 1, WaitTimeout: redistest.ReplicaWait}, prefix)
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	now := time.Now().Truncate(time.Millisecond)
	for _, k := range kinds {
		for i, c := range rerunCases() {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				// Without the fault first: the answer and state the faulted
				// run must give (and the script is loaded, so that the reply
				// lost is the run's, not a NOSCRIPT).
				for _, fault := range []bool{false, true} {
					s, err := k.open(k.proxy.URL(), fmt.Sprintf("rerun%d-%v:", i, fault))
					if err != nil {
						t.Fatal(err)
					}
					defer s.Close()
					pattern := c.prepare(t, ctx, s, now)
					lost := k.proxy.Lost()
					if fault {
						k.proxy.LoseReply(pattern)
					}
					got := c.op(ctx, s, now)
					if fault && k.proxy.Lost() != lost+1 {
						t.Fatalf("the proxy lost %d replies, want 1: the fault did not happen", k.proxy.Lost()-lost)
					}
					how := "without a fault"
					if fault {
						how = "its reply lost once and the command sent again"
					}
					if got != c.want {
						t.Errorf("%s, %s: %s; want %s", c.name, how, got, c.want)
					}
					if c.afterQueue != "" {
						if after := queued(ctx, s, c.afterQueue, now); after != c.wantAfter {
							t.Errorf("%s, %s: then %s; want %s", c.name, how, after, c.wantAfter)
						}
					}
				}
			})
		}
	}
}
