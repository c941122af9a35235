package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/journal"
)

// TestDoorRefusalsJournalled: a message a front door refused before taking
// it (its time to live passed, 910021; an interaction no processor
// handles, 910003; a SOAP request likewise; HTTP headers that cannot be
// read, 910022) was only logged and counted: the admin page, where the
// on-call operator looks a MessageId up when a supplier asks why Spine
// "refused" it, had no such exchange. Each is now journalled: the request
// as received (its HL7 payload when there is one), the refusal sent back,
// and the outcome "refused" with its code, as an exchange of its own found
// by the MessageId: an exchange taken before under that MessageId (the
// message's retry came too late) is left as it was.
func TestDoorRefusalsJournalled(t *testing.T) {
	j := newTestJournal(t)
	proc := newFakeProcessor()
	proc.supports = map[string]bool{releaseReq: true} // and not the prescriptions
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))

	ttl := newReq(newID(t, 901))
	ttl.action = releaseReq
	ttl.payload = []byte(soapPayload)
	ct, action, body := ttl.build()
	// An exchange of the MessageId the expired message carries, taken
	// before (the retry of a message taken): the refusal leaves it alone.
	// The journal writes asynchronously: it is there before the refusal.
	j.Record(journal.Event{Exchange: ttl.messageID, Interaction: releaseReq, Outcome: &journal.Outcome{Result: "accepted"}})
	waitFor(t, "the exchange taken before in the journal", func() bool {
		x, err := j.Backend().Get(context.Background(), ttl.messageID)
		return err == nil && x != nil
	})
	const ts = "<eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp>"
	body = bytes.Replace(body, []byte(ts), []byte(ts+"<eb:TimeToLive>2020-01-01T00:00:00Z</eb:TimeToLive>"), 1)
	if code, b := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body); code != http.StatusInternalServerError {
		t.Fatalf("expired message: status %d\n%s", code, b)
	}
	unsupported := newReq(newID(t, 902)) // a prescription: not supported here
	ct, action, body = unsupported.build()
	if code, b := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body); code != http.StatusInternalServerError {
		t.Fatalf("unsupported interaction: status %d\n%s", code, b)
	}
	const soapID = "6E2F1C2D-0000-4000-8000-000000000903"
	if code, b := post(t, http.DefaultClient, g.base+PathSOAP, "text/xml", "urn:nhs:names:services:mm/PORX_IN020101SM31",
		soapEnvelope(soapID, "PORX_IN020101SM31", `<PORX_IN020101SM31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN020101SM31>`)); code != http.StatusInternalServerError {
		t.Fatalf("SOAP unsupported interaction: status %d\n%s", code, b)
	}
	for _, tt := range []struct {
		id, code, text, payload string
	}{
		{ttl.messageID, "TimeToLiveExpired", "910021:", "Zoë ✓"},
		{unsupported.messageID, "NotSupported", "910003:", "PORX_IN020101UK31"},
		{soapID, "300", "PORX_IN020101SM31 is not supported", "PORX_IN020101SM31"},
	} {
		x := refusalOf(t, j, tt.id)
		if x.Outcome.Result != "refused" || x.Outcome.Code != tt.code || !strings.Contains(x.Outcome.Text, tt.text) {
			t.Errorf("%s: outcome %+v, want refused %s saying %q", tt.id, x.Outcome, tt.code, tt.text)
		}
		var req, answer bool
		for _, s := range x.Steps {
			req = req || s.Kind == journal.StepLegacyRequest && strings.Contains(s.Body, tt.payload)
			answer = answer || s.Kind == journal.StepFault && strings.Contains(s.Body, tt.text)
		}
		if !req || !answer {
			t.Errorf("%s: request with its payload %v, the refusal sent %v in\n%+v", tt.id, req, answer, x.Steps)
		}
	}

	if x, _ := j.Backend().Get(context.Background(), ttl.messageID); x == nil || x.Outcome.Result != "accepted" || len(x.Steps) != 0 {
		t.Errorf("the exchange taken before under the refused message's MessageId was changed: %+v", x)
	}

	// Headers that cannot be read: no MessageId to go by; found by its
	// outcome.
	req := newReq(newID(t, 904))
	ct, action, body = req.build()
	if code, _, _ := rawRequest(t, g.base, http.MethodPost, PathEbXML, "Content-Type : "+ct+"\r\nSOAPAction: "+action+"\r\n", body); code != http.StatusInternalServerError {
		t.Fatalf("unreadable headers: status %d", code)
	}
	waitFor(t, "the 910022 refusal in the journal", func() bool {
		list, err := j.Backend().Search(context.Background(), journal.Query{Outcome: "refused"})
		if err != nil {
			return false
		}
		for _, s := range list {
			if strings.Contains(s.Outcome.Text, "910022:") && s.Transport == string(TransportEbXML) {
				return true
			}
		}
		return false
	})
}

// refusalOf waits until the journal holds the refusal of MessageId id (an
// exchange of its own, found by that id) with its request and refusal.
func refusalOf(t *testing.T, j *journal.Journal, id string) *journal.Exchange {
	t.Helper()
	var x *journal.Exchange
	waitFor(t, "the refusal of "+id, func() bool {
		list, err := j.Backend().Search(context.Background(), journal.Query{ID: id, Outcome: "refused"})
		if err != nil || len(list) == 0 {
			return false
		}
		x, _ = j.Backend().Get(context.Background(), list[0].ID)
		return x != nil && len(x.Steps) >= 2
	})
	return x
}

// TestDeadLetterJournalsWhatTheSenderIsTold: a message processing gave up
// on (here refused for good) goes to the dead letters and its sender gets
// an async MessageError 910009; the journal said only that it was
// dead-lettered, not what the sender was told. The MessageError (its
// ebXML envelope, 910009 and the reason) is now a step of the exchange,
// and the outcome carries its code.
func TestDeadLetterJournalsWhatTheSenderIsTold(t *testing.T) {
	j := newTestJournal(t)
	proc := newFakeProcessor()
	proc.answer = func(*Inbound, int) (*Outcome, error) {
		return nil, Permanent(errors.New("the prescription cannot be translated"))
	}
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	r := newReq(newID(t, 930))
	if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	var x *journal.Exchange
	waitFor(t, "the dead letter journalled with the MessageError", func() bool {
		x, _ = j.Backend().Get(context.Background(), r.messageID)
		return x != nil && x.Outcome.Result == journal.OutcomeDeadLetter && slices.ContainsFunc(x.Steps, func(s journal.Step) bool {
			return s.Kind == journal.StepFault && strings.Contains(s.Body, "910009:") && strings.Contains(s.Body, "cannot be translated")
		})
	})
	if x.Outcome.Code != strconv.Itoa(NumNotProcessed) {
		t.Errorf("outcome %+v, want code %d", x.Outcome, NumNotProcessed)
	}
}
