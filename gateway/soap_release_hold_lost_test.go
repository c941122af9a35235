package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	v3 "github.com/porxgate/porxgate/v3"
)

// soapResult is a SOAP request's answer: its HTTP status and body.
type soapResult struct {
	code int
	body []byte
}

// sendSOAPAsync sends a SOAP request to base and returns where its answer
// comes.
func sendSOAPAsync(t *testing.T, base string, body []byte) <-chan soapResult {
	t.Helper()
	done := make(chan soapResult, 1)
	go func() {
		code, got := sendSOAP(t, base, body)
		done <- soapResult{code, got}
	}()
	return done
}

// TestSOAPReleaseHoldLostWhileEPSAnswers: two replicas on one
// redis-server. A pharmacy's nominated release over SOAP reaches replica
// A, which holds the pharmacy and asks EPS; EPS releases the nominated
// prescription to it, and before A reads the answer A is cut off from
// Redis for longer than the hold lasts. Meanwhile replica B processes
// again a nominated release of the same pharmacy whose earlier attempt's
// answer is unknown: it takes the hold (A's has run out), finds the
// prescription nominated and with the pharmacy since its attempt,
// releases it again by id and delivers it. A then reaches Redis again.
// Before, A recorded and wrote EPS's answer as if it had held the
// pharmacy throughout: the SOAP sender got the prescription that B's
// answer delivered too (twice). Now a release whose hold was lost while
// EPS answered takes it again and leaves out what another release
// recovered meanwhile; whatever it leaves out was delivered once, and its
// sender gets the rest (here none: Prescription Release Rejection).
func TestSOAPReleaseHoldLostWhileEPSAnswers(t *testing.T) {
	link, stA, stB := cutOffReplicas(t)
	_, client := startSim(t)
	const ttl = time.Second
	apiA, apiB := newGatedRecovery(client), newGatedRecovery(client)
	close(apiA.answer) // no tracker question is held
	close(apiB.answer)
	pA, pB := holdingProcessors(apiA, apiB, stA, stB, ttl)
	gA := startGateway(t, testConfig(), stA, true, asRunWraps(t, pA)...)
	ctx := context.Background()
	request := nominatedReleaseFCG71(t)

	b := replayIn(v3.NominatedReleaseRequest, request)
	apiB.failNext.Store(true)
	if _, err := pB.Process(ctx, b); err == nil || !IsDeferred(err) {
		t.Fatalf("release B whose answer was lost = %v, want deferred", err)
	}
	submitNominated(t, pB, "F5000000-0000-4000-8000-0000000000A7")

	apiA.gateNext.Store(true)
	doneA := sendSOAPAsync(t, gA.base, soapEnvelope("F5000000-0000-4000-8000-0000000000B7", v3.NominatedReleaseRequest, soapReleaseFCG71(t)))
	select {
	case <-apiA.released: // EPS released the prescription to A
	case r := <-doneA:
		t.Fatalf("release A answered before EPS released to it: %d\n%.600s", r.code, r.body)
	}
	link.Cut()
	time.Sleep(ttl + ttl/2) // A's hold runs out
	outB, err := pB.Process(ctx, b)
	if err != nil {
		t.Fatalf("release B processed again: %v", err)
	}
	delivered := 0
	if strings.Contains(string(outB.Answers[0].Payload), rxID) {
		delivered++
	}
	link.Mend()
	close(apiA.proceed)
	var ra soapResult
	select {
	case ra = <-doneA:
	case <-time.After(time.Minute):
		t.Fatal("release A never answered")
	}
	if ra.code != http.StatusOK || !strings.Contains(string(ra.body), v3.ReleaseRejection) {
		t.Errorf("release A = %d, want 200 and a Prescription Release Rejection (EPS's answer less what B delivered: nothing)\n%.600s", ra.code, ra.body)
	}
	if strings.Contains(string(ra.body), rxID) {
		delivered++
	}
	later, err := pB.Process(ctx, replayIn(v3.NominatedReleaseRequest, request))
	if err != nil {
		t.Fatalf("the pharmacy's next release: %v", err)
	}
	if strings.Contains(string(later.Answers[0].Payload), rxID) {
		delivered++
	}
	if delivered != 1 {
		t.Fatalf("%s delivered %d times (B's answer, A's SOAP answer %d, the next release), want once\nA's answer: %.600s", rxID, delivered, ra.code, ra.body)
	}
}

// TestSOAPReleaseHoldLostStoreBackSoon: as above, replica A's hold runs
// out while EPS releases the nominated prescription to it, but no other
// release runs, and A is still cut off from Redis when it reads EPS's
// answer; Redis is back five seconds later. Before, A gave up at once
// (the hold could not be taken again): its sender got a retryable fault,
// what EPS released was neither recorded nor noted owed (the store
// unreachable), and the pharmacy's release sent again under a new
// wsa:MessageID found nothing, nor did the next: stranded (delivered 0
// times). Now A tries to take the hold again for as long as a release
// waits for another's (releaseHoldWait, 10 s) and, Redis back, answers
// its sender with the prescription, once.
func TestSOAPReleaseHoldLostStoreBackSoon(t *testing.T) {
	link, stA, stB := cutOffReplicas(t)
	_, client := startSim(t)
	const ttl = time.Second
	apiA := newGatedRecovery(client)
	close(apiA.answer)
	pA, pB := holdingProcessors(apiA, client, stA, stB, ttl)
	gA := startGateway(t, testConfig(), stA, true, asRunWraps(t, pA)...)
	submitNominated(t, pB, "F5000000-0000-4000-8000-0000000000AA")
	payload := soapReleaseFCG71(t)

	apiA.gateNext.Store(true)
	doneA := sendSOAPAsync(t, gA.base, soapEnvelope("F5000000-0000-4000-8000-0000000000BA", v3.NominatedReleaseRequest, payload))
	<-apiA.released
	link.Cut()
	time.Sleep(ttl + ttl/2) // A's hold runs out
	close(apiA.proceed)     // A reads EPS's answer, Redis still cut off
	time.Sleep(5 * ttl)
	link.Mend()
	var ra soapResult
	select {
	case ra = <-doneA:
	case <-time.After(time.Minute):
		t.Fatal("release A never answered")
	}
	delivered := 0
	if ra.code == http.StatusOK && strings.Contains(string(ra.body), rxID) {
		delivered++
	}
	// The pharmacy sends its release again under a new wsa:MessageID (as
	// after a fault), then once more.
	for _, id := range []string{"F5000000-0000-4000-8000-0000000000CA", "F5000000-0000-4000-8000-0000000000DA"} {
		_, body := sendSOAPUntilAnswered(t, gA.base, soapEnvelope(id, v3.NominatedReleaseRequest, payload), time.Minute)
		if strings.Contains(string(body), rxID) {
			delivered++
		}
	}
	if delivered != 1 {
		t.Fatalf("%s delivered %d times, want once (A's first answer: %d)\n%.600s", rxID, delivered, ra.code, ra.body)
	}
}
