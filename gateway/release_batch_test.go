package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

// TestReleaseRecoveryKeepsTheBatchAt25: a pharmacy with 30 nominated
// prescriptions; its nominated release's answer (the 25 oldest, EPS's
// most) is lost, and the release processed again is answered with the
// other 5. The recovery used to merge the 25 lost ones into that answer:
// one release response of 30 prescriptions, though Spine sends at most 25
// and the response itself says so (pertinentBatchInfo code 2). Now a
// recovered prescription goes into the response only while it holds
// fewer than 25; the rest stay owed to the pharmacy and go out with its
// next nominated release. Every prescription is delivered once, in
// responses of at most 25.
func TestReleaseRecoveryKeepsTheBatchAt25(t *testing.T) {
	r := newRecoveryRig(t, recoveryClient(), 1, 0)
	const n = sim.MaxNominatedRelease + 5
	rxs := r.submit(t, n)
	first, err := r.lostRelease(t, context.Background())
	if err != nil {
		t.Fatalf("release whose answer was lost: %v", err)
	}
	next, err := r.p.Process(context.Background(), replayIn("PORX_IN060102UK30", nominatedReleaseFCG71(t)))
	if err != nil {
		t.Fatalf("the pharmacy's next release: %v", err)
	}
	delivered := map[string]int{}
	for i, out := range []*Outcome{first, next} {
		payload := string(out.Answers[0].Payload)
		in := 0
		for _, sf := range rxs {
			if strings.Contains(payload, sf) {
				delivered[sf]++
				in++
			}
		}
		if in > sim.MaxNominatedRelease {
			t.Errorf("release response %d carries %d prescriptions, more than Spine's batch of %d", i+1, in, sim.MaxNominatedRelease)
		}
	}
	for _, sf := range rxs {
		if delivered[sf] != 1 {
			t.Errorf("%s delivered %d times, want once", sf, delivered[sf])
		}
	}
}
