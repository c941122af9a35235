package gateway

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSOAPRetryMessageIDOtherCase: a sender that retries its nominated
// release under its wsa:MessageID written in the other letter case (a
// UUID's hex digits are read without regard to case, RFC 4122 §3) gets
// the prescriptions EPS released to the first attempt, once: whether the
// first answer was written (and lost on the way to the sender) or the
// gateway died before writing it. Before, the retry was taken as a new
// request and answered without them: stranded with the pharmacy, or
// delayed to its next release.
func TestSOAPRetryMessageIDOtherCase(t *testing.T) {
	const (
		firstID = "F5000000-0000-4000-8000-00000000CAA1"
		laterID = "F5000000-0000-4000-8000-00000000CAC1"
	)
	for _, tc := range []struct {
		name  string
		crash bool // the gateway dies before it writes the first answer
	}{
		{"first answer written", false},
		{"gateway died before writing it", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, client := startSim(t)
			_, newStore := redisStore(t)
			first := newStore()
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(first, time.Hour)
			submitNominated(t, proc, "F5000000-0000-4000-8000-00000000CAE1")
			payload := soapReleaseFCG71(t)
			base := ""
			if tc.crash {
				frozen := newFrozenAfter(PartyScoped(proc))
				a := startGateway(t, testConfig(), first, true, WithProcessor(frozen))
				t.Cleanup(func() { close(frozen.dead) }) // before a stops
				crashMidRelease(t, s, a.base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload), frozen.answered, first)
				st := newStore()
				next := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
				base = startGateway(t, testConfig(), st, false, asRunWraps(t, next)...).base
			} else {
				base = startGateway(t, testConfig(), first, true, asRunWraps(t, proc)...).base
				code, body := sendSOAP(t, base, soapEnvelope(firstID, v3.NominatedReleaseRequest, payload))
				if code != http.StatusOK || !strings.Contains(string(body), rxID) {
					t.Fatalf("first release = %d without %s\n%.600s", code, rxID, body)
				}
			}

			retry := soapEnvelope(strings.ToLower(firstID), v3.NominatedReleaseRequest, payload)
			code, body := sendSOAPUntilAnswered(t, base, retry, time.Minute)
			if code != http.StatusOK || !strings.Contains(string(body), rxID) {
				t.Fatalf("retry under %s = %d without %s, which EPS released to the first attempt\n%.600s",
					strings.ToLower(firstID), code, rxID, body)
			}
			code, body = sendSOAPUntilAnswered(t, base, soapEnvelope(laterID, v3.NominatedReleaseRequest, payload), time.Minute)
			if strings.Contains(string(body), rxID) {
				t.Fatalf("the pharmacy's next release (%d) delivered %s a second time\n%.600s", code, rxID, body)
			}
		})
	}
}
