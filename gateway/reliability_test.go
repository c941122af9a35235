package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestDuplicateAcrossReplicas: two gateways on one Redis; the same message
// sent to both (and again to the first) is acknowledged every time and
// processed once.
func TestDuplicateAcrossReplicas(t *testing.T) {
	_, newStore := redisStore(t)
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	routes := routesTo(t, mhs.srv.URL, "")
	a := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc), WithRoutes(routes))
	b := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc), WithRoutes(routes))
	req := newReq(newID(t, 10))
	for i, g := range []*gw{a, b, a} {
		code, body := sendEb(t, g.base, req)
		if code != http.StatusAccepted {
			t.Fatalf("send %d: status %d\n%s", i, code, body)
		}
		checkAcknowledgment(t, body, req)
	}
	waitFor(t, "the answer", func() bool { return len(mhs.messages()) >= 1 })
	// Give a wrongly duplicated message time to show up before counting.
	time.Sleep(200 * time.Millisecond)
	if n := proc.callsFor(req.messageID); n != 1 {
		t.Errorf("processed %d times across replicas, want 1", n)
	}
	if n := len(mhs.messages()); n != 1 {
		t.Errorf("MHS got %d answers, want 1", n)
	}
}

// TestDuplicateAcrossRestart: a duplicate sent after the gateway restarted
// on the same Redis is acknowledged and not processed again.
func TestDuplicateAcrossRestart(t *testing.T) {
	_, newStore := redisStore(t)
	proc := newFakeProcessor()
	req := newReq(newID(t, 11))
	a := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc))
	if code, _ := sendEb(t, a.base, req); code != http.StatusAccepted {
		t.Fatal("first send not acknowledged")
	}
	waitFor(t, "processing", func() bool { return proc.callsFor(req.messageID) == 1 })
	a.stop()
	b := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc))
	code, body := sendEb(t, b.base, req)
	if code != http.StatusAccepted {
		t.Fatalf("duplicate after restart: %d\n%s", code, body)
	}
	checkAcknowledgment(t, body, req)
	time.Sleep(200 * time.Millisecond)
	if n := proc.callsFor(req.messageID); n != 1 {
		t.Errorf("processed %d times, want 1", n)
	}
}

// TestDeliverySurvivesRestart: the MHS is down while the answer is due;
// the gateway is stopped (without draining the outbox) and a new one on
// the same Redis delivers the answer with the same MessageId.
func TestDeliverySurvivesRestart(t *testing.T) {
	_, newStore := redisStore(t)
	mhs := startMHS(t, "fail")
	proc := newFakeProcessor()
	routes, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 1000, "retryInterval": "50ms", "persistDuration": "1m"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	a := startGateway(t, testConfig(), newStore(), false, WithProcessor(proc), WithRoutes(routes))
	req := newReq(newID(t, 12))
	if code, _ := sendEb(t, a.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	waitFor(t, "a failed delivery attempt", func() bool { return len(mhs.messages()) >= 1 })
	a.stop() // the answer is still due: the MHS refused every attempt so far
	first := mhs.messages()[0].msg
	if first == nil {
		t.Fatal("MHS got an unreadable answer")
	}
	st := newStore()
	if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != 1 {
		t.Fatalf("outbox holds %d after the stop, want 1", n)
	}

	mhs.setMode("ack")
	seen := len(mhs.messages())
	b := startGateway(t, testConfig(), st, false, WithProcessor(proc), WithRoutes(routes))
	waitFor(t, "delivery by the restarted gateway", func() bool { return len(mhs.messages()) > seen })
	last := mhs.messages()[len(mhs.messages())-1].msg
	if last == nil || last.MessageID != first.MessageID {
		t.Fatalf("redelivered MessageId %v, want %s", last, first.MessageID)
	}
	if !bytes.Equal(last.Payload.Body, first.Payload.Body) {
		t.Error("redelivered payload differs")
	}
	waitFor(t, "the outbox to empty", func() bool { n, _ := st.QueueLen(context.Background(), outbox.Queue); return n == 0 })
	if n := proc.callsFor(req.messageID); n != 1 {
		t.Errorf("processed %d times, want 1", n)
	}
	if code, body := get(t, b.adminBase(t)+PathDeadLetters); !strings.Contains(body, `"count":0`) {
		t.Errorf("dead letters: %d %s", code, body)
	}
}

// TestAbandonedWorkTakenOver: a replica acknowledges a message and dies
// holding it (its inbox lease and an outbox lease are never released); a
// second replica takes both over when the leases run out.
func TestAbandonedWorkTakenOver(t *testing.T) {
	_, newStore := redisStore(t)
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	routes := routesTo(t, mhs.srv.URL, "")
	dying := newStore()
	a := startGateway(t, testConfig(), dying, true, WithProcessor(proc), WithRoutes(routes)) // serves, runs no workers
	req := newReq(newID(t, 13))
	if code, _ := sendEb(t, a.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	const lease = 300 * time.Millisecond
	l, err := dying.Claim(context.Background(), inboxQueue, time.Now(), lease)
	if err != nil || l == nil || l.ID != prescribe+":"+req.messageID {
		t.Fatalf("claim as the dying replica = %+v, %v", l, err)
	}
	a.stop() // dies holding the lease

	cfg := testConfig()
	cfg.Lease = lease
	startGateway(t, cfg, newStore(), false, WithProcessor(proc), WithRoutes(routes))
	waitFor(t, "the answer", func() bool { return len(mhs.messages()) >= 1 })
	if got := mhs.messages()[0].msg; got == nil || got.RefToMessageID != req.messageID {
		t.Fatalf("answer = %+v", got)
	}
	if n := proc.callsFor(req.messageID); n != 1 {
		t.Errorf("processed %d times, want 1", n)
	}
}

// TestDeliveryDeadLetters: deliveries that cannot succeed end on the
// dead-letter list with their reason.
func TestDeliveryDeadLetters(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		policy     string // route fields after "url"
		wantReason string
		attempts   int
	}{
		{"retries exhausted", "fail", `"retries": 1, "retryInterval": "20ms", "persistDuration": "1m"`,
			"not acknowledged after 2 attempts; last error: HTTP 503", 2},
		{"refused by receiver", "refuse", `"retries": 5, "retryInterval": "20ms", "persistDuration": "1m"`,
			"refused by the receiver: HTTP 500: refused: ebxml: remote MessageError", 1},
		{"expired", "fail", `"retries": 5, "retryInterval": "PT0.3S", "persistDuration": "PT0.2S"`,
			"expired: persist duration 200ms ends before the next retry", 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mhs := startMHS(t, tt.mode)
			r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", `+tt.policy+`}}`), outbox.DefaultPolicy())
			if err != nil {
				t.Fatal(err)
			}
			g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(newFakeProcessor()), WithRoutes(r))
			req := newReq(newID(t, 20+i))
			if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
				t.Fatal("not acknowledged")
			}
			dl := waitDeadLetters(t, g, 1)[0]
			if !strings.Contains(dl.Reason, tt.wantReason) || dl.Attempts != tt.attempts || dl.URL != mhs.srv.URL ||
				dl.RefToMessageID != req.messageID || dl.Party != senderParty || dl.Kind != outbox.KindAnswer {
				t.Errorf("dead letter = %+v\nwant reason containing %q after %d attempts", dl, tt.wantReason, tt.attempts)
			}
			if n := len(mhs.messages()); n != tt.attempts {
				t.Errorf("MHS saw %d attempts, want %d", n, tt.attempts)
			}
		})
	}
}

// TestProcessingRetries: a processor that fails twice is retried and the
// answer goes out; one that fails permanently puts the message on the
// dead-letter list.
func TestProcessingRetries(t *testing.T) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		switch {
		case strings.HasPrefix(in.MessageID, "0000001E"):
			return nil, Permanent(errors.New("mapping: /PORX_IN020101UK31/id: bad root"))
		case n <= 2:
			return nil, errors.New("upstream: 503")
		}
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload(in.MessageID)}}}, nil
	}
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	flaky := newReq(newID(t, 29))
	if code, _ := sendEb(t, g.base, flaky); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	waitFor(t, "the answer after retries", func() bool { return len(mhs.messages()) == 1 })
	if n := proc.callsFor(flaky.messageID); n != 3 {
		t.Errorf("processed %d times, want 3", n)
	}
	broken := newReq(newID(t, 30))
	if code, _ := sendEb(t, g.base, broken); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	if dl.Stage != outbox.StageProcessing || dl.MessageID != broken.messageID ||
		dl.Reason != "processing failed permanently: mapping: /PORX_IN020101UK31/id: bad root" {
		t.Errorf("dead letter = %+v", dl)
	}
	if n := proc.callsFor(broken.messageID); n != 1 {
		t.Errorf("permanent failure processed %d times, want 1", n)
	}
}

// TestProcessorMessageError: a refusal from the processor reaches the
// sender as an async eb:MessageError.
func TestProcessorMessageError(t *testing.T) {
	mhs := startMHS(t, "ack")
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		return &Outcome{MessageError: ebxml.NewMessageError(ebxml.CodeValueNotRecognized, 0, "unexpected payload")}, nil
	}
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	req := newReq(newID(t, 31))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	waitFor(t, "the MessageError", func() bool { return len(mhs.messages()) == 1 })
	got := mhs.messages()[0]
	ref, err := ebxml.ParseAcknowledgment(got.body)
	var el *ebxml.ErrorListError
	if !errors.As(err, &el) || ref != req.messageID || el.Errors[0].Code != ebxml.CodeValueNotRecognized {
		t.Fatalf("MHS got %q, %v:\n%s", ref, err, got.body)
	}
}

// answerAwaitingAcknowledgment starts a gateway whose sender's MHS answers
// HTTP 200 (acknowledging later, with a message of its own), sends it
// request n and waits for the answer, which then waits in the outbox for
// its retry a minute away.
// neighbourParty is a party answerAwaitingAcknowledgment's routes know
// besides the sender, to which nothing is sent.
const neighbourParty = "NEIGHBOUR-807341"

func answerAwaitingAcknowledgment(t *testing.T, n int, opts ...Option) (*gw, store.Store, *fakeMHS) {
	t.Helper()
	mhs := startMHS(t, "empty")
	st := newMemoryStore()
	r, err := outbox.ParseRoutes([]byte(`{"`+senderParty+`": {"url": "`+mhs.srv.URL+`", "retries": 5, "retryInterval": "1m", "persistDuration": "1h"},
		"`+neighbourParty+`": {"url": "`+mhs.srv.URL+`/neighbour"}}`), outbox.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, testConfig(), st, false, append([]Option{WithProcessor(newFakeProcessor()), WithRoutes(r)}, opts...)...)
	req := newReq(newID(t, n))
	if code, _ := sendEb(t, g.base, req); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	waitFor(t, "the answer", func() bool { return len(mhs.messages()) == 1 })
	return g, st, mhs
}

// TestAsyncAcknowledgmentEndsRetries: an MHS that answers HTTP 200 and
// acknowledges later, with its own message, is not sent the answer again,
// and the operator is told it was delivered as for one acknowledged at
// once: the journal's exchange has the answer delivered, and
// porxgate_deliveries_total counts it delivered. Before, the
// acknowledgment only ended the retries: the journal's last word on the
// answer was "failed; will retry" and the counter never counted it
// delivered.
func TestAsyncAcknowledgmentEndsRetries(t *testing.T) {
	j := newTestJournal(t)
	g, st, mhs := answerAwaitingAcknowledgment(t, 32, WithJournal(j))
	if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != 1 {
		t.Fatalf("outbox holds %d, want the answer waiting for a retry a minute away", n)
	}
	answer := mhs.messages()[0].msg
	exchangeOf(t, j, answer.RefToMessageID, journal.StepDelivery)
	ack, err := ebxml.BuildAcknowledgment(answer, "B0000000-0000-4000-8000-000000000002", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, body := post(t, http.DefaultClient, g.base+PathEbXML, "text/xml; charset=UTF-8", "urn:oasis:names:tc:ebxml-msg:service/Acknowledgment", ack)
	if code != http.StatusAccepted {
		t.Fatalf("async acknowledgment: %d %s", code, body)
	}
	if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != 0 {
		t.Errorf("outbox holds %d after the acknowledgment, want 0", n)
	}
	var titles []string
	waitFor(t, "the answer delivered in the journal", func() bool {
		x, _ := j.Backend().Get(context.Background(), answer.RefToMessageID)
		titles = titles[:0]
		for _, st := range x.Steps {
			titles = append(titles, st.Title)
		}
		return slices.Contains(titles, deliveryTitle(outbox.Delivery{Kind: outbox.KindAnswer, Party: senderParty}, outbox.ResultDelivered))
	})
	if got := deliveriesCounted(t, g, outbox.ResultDelivered); got != 1 {
		t.Fatalf("porxgate_deliveries_total{result=%q} = %v, want 1 (journal steps %q)", outbox.ResultDelivered, got, titles)
	}
}

// deliveriesCounted returns porxgate_deliveries_total for result.
func deliveriesCounted(t *testing.T, g *gw, result string) float64 {
	t.Helper()
	mfs, err := g.srv.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "porxgate_deliveries_total" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestAcknowledgmentFromAnotherParty: an eb:Acknowledgment that names one
// of our pending deliveries but comes from a party the routes do not know
// is refused (the MessageError an unknown sender gets) and the delivery
// keeps its retries. Before, any sender could end a delivery's retries.
func TestAcknowledgmentFromAnotherParty(t *testing.T) {
	g, st, mhs := answerAwaitingAcknowledgment(t, 33)
	answer := *mhs.messages()[0].msg
	answer.ToPartyID = "INTRUDER-807341" // the acknowledgment's eb:From
	ack, err := ebxml.BuildAcknowledgment(&answer, "B0000000-0000-4000-8000-000000000003", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, body := post(t, http.DefaultClient, g.base+PathEbXML, "text/xml; charset=UTF-8", "urn:oasis:names:tc:ebxml-msg:service/Acknowledgment", ack)
	if code != http.StatusInternalServerError || !strings.Contains(string(body), "ValueNotRecognized") {
		t.Errorf("acknowledgment from an unknown party: %d %s; want 500 with the unknown-party MessageError", code, body)
	}
	if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != 1 {
		t.Fatalf("outbox holds %d after a stranger's acknowledgment, want the answer still waiting", n)
	}
}

// TestAcknowledgmentFromAnotherKnownParty: an eb:Acknowledgment of a
// pending delivery from a party the routes know, but not the one the
// delivery was sent to, is refused as Inconsistent (910020) and the
// delivery keeps its retries; its receiver's acknowledgment then ends
// them. Before, any known party could end another's deliveries.
func TestAcknowledgmentFromAnotherKnownParty(t *testing.T) {
	g, st, mhs := answerAwaitingAcknowledgment(t, 34)
	answer := *mhs.messages()[0].msg
	stranger := answer
	stranger.ToPartyID = neighbourParty // the acknowledgment's eb:From
	for _, tc := range []struct {
		name     string
		of       *ebxml.Message
		code     int
		body     string
		left     int
		ackMsgID string
	}{
		{"from a neighbour", &stranger, http.StatusInternalServerError, "910020", 1, "B0000000-0000-4000-8000-000000000004"},
		{"from the receiver", &answer, http.StatusAccepted, "", 0, "B0000000-0000-4000-8000-000000000005"},
	} {
		ack, err := ebxml.BuildAcknowledgment(tc.of, tc.ackMsgID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		code, body := post(t, http.DefaultClient, g.base+PathEbXML, "text/xml; charset=UTF-8", "urn:oasis:names:tc:ebxml-msg:service/Acknowledgment", ack)
		if code != tc.code || !strings.Contains(string(body), tc.body) || tc.body != "" && !strings.Contains(string(body), "Inconsistent") {
			t.Errorf("%s: %d %s; want %d with %q", tc.name, code, body, tc.code, tc.body)
		}
		if n, _ := st.QueueLen(context.Background(), outbox.Queue); n != tc.left {
			t.Errorf("%s: outbox holds %d, want %d", tc.name, n, tc.left)
		}
	}
}
