package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestRoundTripsPerInteraction counts the round trips to Redis of one
// message, one at a time, from its acceptance to its answer's delivery,
// through the EPS processor wired as Run wires it (the store its outcome
// log, release index and release holds) and the simulator: a Parent
// Prescription and the Nominated Release Request that downloads it. The
// counts are pinned, by store operation, so that a change that adds a
// round trip to either says so here.
//
// A nominated release read its dispenser's owed set twice under its
// release hold (the recovery, then the taking off of what it delivered)
// and recorded EPS's answer, took the prescriptions off the nominations
// and off the owed set in separate round trips; its answer is now
// recorded and what it delivers taken off the nominations in one step
// (store.Redis.PutReplyRemoving), the owed set read once: 11 round trips
// before, 9 now.
func TestRoundTripsPerInteraction(t *testing.T) {
	srv, r := redisServerStore(t)
	reg := prometheus.NewRegistry()
	if err := InstrumentRedis(reg, r); err != nil {
		t.Fatal(err)
	}
	look := redisStoreOn(t, srv) // the test's own looks, not counted
	_, client := startSim(t)
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(r, 0)
	cfg := testConfig()
	cfg.PollInterval = time.Hour // no look at an idle queue in between: work is handed over, or woken for
	g := startGateway(t, cfg, r, false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))

	answered := func(action string) int {
		n := 0
		for _, m := range mhs.messages() {
			if m.msg != nil && m.msg.Action == action {
				n++
			}
		}
		return n
	}
	ops := func() map[string]uint64 { return redisOps(t, reg) }
	diff := func(before, after map[string]uint64) (map[string]uint64, uint64) {
		d, total := map[string]uint64{}, uint64(0)
		for op, n := range after {
			if n > before[op] {
				d[op] = n - before[op]
				total += n - before[op]
			}
		}
		return d, total
	}
	msg := 0
	// send sends one message and waits for its answer to be delivered and
	// off the outbox; it returns its round trips by op.
	send := func(action string, payload []byte, answer string) (map[string]uint64, uint64) {
		t.Helper()
		msg++
		before, want := ops(), answered(answer)+1
		req := newReq(newID(t, 300+msg))
		req.action, req.payload = action, payload
		if code, body := sendEb(t, g.base, req); code != 202 {
			t.Fatalf("%s POST = %d\n%s", action, code, body)
		}
		waitFor(t, answer+" delivered", func() bool {
			if answered(answer) != want {
				return false
			}
			in, err1 := look.QueueLen(t.Context(), inboxQueue)
			out, err2 := look.QueueLen(t.Context(), outbox.Queue)
			return err1 == nil && err2 == nil && in == 0 && out == 0
		})
		return diff(before, ops())
	}
	release := nominatedReleaseFCG71(t)
	// A first prescription and its release, to another dispenser, load
	// the scripts (EVALSHA, then EVAL once): not counted.
	warm, _ := legacyPrescription(t, "repeat-dispensing-pharmacist-endorsed.json")
	send(prescribe, warm, v3.ApplicationAcknowledgement)
	send(v3.NominatedReleaseRequest, []byte(strings.Replace(string(release), `extension="FCG71"`, `extension="FA565"`, 1)), v3.NominatedReleaseResponse)

	rx, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	tests := []struct {
		name, action string
		payload      []byte
		answer       string
		want         map[string]uint64
	}{
		{"parent prescription", prescribe, rx, v3.ApplicationAcknowledgement, map[string]uint64{
			"store.accept": 1, "store.reserve": 1, "store.put_reply": 1, "store.complete": 2,
		}},
		{"nominated release", v3.NominatedReleaseRequest, release, v3.NominatedReleaseResponse, map[string]uint64{
			"store.accept": 1, "store.reserve": 1, "store.hold": 1, "smembers": 1, "store.put_reply_removing": 1,
			"store.drop_hold": 1, "store.complete": 2, "get": 1,
		}},
	}
	for _, tt := range tests {
		got, total := send(tt.action, tt.payload, tt.answer)
		var want uint64
		for _, n := range tt.want {
			want += n
		}
		if total != want || !sameCounts(got, tt.want) {
			t.Errorf("%s: %d round trips to Redis %v; want %d %v", tt.name, total, got, want, tt.want)
		}
	}
}

// sameCounts reports whether two round-trip counts by op are equal.
func sameCounts(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for op, n := range a {
		if b[op] != n {
			return false
		}
	}
	return true
}
