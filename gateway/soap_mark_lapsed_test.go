package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// lapsingMarks is a store whose SOAP in-progress marks run out within
// lapse and cannot be renewed, as when the store fails over while a
// request is in progress (its renewals fail, the new primary lacks it).
type lapsingMarks struct {
	store.Store
	lapse time.Duration
}

// MarkSeen implements store.Store.
func (l lapsingMarks) MarkSeen(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return l.Store.MarkSeen(ctx, key, min(ttl, l.lapse))
}

// Touch implements store.Store.
func (l lapsingMarks) Touch(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("store failing over")
}

// TestSOAPRetryAfterMarkLapsed: the in-progress mark of a pharmacy's
// nominated release ran out while EPS answered (its renewals failing),
// and the answer was kept and written, then lost on its way. The
// pharmacy's retry under the same wsa:MessageID gets the kept answer,
// with the prescription. Before, keeping the answer only extended a mark
// still there: the retry was taken as a new request, answered from EPS's
// record less what the kept answer had delivered (0006), and the
// prescription was stranded with the pharmacy.
func TestSOAPRetryAfterMarkLapsed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) store.Store
	}{
		{"redis", func(t *testing.T) store.Store { st, _ := redisStore(t); return st }},
		{"memory", func(*testing.T) store.Store { return store.NewMemory(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, client := startSim(t)
			st := tc.store(t)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, proc, "F5000000-0000-4000-8000-00000000BAE1")
			g := startGateway(t, testConfig(), lapsingMarks{Store: st, lapse: 200 * time.Millisecond}, true, asRunWraps(t, proc)...)
			env := soapEnvelope("F5000000-0000-4000-8000-00000000BA01", v3.NominatedReleaseRequest, soapReleaseFCG71(t))

			s.SetFaults(sim.Faults{LatencyMs: 800, Ops: []string{"release"}})
			code, body := sendSOAP(t, g.base, env)
			if code != http.StatusOK || !strings.Contains(string(body), rxID) {
				t.Fatalf("first release = %d without %s\n%.600s", code, rxID, body)
			}
			s.SetFaults(sim.Faults{})
			code, body = sendSOAP(t, g.base, env)
			if code != http.StatusOK || !strings.Contains(string(body), rxID) {
				t.Fatalf("retry under the same wsa:MessageID = %d without %s, which the kept answer delivers: stranded\n%.600s", code, rxID, body)
			}
		})
	}
}
