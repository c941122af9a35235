package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/sim"
	v3 "github.com/porxgate/porxgate/v3"
)

// settleQuiet is how long a test watches for a second Subsequent Cancel
// Response after the first (many poll intervals of the test settings).
const settleQuiet = 300 * time.Millisecond

// TestCancellationResolvedByReturn runs the whole flow end to end over
// real sockets, on a real Redis: prescribe → release → cancel (pending:
// the prescriber gets PORX_IN050101UK31 with 0002 and the gateway tracks
// it, seen in /admin/cancellations and /metrics) → the dispenser returns
// the prescription through the gateway → the prescriber gets exactly one
// PORX_IN050102UK32 (0001 cancelled) in the cancel's conversation, and
// the tracker is empty.
func TestCancellationResolvedByReturn(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	// Polls are far off: only the return can resolve it.
	g, c := startFlowGateway(t, f, st, cancelTestOptions(time.Hour, 2*time.Second), nil)
	cancel := f.prescribeReleaseCancel(t, g)

	rec, err := trackedRecord(t, c.Tracker())
	if err != nil {
		t.Fatalf("cancellation not tracked: %v", err)
	}
	if rec.State != cancels.StatePending || rec.ConversationID != cancel.conversationID || rec.MessageID != cancel.messageID ||
		rec.SenderPartyID != senderParty || rec.ReceiverPartyID != spineParty || rec.CPAID != senderCPA || len(rec.Request) == 0 {
		rec.Request = nil
		t.Fatalf("tracked record %+v", rec)
	}
	n, list, _ := adminCancellations(t, g)
	if n != 1 || list[0].PrescriptionID != rxID || list[0].LineItem != rxLineItem || list[0].NextPoll == nil || list[0].MessageID != cancel.messageID {
		t.Fatalf("admin view: %d %+v", n, list)
	}
	if m := metricsText(t, g); !strings.Contains(m, "porxgate_cancellations_pending 1") || !strings.Contains(m, "porxgate_cancellation_oldest_age_seconds") {
		t.Errorf("metrics lack the pending cancellation:\n%s", grepLines(m, "cancellation"))
	}

	f.send(t, g, 3, dispenserParty, dispenserCPA, v3.DispenseProposalReturn, legacyReturn(t, rxID))
	waitFor(t, "the return's MCCI answer", func() bool { return len(byAction(f.dispenser, mcciAck)) == 1 })
	if tc, _ := ackOf(t, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body); tc != "AA" {
		t.Fatalf("return answered %s, want AA\n%s", tc, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body)
	}
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	sub := checkSubsequent(t, f, cancel, "0001")
	if sub.msg.MessageID != strings.ToUpper(rec.ResponseID) {
		t.Errorf("subsequent response MessageId %s, want the one chosen at tracking %s", sub.msg.MessageID, rec.ResponseID)
	}
	if len(byAction(f.dispenser, v3.SubsequentCancelResponse)) != 0 {
		t.Error("the dispenser got a Subsequent Cancel Response")
	}
	if _, err := trackedRecord(t, c.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Errorf("after the answer the record is still tracked (err %v)", err)
	}
	if n, _, _ := adminCancellations(t, g); n != 0 {
		t.Errorf("admin view lists %d cancellations after the answer", n)
	}
	m := metricsText(t, g)
	for _, want := range []string{"porxgate_cancellations_pending 0", `porxgate_cancellations_resolved_total{source="return"} 1`, "porxgate_cancellations_answered_total 1"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "cancellation"))
		}
	}
}

// TestCancellationResolvedByDispenseNotification: the dispenser's
// Dispense Notification (item not dispensed) passes through the gateway
// and resolves the pending cancellation at once: one Subsequent Cancel
// Response with 0010 (not cancelled: not dispensed).
func TestCancellationResolvedByDispenseNotification(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	g, _ := startFlowGateway(t, f, st, cancelTestOptions(time.Hour, 2*time.Second), nil)
	cancel := f.prescribeReleaseCancel(t, g)
	f.send(t, g, 3, dispenserParty, dispenserCPA, v3.DispenseNotification, legacyNotDispensed(t))
	waitFor(t, "the notification's MCCI answer", func() bool { return len(byAction(f.dispenser, mcciAck)) == 1 })
	if tc, _ := ackOf(t, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body); tc != "AA" {
		t.Fatalf("dispense notification answered %s, want AA\n%s", tc, byAction(f.dispenser, mcciAck)[0].msg.Payload.Body)
	}
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	sub := checkSubsequent(t, f, cancel, "0010")
	if !strings.Contains(string(sub.msg.Payload.Body), "High Street Chemist") {
		t.Errorf("subsequent response does not name the dispenser:\n%s", sub.msg.Payload.Body)
	}
	if m := metricsText(t, g); !strings.Contains(m, `porxgate_cancellations_resolved_total{source="dispense-notification"} 1`) {
		t.Errorf("metrics:\n%s", grepLines(m, "cancellation"))
	}
}

// TestCancellationResolvedByPoll: the dispenser dispenses the item
// without porxgate seeing it (straight on EPS), so only the poller can
// find out: it asks the EPS tracker, resolves with 0004 (dispensed) and
// the prescriber gets exactly one Subsequent Cancel Response.
func TestCancellationResolvedByPoll(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	g, c := startFlowGateway(t, f, st, cancelTestOptions(40*time.Millisecond, 2*time.Second), nil)
	cancel := f.prescribeReleaseCancel(t, g)
	waitFor(t, "a poll that finds it pending", func() bool {
		r, err := trackedRecord(t, c.Tracker())
		return err == nil && r.Attempts >= 1
	})
	if err := f.sim.State().Dispense(sim.DispenseRequest{MessageID: "D1", Dispenser: rxPharmacy, ShortFormID: rxID,
		Items: map[string]sim.ItemStatus{strings.ToLower(rxLineItem): sim.ItemDispensed}}, time.Now()); err != nil {
		t.Fatalf("dispense on EPS: %v", err)
	}
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	checkSubsequent(t, f, cancel, "0004")
	if m := metricsText(t, g); !strings.Contains(m, `porxgate_cancellations_resolved_total{source="tracker"} 1`) {
		t.Errorf("metrics:\n%s", grepLines(m, "cancellation"))
	}
}

// TestCancellationReplicaKilledMidPoll: two gateways on one Redis. A
// leases the pending cancellation and is killed while its EPS tracker
// query hangs; meanwhile the item settles on EPS. B takes the
// cancellation over once A's lease runs out, polls, and the prescriber
// gets exactly one Subsequent Cancel Response.
func TestCancellationReplicaKilledMidPoll(t *testing.T) {
	st, newStore := redisStore(t)
	f := newFlow(t)
	hold := &holdingTracker{polling: make(chan string, 1)}
	opts := cancelTestOptions(40*time.Millisecond, 700*time.Millisecond)
	a, _ := startFlowGateway(t, f, st, opts, hold)
	cancel := f.prescribeReleaseCancel(t, a)
	select {
	case pid := <-hold.polling:
		if pid != rxID {
			t.Fatalf("A polled %s, want %s", pid, rxID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("A never polled")
	}
	if err := f.sim.State().Return(sim.ReturnRequest{ShortFormID: rxID, Dispenser: rxPharmacy}, time.Now()); err != nil {
		t.Fatalf("return on EPS: %v", err)
	}
	a.stop() // killed mid-poll: its lease is left to run out

	b, cb := startFlowGateway(t, f, newStore(), opts, nil)
	waitFor(t, "B's Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	checkSubsequent(t, f, cancel, "0001")
	if _, err := trackedRecord(t, cb.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Errorf("record still tracked after B answered (err %v)", err)
	}
	if m := metricsText(t, b); !strings.Contains(m, `porxgate_cancellations_resolved_total{source="tracker"} 1`) {
		t.Errorf("B's metrics:\n%s", grepLines(m, "cancellation"))
	}
}

// TestCancellationExpires: a cancellation that never resolves is given up
// past its maximum age and reported — in the expired metric, in the
// expired list of /admin/cancellations — and the prescriber gets no
// Subsequent Cancel Response.
func TestCancellationExpires(t *testing.T) {
	st, _ := redisStore(t)
	f := newFlow(t)
	opts := cancelTestOptions(time.Hour, 2*time.Second)
	opts.MaxAge = 300 * time.Millisecond
	g, c := startFlowGateway(t, f, st, opts, nil)
	cancel := f.prescribeReleaseCancel(t, g)
	waitFor(t, "the expiry", func() bool {
		_, err := trackedRecord(t, c.Tracker())
		return errors.Is(err, cancels.ErrNotFound)
	})
	n, _, expired := adminCancellations(t, g)
	if n != 0 || len(expired) != 1 || expired[0].PrescriptionID != rxID || expired[0].MessageID != cancel.messageID ||
		expired[0].ConversationID != cancel.conversationID || expired[0].Party != senderParty {
		t.Fatalf("admin view after expiry: %d pending, expired %+v", n, expired)
	}
	m := metricsText(t, g)
	for _, want := range []string{"porxgate_cancellations_expired_total 1", "porxgate_cancellations_expired 1", "porxgate_cancellations_pending 0"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, grepLines(m, "cancellation"))
		}
	}
	if subs := byAction(f.prescriber, v3.SubsequentCancelResponse); len(subs) != 0 {
		t.Errorf("prescriber got %d Subsequent Cancel Responses for an expired cancellation", len(subs))
	}
	recs, err := c.Tracker().ListExpired(context.Background(), 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("expired list: %v %d", err, len(recs))
	}
}

// TestCancellationBeforePrescription: the prescriber's Cancel Request
// reaches EPS before its prescription (the two travel apart). Spine
// answers it "not found" (0008), keeps it, cancels the prescription when
// it arrives and then sends the prescriber a Subsequent Cancel Response
// "Prescription/item was cancelled" (0001; eps-spine-shared
// create_prescription.py, apply_all_cancellations). Through the gateway,
// on a real Redis: the Cancel Response says 0008, the prescription comes
// next and is answered AA, and the prescriber then gets exactly one
// PORX_IN050102UK32 with 0001 in the cancel's conversation; nothing stays
// tracked.
func TestCancellationBeforePrescription(t *testing.T) {
	for _, tc := range []struct {
		name string
		// backoff is the wait before the poller's first look.
		backoff time.Duration
		// direct sends the prescription straight to EPS (another way in
		// than this gateway), so that only the poller can find it came.
		direct bool
	}{
		{name: "resolved as the prescription passes the gateway", backoff: time.Hour},
		{name: "resolved by the poller", backoff: 40 * time.Millisecond, direct: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := redisStore(t)
			f := newFlow(t)
			g, c := startFlowGateway(t, f, st, cancelTestOptions(tc.backoff, 2*time.Second), nil)

			cancel := f.send(t, g, 1, senderParty, senderCPA, v3.CancelRequest, legacyCancel(t, rxFixture))
			waitFor(t, "the Cancel Response", func() bool { return len(byAction(f.prescriber, v3.CancelResponse)) == 1 })
			if code := cancelCodeOf(t, byAction(f.prescriber, v3.CancelResponse)[0].msg.Payload.Body); code != "0008" {
				t.Fatalf("Cancel Response code %s, want 0008 (not found)", code)
			}

			if tc.direct {
				waitFor(t, "a poll that finds the prescription not yet there", func() bool {
					r, err := trackedRecord(t, c.Tracker())
					return err == nil && r.Attempts >= 1
				})
				resp, err := f.client.ProcessMessage(context.Background(), cancelstest.Testdata(t, "prescribe/"+rxFixture))
				if err != nil || resp.Status != 200 {
					t.Fatalf("prescription straight to EPS: %v %+v", err, resp)
				}
			} else {
				payload, _ := legacyPrescription(t, rxFixture)
				f.send(t, g, 2, senderParty, senderCPA, prescribe, payload)
				waitFor(t, "the prescription's MCCI answer", func() bool { return len(byAction(f.prescriber, mcciAck)) == 1 })
				if tc, _ := ackOf(t, byAction(f.prescriber, mcciAck)[0].msg.Payload.Body); tc != "AA" {
					t.Fatalf("prescription answered %s, want AA", tc)
				}
			}
			waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
			time.Sleep(settleQuiet)
			checkSubsequent(t, f, cancel, "0001")
			if _, err := trackedRecord(t, c.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
				t.Errorf("after the answer the record is still tracked (err %v)", err)
			}
			source := "prescription"
			if tc.direct {
				source = "tracker"
			}
			if m := metricsText(t, g); !strings.Contains(m, `porxgate_cancellations_resolved_total{source="`+source+`"} 1`) {
				t.Errorf("metrics:\n%s", grepLines(m, "cancellation"))
			}
		})
	}
}

// TestCancellationBeforePrescriptionAcrossReplicas: the gateway that
// tracked a cancellation answered not found stops (a restart); two other
// replicas on the same Redis poll for it; the prescription then reaches
// EPS another way. The prescriber gets exactly one Subsequent Cancel
// Response (0001), whichever replica finds it.
func TestCancellationBeforePrescriptionAcrossReplicas(t *testing.T) {
	st, newStore := redisStore(t)
	f := newFlow(t)
	opts := cancelTestOptions(20*time.Millisecond, 700*time.Millisecond)
	opts.MaxBackoff = 20 * time.Millisecond // every replica looks often: a race for the one answer
	a, _ := startFlowGateway(t, f, st, opts, nil)
	cancel := f.send(t, a, 1, senderParty, senderCPA, v3.CancelRequest, legacyCancel(t, rxFixture))
	waitFor(t, "the Cancel Response", func() bool { return len(byAction(f.prescriber, v3.CancelResponse)) == 1 })
	a.stop()

	_, cb := startFlowGateway(t, f, newStore(), opts, nil)
	startFlowGateway(t, f, newStore(), opts, nil)
	waitFor(t, "polls that find the prescription not yet there", func() bool {
		r, err := trackedRecord(t, cb.Tracker())
		return err == nil && r.Attempts >= 4 && r.AwaitingPrescription
	})
	resp, err := f.client.ProcessMessage(context.Background(), cancelstest.Testdata(t, "prescribe/"+rxFixture))
	if err != nil || resp.Status != 200 {
		t.Fatalf("prescription straight to EPS: %v %+v", err, resp)
	}
	waitFor(t, "the Subsequent Cancel Response", func() bool { return len(byAction(f.prescriber, v3.SubsequentCancelResponse)) >= 1 })
	time.Sleep(settleQuiet)
	checkSubsequent(t, f, cancel, "0001")
	if _, err := trackedRecord(t, cb.Tracker()); !errors.Is(err, cancels.ErrNotFound) {
		t.Errorf("record still tracked after the answer (err %v)", err)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
