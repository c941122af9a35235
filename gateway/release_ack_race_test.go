package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	v3 "github.com/porxgate/porxgate/v3"
)

// postSignal posts the messaging-service envelope build makes to the
// gateway at base, as an MHS does, and says how it went: "HTTP <status>",
// or the error. It may run off the test's goroutine.
func postSignal(base string, build func() ([]byte, error)) string {
	body, err := build()
	if err != nil {
		return err.Error()
	}
	resp, err := http.Post(base+PathEbXML, "text/xml; charset=UTF-8", bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	_ = resp.Body.Close()
	return fmt.Sprintf("HTTP %d", resp.StatusCode)
}

// TestReleaseAcknowledgedDuringLastAttemptIsNotOwed: a nominated release
// response's last attempt fails on its own exchange (HTTP 503), but while
// it runs the pharmacy's MHS posts back an asynchronous eb:Acknowledgment
// of it, which ends it in the outbox: the pharmacy has the prescription.
// The worker, out of retries, goes to dead-letter it and notes its
// prescription owed (NoteUndelivered) before it finds the entry gone.
// Before, the prescription stayed owed, and the pharmacy's next nominated
// release delivered it a second time. Now the worker sees the
// acknowledgment after its note and takes the prescription off those
// owed: the next release does not deliver it again, and no dead letter is
// recorded for an acknowledged message.
func TestReleaseAcknowledgedDuringLastAttemptIsNotOwed(t *testing.T) {
	f := startReleaseFlow(t, "F4000000-0000-4000-8000-000000000012", "fail", `, "retries": 0`)
	s, st, proc, mhs, routes, g := f.sim, f.st, f.proc, f.mhs, f.routes, f.g

	// The MHS acknowledges the release response asynchronously, then
	// fails the exchange it came on.
	var acked atomic.Value
	mhs.setBefore(func(rec received) {
		if rec.msg == nil || rec.msg.Payload == nil || !bytes.Contains(rec.msg.Payload.Body, []byte(rxID)) {
			return
		}
		acked.Store(postSignal(g.base, func() ([]byte, error) {
			return ebxml.BuildAcknowledgment(rec.msg, "B0000000-0000-4000-8000-000000000012", time.Now())
		}))
	})

	first := newReq(newID(t, 51))
	first.action, first.payload = v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)
	if code, body := sendEb(t, g.base, first); code != 202 {
		t.Fatalf("release POST = %d\n%s", code, body)
	}
	waitFor(t, "the asynchronous acknowledgment of the release response", func() bool { return acked.Load() != nil })
	if got := acked.Load(); got != "HTTP 202" {
		t.Fatalf("asynchronous acknowledgment: %v", got)
	}
	g.stop() // lets the worker finish the delivery in hand
	if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v, want the prescription with FCG71", rx)
	}
	if n := deliveredWith(mhs, 0, rxID); n != 1 {
		t.Fatalf("the release response carried %s %d times, want once", rxID, n)
	}
	mhs.setBefore(nil)
	mhs.setMode("ack")
	mark := len(mhs.messages())

	g2 := startGateway(t, testConfig(), st, false, append(asRunWraps(t, proc), WithRoutes(routes))...)
	if dls, err := st.DeadLetters(context.Background(), 10); err != nil || len(dls) != 0 {
		t.Errorf("%d dead letters (%v) for a release response its MHS acknowledged", len(dls), err)
	}
	releaseAnswered(t, g2.base, mhs, mark, 52)
	if n := deliveredWith(mhs, mark, rxID); n != 0 {
		t.Fatalf("the pharmacy's next release delivered %s %d more time(s), after its MHS acknowledged the response that carried it", rxID, n)
	}
}

// TestReleaseAcknowledgedAfterDeadLetterIsNotOwed: a nominated release
// response's MHS answers each attempt with HTTP 200 and no
// acknowledgment (it acknowledges asynchronously), so it goes to the dead
// letters, its prescription noted owed; then the MHS's asynchronous
// eb:Acknowledgment of it arrives: the pharmacy has the prescription.
// Before, the acknowledgment found nothing pending and changed nothing:
// the pharmacy's next nominated release delivered the prescription a
// second time. Now it is taken off those owed.
func TestReleaseAcknowledgedAfterDeadLetterIsNotOwed(t *testing.T) {
	f := startReleaseFlow(t, "F4000000-0000-4000-8000-000000000013", "empty", `, "retries": 0`)
	mhs, g := f.mhs, f.g

	first := newReq(newID(t, 61))
	first.action, first.payload = v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)
	if code, body := sendEb(t, g.base, first); code != 202 {
		t.Fatalf("release POST = %d\n%s", code, body)
	}
	dls := waitDeadLetters(t, g, 1)
	if !dls[0].Owed {
		t.Fatalf("dead letter %+v: want the release response, its prescription owed", dls[0])
	}
	var response *ebxml.Message
	for _, r := range mhs.messages() {
		if r.msg != nil && r.msg.MessageID == dls[0].MessageID {
			response = r.msg
		}
	}
	if response == nil {
		t.Fatalf("the MHS never had the release response %s", dls[0].MessageID)
	}
	ack, err := ebxml.BuildAcknowledgment(response, "B0000000-0000-4000-8000-000000000013", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, http.DefaultClient, g.base+PathEbXML, "text/xml; charset=UTF-8", "urn:oasis:names:tc:ebxml-msg:service/Acknowledgment", ack); code != http.StatusAccepted {
		t.Fatalf("asynchronous acknowledgment: %d %s", code, body)
	}
	mhs.setMode("ack")
	mark := len(mhs.messages())
	releaseAnswered(t, g.base, mhs, mark, 62)
	if n := deliveredWith(mhs, mark, rxID); n != 0 {
		t.Fatalf("the pharmacy's next release delivered %s %d more time(s), after its MHS acknowledged the response that carried it", rxID, n)
	}
}
