package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelAnswerFamily: the Cancel Response is labelled (eb:Action) in
// the family of the request payload, matching its own root element (also
// when the sender's eb:Action named the other family), with
// and without pending-cancellation tracking; with tracking the pending
// cancellation is recorded once.
func TestCancelAnswerFamily(t *testing.T) {
	s, client := startSim(t)
	tr := cancels.NewMemory(cancels.Options{}, nil)
	tracked := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).
		WithCancellations(cancels.NewService(cancels.ServiceOptions{Tracker: tr, EPS: client, Log: quietLog()}))
	plain := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	ctx := context.Background()
	rx, _ := legacyPrescription(t, rxFixture)
	if _, err := plain.Process(ctx, &Inbound{Transport: TransportEbXML, Interaction: prescribe, MessageID: "RX-1", Payload: rx}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.State().Release(sim.ReleaseRequest{Owner: rxPharmacy, ShortFormID: rxID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		p      *EPSProcessor
		fam    v3.Family // of the payload
		action v3.Family // of eb:Action
	}{
		{"UK tracked", tracked, v3.FamilyUK, v3.FamilyUK},
		{"SM tracked", tracked, v3.FamilySM, v3.FamilySM},
		{"UK plain", plain, v3.FamilyUK, v3.FamilyUK},
		{"SM plain", plain, v3.FamilySM, v3.FamilySM},
		{"SM payload under a UK action, tracked", tracked, v3.FamilySM, v3.FamilyUK},
		{"SM payload under a UK action, plain", plain, v3.FamilySM, v3.FamilyUK},
		{"UK payload under an SM action", plain, v3.FamilyUK, v3.FamilySM},
	}
	msgIDs := make([]string, len(cases))
	for i, tc := range cases {
		msgIDs[i] = newID(t, 10+i)
		t.Run(tc.name, func(t *testing.T) {
			in := &Inbound{Transport: TransportEbXML, Interaction: v3.InFamily(v3.CancelRequest, tc.action), Family: tc.action,
				MessageID: msgIDs[i], ConversationID: "C", FromParty: senderParty, ToParty: spineParty, CPAID: senderCPA,
				Payload: legacyCancelIn(t, rxFixture, tc.fam)}
			out, err := tc.p.Process(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Answers) != 1 {
				t.Fatalf("%d answers", len(out.Answers))
			}
			a := out.Answers[0]
			_, root, err := v3.Parse(a.Payload)
			if err != nil {
				t.Fatal(err)
			}
			want := v3.InFamily(v3.CancelResponse, tc.fam)
			if a.Interaction != want || root.El.Tag != want {
				t.Errorf("answer labelled %s with root %s, want %s", a.Interaction, root.El.Tag, want)
			}
		})
	}
	list, err := tr.List(ctx, 0)
	if err != nil || len(list) != 1 || list[0].MessageID != msgIDs[0] {
		t.Fatalf("tracked %v %+v; want the first cancel only", err, list)
	}
}
