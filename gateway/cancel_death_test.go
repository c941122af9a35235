package gateway

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancellationForDeathCarriedOutUnanswered: a Cancel Request for the
// patient's death (reason 0007, Notification of Death) of an item with a
// dispenser is answered pending (0002) and tracked; when the dispenser
// returns the prescription the cancellation is carried out, and Spine then
// sends no Subsequent Cancel Response (eps-spine-shared common.py:
// apply_all_cancellations skips is_death), so neither does porxgate: the
// tracking ends with no answer. A cancellation for another reason is
// answered (TestCancellationResolvedByReturn). Real sockets, real Redis.
func TestCancellationForDeathCarriedOutUnanswered(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	g, c := startFlowGateway(t, f, st, cancelTestOptions(time.Hour, 2*time.Second), nil)
	death := strings.Replace(string(legacyCancel(t, rxFixture)),
		`<text>Prescribing Error</text>
            <value code="0001" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27"/>`,
		`<text>Notification of Death</text>
            <value code="0007" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27"/>`, 1)
	if !strings.Contains(death, `code="0007" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27"`) {
		t.Fatal("the cancel request's reason was not replaced")
	}
	f.prescribeReleaseCancelWith(t, g, []byte(death))
	if _, err := trackedRecord(t, c.Tracker()); err != nil {
		t.Fatalf("pending cancellation not tracked: %v", err)
	}

	f.send(t, g, 3, dispenserParty, dispenserCPA, v3.DispenseProposalReturn, legacyReturn(t, rxID))
	waitFor(t, "the return's MCCI answer", func() bool { return len(byAction(f.dispenser, mcciAck)) == 1 })
	if tc, _ := ackOf(t, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body); tc != "AA" {
		t.Fatalf("return answered %s, want AA", tc)
	}
	waitFor(t, "the cancellation to end", func() bool {
		_, err := trackedRecord(t, c.Tracker())
		return errors.Is(err, cancels.ErrNotFound)
	})
	time.Sleep(settleQuiet)
	if subs := byAction(f.prescriber, v3.SubsequentCancelResponse); len(subs) != 0 {
		t.Fatalf("prescriber got %d Subsequent Cancel Responses (code %s) for a cancellation for the patient's death, want none",
			len(subs), cancelCodeOf(t, subs[0].msg.Payload.Body))
	}
}
