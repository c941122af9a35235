package gateway

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// processedAck runs in through p and returns the acknowledgement's typeCode.
func processedAck(t *testing.T, p *EPSProcessor, in *Inbound) string {
	t.Helper()
	out, err := p.Process(context.Background(), in)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	if len(out.Answers) != 1 || out.Answers[0].Interaction != v3.ApplicationAcknowledgement {
		t.Fatalf("outcome %+v, want one MCCI answer", out)
	}
	tc, _ := ackOf(t, out.Answers[0].Payload)
	return tc
}

// TestReplayGivesFirstAnswer: with the simulator upstream and EPS's answers
// recorded in a real Redis, a message processed again is answered as the
// first time: from the record without a second EPS call; and, when the
// answer could not be recorded after EPS stored the prescription, by
// confirming through the tracker that EPS holds what porxgate sent — never
// with a false "Duplicate prescription ID". The same prescription under a
// new MessageId is still refused.
func TestReplayGivesFirstAnswer(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	calls := func() int64 { return s.Stats().Requests["process-message"] }

	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	in := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "A0000000-0000-4000-8000-000000000001", Payload: payload}
	if tc := processedAck(t, p, in); tc != "AA" {
		t.Fatalf("first processing answered %s, want AA", tc)
	}
	before := calls()
	if tc := processedAck(t, p, in); tc != "AA" {
		t.Fatalf("replay answered %s, want AA", tc)
	}
	if calls() != before {
		t.Errorf("replay called EPS again (%d calls, want %d)", calls(), before)
	}

	// EPS stores the prescription, then its answer cannot be recorded.
	payload2, _ := legacyPrescription(t, "repeat-prescribing-dental-four-items.json")
	in2 := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "A0000000-0000-4000-8000-000000000002", Payload: payload2}
	// The attempt is recorded, the answer is not.
	p2 := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(&failSecondPut{OutcomeLog: st}, time.Hour)
	if _, err := p2.Process(context.Background(), in2); err == nil || !IsDeferred(err) {
		t.Fatalf("processing whose answer could not be recorded = %v, want a deferred error", err)
	}
	if n := s.State().Len(); n != 2 {
		t.Fatalf("EPS holds %d prescriptions, want 2", n)
	}
	if tc := processedAck(t, p, in2); tc != "AA" {
		t.Fatalf("replay after the lost answer answered %s, want AA (EPS holds what porxgate sent)", tc)
	}
	if tc := processedAck(t, p, in2); tc != "AA" {
		t.Fatalf("second replay answered %s, want AA", tc)
	}

	// The same prescription under a new MessageId is a real duplicate.
	in3 := *in2
	in3.MessageID = "A0000000-0000-4000-8000-000000000003"
	if tc := processedAck(t, p, &in3); tc == "AA" {
		t.Fatal("the same prescription under a new MessageId was accepted; Spine refuses it")
	}
}

// failSecondPut fails every PutReply after the first.
type failSecondPut struct {
	OutcomeLog
	n atomic.Int64
}

func (f *failSecondPut) PutReply(ctx context.Context, key string, body []byte, ttl time.Duration) error {
	if f.n.Add(1) > 1 {
		return errors.New("store unavailable")
	}
	return f.OutcomeLog.PutReply(ctx, key, body, ttl)
}

// TestReleaseReplayGivesFirstAnswer: a nominated release is recorded before
// it is acted on, so processing it again (the answer could not be
// delivered, the lease ran out) gives the same prescriptions again instead
// of an empty release that would strand them with the pharmacy.
func TestReleaseReplayGivesFirstAnswer(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, p, "B0000000-0000-4000-8000-000000000001")
	release := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: "B0000000-0000-4000-8000-000000000002",
		Payload: nominatedReleaseFCG71(t)}
	answer := func() Answer {
		t.Helper()
		out, err := p.Process(context.Background(), release)
		if err != nil || len(out.Answers) != 1 {
			t.Fatalf("release: %+v %v", out, err)
		}
		return out.Answers[0]
	}
	first := answer()
	if first.Interaction != v3.NominatedReleaseResponse || !strings.Contains(string(first.Payload), "C1D2E3-A99968-00A1BM") {
		t.Fatalf("first release answered %s without the prescription", first.Interaction)
	}
	calls := s.Stats().Requests["release"]
	again := answer()
	if again.Interaction != v3.NominatedReleaseResponse || !strings.Contains(string(again.Payload), "C1D2E3-A99968-00A1BM") {
		t.Fatalf("replayed release answered %s without the prescription: stranded", again.Interaction)
	}
	if s.Stats().Requests["release"] != calls {
		t.Error("the replay released again at EPS")
	}
}

// TestLostReleaseAnswerRecovered: the simulator releases a nominated
// prescription and then drops the answer (the connection closes after
// processing). The release answer porxgate gives still carries the
// prescription — recovered by a patient release from the dispenser holding
// it — and a later nominated release does not deliver it again.
func TestLostReleaseAnswerRecovered(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, p, "C0000000-0000-4000-8000-000000000001")
	request := nominatedReleaseFCG71(t)
	release := func(id string) *Outcome {
		t.Helper()
		in := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: id, Payload: request}
		for range 3 { // a lost answer may surface as an error first: processed again, as the inbox would
			out, err := p.Process(context.Background(), in)
			if err == nil {
				return out
			}
			if !IsDeferred(err) {
				t.Fatalf("release: %v", err)
			}
		}
		t.Fatal("release never answered")
		return nil
	}
	s.SetFaults(sim.Faults{DropAfter: 1})
	out := release("C0000000-0000-4000-8000-000000000002")
	if len(out.Answers) != 1 || out.Answers[0].Interaction != v3.NominatedReleaseResponse ||
		!strings.Contains(string(out.Answers[0].Payload), "C1D2E3-A99968-00A1BM") {
		names := make([]string, len(out.Answers))
		for i, a := range out.Answers {
			names[i] = a.Interaction
		}
		t.Fatalf("release whose answer EPS lost answered %v; want a release response with the prescription (stranded)", names)
	}
	if s.Stats().FaultsInjected != 1 {
		t.Fatalf("faults injected %d, want 1 (the dropped answer)", s.Stats().FaultsInjected)
	}
	if rx, ok := s.State().Get("C1D2E3-A99968-00A1BM"); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v", rx)
	}
	again := release("C0000000-0000-4000-8000-000000000003")
	for _, a := range again.Answers {
		if strings.Contains(string(a.Payload), "C1D2E3-A99968-00A1BM") {
			t.Fatal("a later nominated release delivered the recovered prescription again")
		}
	}
}

// TestDispenseReplayConfirmed: a dispense notification EPS applied but
// whose answer could not be recorded is refused when sent again (the
// prescription is no longer with the dispenser); porxgate checks through
// the tracker that every line item has the status it sent and answers AA,
// not a false rejection.
func TestDispenseReplayConfirmed(t *testing.T) {
	_, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	payload, _ := legacyPrescription(t, rxFixture)
	if tc := processedAck(t, p, &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "D0000000-0000-4000-8000-000000000001", Payload: payload}); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	rel := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: "D0000000-0000-4000-8000-000000000002",
		Payload: nominatedReleaseFCG71(t)}
	if _, err := p.Process(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
	dn := &Inbound{Transport: TransportEbXML, Interaction: v3.DispenseNotification, MessageID: "D0000000-0000-4000-8000-000000000003", Payload: legacyNotDispensed(t)}
	lossy := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(&failSecondPut{OutcomeLog: st}, time.Hour)
	if _, err := lossy.Process(context.Background(), dn); err == nil || !IsDeferred(err) {
		t.Fatalf("notification whose answer could not be recorded = %v, want deferred", err)
	}
	if tc := processedAck(t, p, dn); tc != "AA" {
		t.Fatalf("replayed dispense notification answered %s, want AA (EPS applied it)", tc)
	}
	other := *dn
	other.MessageID = "D0000000-0000-4000-8000-000000000004"
	if tc := processedAck(t, p, &other); tc == "AA" {
		t.Fatal("a new notification for a prescription no longer with the dispenser was accepted")
	}
}

// TestSentMessageReaders: the readers of what porxgate sent refuse
// malformed or empty Bundles.
func TestSentMessageReaders(t *testing.T) {
	dn := `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense",` +
		`"type":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationdispense-type","code":"0001"}]},` +
		`"contained":[{"resourceType":"MedicationRequest","groupIdentifier":{"value":"aaaaaa-a99968-00001a"},` +
		`"identifier":[{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"i1"}]}]}}]}`
	sf, items, err := sentDispense([]byte(dn))
	if err != nil || sf != "AAAAAA-A99968-00001A" || items["I1"] != "0001" {
		t.Errorf("sentDispense = %q %v %v", sf, items, err)
	}
	for _, bad := range []string{"", "{", `{"entry":7}`, `{"entry":[{"resource":{"resourceType":"MedicationDispense"}}]}`, `{"resourceType":"Bundle","entry":[]}`} {
		if _, _, err := sentDispense([]byte(bad)); err == nil {
			t.Errorf("sentDispense(%q) succeeded", bad)
		}
		if _, err := sentPrescriptionOf([]byte(bad)); err == nil {
			t.Errorf("sentPrescriptionOf(%q) succeeded", bad)
		}
	}
}

// FuzzSentMessages: the readers of what porxgate sent never panic.
func FuzzSentMessages(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationDispense","contained":[{"resourceType":"MedicationRequest","groupIdentifier":{"value":"x"}}]}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"MedicationRequest","groupIdentifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"A"}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = sentDispense(b)
		_, _ = sentPrescriptionOf(b)
	})
}

// submitNominated sends, through p, the project's prescription nominated
// to FCG71 (MessageID id) and fails the test unless it is answered AA; it
// returns the message sent.
func submitNominated(t *testing.T, p *EPSProcessor, id string) *Inbound {
	t.Helper()
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	rx := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: id, Payload: payload}
	if tc := processedAck(t, p, rx); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	return rx
}
