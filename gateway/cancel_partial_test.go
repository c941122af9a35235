package gateway

import (
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancellationPendingThroughPartialDispense: a partly dispensed item
// is still with the dispenser (eps-spine-shared statuses.py,
// ITEM_WITH_DISPENSER_STATES holds 0003, and a cancel of one is answered
// "with dispenser active, marked for cancellation"), so a Dispense
// Notification saying the item was dispensed in part leaves the pending
// cancellation pending — neither the notification nor a poll of the EPS
// tracker (item 0003) answers it — and the notification that completes the
// item resolves it: exactly one Subsequent Cancel Response, 0004. Real
// sockets, real Redis.
func TestCancellationPendingThroughPartialDispense(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	// Polls are frequent: the poller sees the item partly dispensed too.
	g, c := startFlowGateway(t, f, st, cancelTestOptions(40*time.Millisecond, 2*time.Second), nil)
	cancel := f.prescribeReleaseCancel(t, g)

	f.send(t, g, 3, dispenserParty, dispenserCPA, v3.DispenseNotification, cancelstest.LegacyDispense(t, "dn-partial-first.xml"))
	waitFor(t, "the partial notification's MCCI answer", func() bool { return len(byAction(f.dispenser, mcciAck)) == 1 })
	if tc, _ := ackOf(t, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body); tc != "AA" {
		t.Fatalf("partial dispense notification answered %s, want AA\n%s", tc, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body)
	}
	waitFor(t, "two polls after the partial dispense", func() bool {
		r, err := trackedRecord(t, c.Tracker())
		return err != nil || r.Attempts >= 2
	})
	time.Sleep(settleQuiet)
	if n := len(byAction(f.prescriber, v3.SubsequentCancelResponse)); n != 0 {
		t.Fatalf("after a partial dispense the prescriber got %d Subsequent Cancel Responses (code %s), want none: the item is still with the dispenser",
			n, cancelCodeOf(t, byAction(f.prescriber, v3.SubsequentCancelResponse)[0].msg.Payload.Body))
	}
	if r, err := trackedRecord(t, c.Tracker()); err != nil || r.State != cancels.StatePending {
		t.Fatalf("after a partial dispense: record %+v, err %v; want still pending", r.State, err)
	}

	f.send(t, g, 4, dispenserParty, dispenserCPA, v3.DispenseNotification, cancelstest.LegacyDispense(t, "dn-partial-second.xml"))
	waitFor(t, "the completing notification's MCCI answer", func() bool { return len(byAction(f.dispenser, mcciAck)) == 2 })
	if tc, _ := ackOf(t, byAction(f.dispenser, mcciAck)[1].msg.Payload.Body); tc != "AA" {
		t.Fatalf("completing dispense notification answered %s, want AA\n%s", tc, byAction(f.dispenser, mcciAck)[1].msg.Payload.Body)
	}
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	checkSubsequent(t, f, cancel, "0004")
}
