package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// deliveredWith returns how many of the messages the MHS took (index from
// on) carry want in their payload.
func deliveredWith(m *fakeMHS, from int, want string) int {
	n := 0
	for _, r := range m.messages()[from:] {
		if r.msg != nil && r.msg.Payload != nil && strings.Contains(string(r.msg.Payload.Body), want) {
			n++
		}
	}
	return n
}

// releaseAnswered sends the gateway at base FCG71's nominated release
// (message n) and waits until the MHS has its answer (among the messages
// from index from on).
func releaseAnswered(t *testing.T, base string, mhs *fakeMHS, from, n int) {
	t.Helper()
	next := newReq(newID(t, n))
	next.action, next.payload = v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)
	if code, body := sendEb(t, base, next); code != 202 {
		t.Fatalf("release POST = %d\n%s", code, body)
	}
	waitFor(t, "the answer to the release", func() bool {
		for _, r := range mhs.messages()[from:] {
			if r.msg != nil && r.msg.RefToMessageID == next.messageID {
				return true
			}
		}
		return false
	})
}

// releaseFlow is FCG71's nominated prescription submitted to EPS (the
// simulator) through proc, and a gateway on a real redis-server (st)
// delivering to the pharmacy's MHS over routes.
type releaseFlow struct {
	sim    *sim.Server
	st     store.Store
	proc   *EPSProcessor
	mhs    *fakeMHS
	routes *outbox.Routes
	g      *gw
}

// startReleaseFlow starts a releaseFlow: the prescription submitted under
// rxMessageID, the MHS answering in mode, routes with routeExtra.
func startReleaseFlow(t *testing.T, rxMessageID, mode, routeExtra string) *releaseFlow {
	t.Helper()
	return startReleaseFlowAs(t, rxMessageID, mode, routeExtra, asRunWraps)
}

// startReleaseFlowAs is startReleaseFlow with the processor served as
// wrap serves it (asRunWraps, asComparingPrimary).
func startReleaseFlowAs(t *testing.T, rxMessageID, mode, routeExtra string, wrap func(*testing.T, Processor) []Option) *releaseFlow {
	t.Helper()
	s, client := startSim(t)
	st, _ := redisStore(t)
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, proc, rxMessageID)
	mhs := startMHS(t, mode)
	routes := routesTo(t, mhs.srv.URL, routeExtra)
	g := startGateway(t, testConfig(), st, false, append(wrap(t, proc), WithRoutes(routes))...)
	return &releaseFlow{sim: s, st: st, proc: proc, mhs: mhs, routes: routes, g: g}
}

// TestUndeliveredReleaseAnswerIsNotStranded: EPS releases the pharmacy's
// nominated prescription and porxgate records the answer, but the
// pharmacy's MHS does not take it (failing, then dead-lettered). EPS holds
// the prescription with the pharmacy, which never saw it. The pharmacy's
// next nominated release delivers it, and an operator's resend of the dead
// letter afterwards does not deliver it a second time. So it is also in
// comparison mode with the FHIR path primary (before, comparison mode hid
// the processor's note of an undelivered answer: stranded).
func TestUndeliveredReleaseAnswerIsNotStranded(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(*testing.T, Processor) []Option
	}{
		{"as Run wraps it", asRunWraps},
		{"in comparison mode, FHIR path primary", asComparingPrimary},
	} {
		t.Run(tc.name, func(t *testing.T) { testUndeliveredReleaseAnswerIsNotStranded(t, tc.wrap) })
	}
}

func testUndeliveredReleaseAnswerIsNotStranded(t *testing.T, wrap func(*testing.T, Processor) []Option) {
	f := startReleaseFlowAs(t, "F4000000-0000-4000-8000-000000000002", "fail", `, "retries": 1`, wrap)
	s, mhs, g := f.sim, f.mhs, f.g

	request := nominatedReleaseFCG71(t)
	first := newReq(newID(t, 41))
	first.action, first.payload = v3.NominatedReleaseRequest, request
	if code, body := sendEb(t, g.base, first); code != 202 {
		t.Fatalf("release POST = %d\n%s", code, body)
	}
	dls := waitDeadLetters(t, g, 1)
	if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
	}
	if deliveredWith(mhs, 0, rxID) == 0 {
		t.Fatalf("the release answer never carried %s", rxID)
	}
	mhs.setMode("ack")
	mark := len(mhs.messages())

	releaseAnswered(t, g.base, mhs, mark, 42)
	if deliveredWith(mhs, mark, rxID) != 1 {
		t.Fatalf("the pharmacy's next release did not deliver %s, released to it in an answer its MHS never took: stranded", rxID)
	}

	code, out := postJSON(t, g.adminBase(t)+PathDeadLetterResend, map[string]string{"id": dls[0].ID})
	var res ResendResult
	// 409: nothing resent (each skipped, with why), as an owed release
	// response is; 200: resent.
	if (code != 200 && code != 409) || json.Unmarshal(out, &res) != nil || (code == 409) != (len(res.Resent) == 0) {
		t.Fatalf("resend = %d %s", code, out)
	}
	if len(res.Resent) > 0 { // then the MHS gets it: wait for it
		waitFor(t, "the resent dead letter", func() bool {
			for _, r := range mhs.messages()[mark:] {
				if r.msg != nil && r.msg.MessageID == dls[0].MessageID {
					return true
				}
			}
			return false
		})
	}
	if n := deliveredWith(mhs, mark, rxID); n != 1 {
		t.Fatalf("%s delivered %d times after the dead letter was resent, want once\n%s", rxID, n, out)
	}
}
