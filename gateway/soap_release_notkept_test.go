package gateway

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/store/redistest"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// keepFails is a Redis store whose first KeepReply with removals (the
// SOAP door keeping a release answer) is applied by Redis and fails all
// the same, as fault makes it: its replies lost on every try, or its
// replica frozen past the wait (ErrNotReplicated).
type keepFails struct {
	*store.Redis
	fault  func(key string) (undo func())
	once   sync.Once
	failed chan error
}

// KeepReply implements store.Store.
func (k *keepFails) KeepReply(ctx context.Context, key string, body []byte, ttl time.Duration, removals ...store.SetRemoval) (bool, error) {
	first := false
	if len(removals) > 0 {
		k.once.Do(func() { first = true })
	}
	if !first {
		return k.Redis.KeepReply(ctx, key, body, ttl, removals...)
	}
	undo := k.fault(key)
	touched, err := k.Redis.KeepReply(ctx, key, body, ttl, removals...)
	undo()
	k.failed <- err
	return touched, err
}

// TestSOAPReleaseAnswerNotKeptStaysOwed: the SOAP door keeps a nominated
// release answer for a retry (KeepReply, which takes its prescriptions
// off those owed to the pharmacy in the same step) and the store reports
// a failure though Redis applied it: its replies lost on every try, or
// (--redis-wait-replicas) the replica not confirming in time
// (ErrNotReplicated). The door answers a retryable fault and the
// prescriptions must stay owed, as it says: the pharmacy gets the
// prescription exactly once, from the retry under the same wsa:MessageID
// or its next release. Before, they were taken off those owed all the
// same: the retry was answered without them and the next release did not
// have them either: stranded with the pharmacy.
func TestSOAPReleaseAnswerNotKeptStaysOwed(t *testing.T) {
	cases := []struct {
		name string
		open func(t *testing.T) *keepFails
	}{
		{"replies lost", func(t *testing.T) *keepFails {
			proxy := redistest.StartProxy(t, redistest.Start(t))
			r, err := store.NewRedis(proxy.URL(), "gw:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			return &keepFails{Redis: r, fault: func(key string) func() {
				proxy.LoseReplies("reply:"+key, 10) // more than the client's retries
				return func() { proxy.LoseReplies("", 0) }
			}}
		}},
		{"replica lagging", func(t *testing.T) *keepFails {
			master, replicas := redistest.StartReplicated(t, 1)
			// Every write waits for the replica, not only the one under
			// the fault: the bound is for a loaded machine's replica to
			// confirm the others (at 300 ms the submission's outcome record
			// failed ErrNotReplicated once in 180 runs under load). The
			// fault's replica is frozen and never confirms, so its write
			// fails at any bound; redistest.ReplicaWait stays under the
			// client's read timeout, so it fails as ErrNotReplicated, not a
			// lost reply.
			r, err := store.OpenRedis(store.RedisOptions{URL: master.URL(), WaitReplicas: 1, WaitTimeout: redistest.ReplicaWait}, "gw:")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			return &keepFails{Redis: r, fault: func(string) func() {
				replicas[0].Pause(t)
				return replicas[0].Resume
			}}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, client := startSim(t)
			st := c.open(t)
			st.failed = make(chan error, 1)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, proc, fmt.Sprintf("F5000000-0000-4000-8000-00000000%02dE1", 30+i))
			g := startGateway(t, testConfig(), st, true, asRunWraps(t, proc)...)
			payload := soapReleaseFCG71(t)

			firstID := fmt.Sprintf("F5000000-0000-4000-8000-00000000%02dA1", 30+i)
			delivered := 0
			code, body := sendSOAP(t, g.base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload))
			if strings.Contains(string(body), rxID) {
				delivered++
			}
			select {
			case err := <-st.failed:
				if err == nil {
					t.Fatal("KeepReply did not fail under the fault")
				}
			default:
				t.Fatalf("the release answer was not kept with removals (%d)\n%.400s", code, body)
			}
			for _, id := range []string{firstID, fmt.Sprintf("F5000000-0000-4000-8000-00000000%02dB1", 30+i), fmt.Sprintf("F5000000-0000-4000-8000-00000000%02dC1", 30+i)} {
				_, body := sendSOAPUntilAnswered(t, g.base, soapEnvelope(id, v3.NominatedReleaseRequest, payload), time.Minute)
				if strings.Contains(string(body), rxID) {
					delivered++
				}
			}
			if delivered != 1 {
				t.Fatalf("%s delivered %d times (the first answer, %d, not kept), want once", rxID, delivered, code)
			}
		})
	}
}
