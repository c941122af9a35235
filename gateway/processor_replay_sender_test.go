package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestRecordedAnswerOnlyForItsSender: EPS's recorded answer to a message
// (kept 24 h, far longer than a door remembers its MessageId) answers a
// replay of that message from its own sender only. Before, the record was
// keyed by transport, interaction and MessageId alone: another sender
// reusing the MessageId once the door had forgotten it was given the
// first sender's answer — here a nominated release carrying the
// pharmacy's prescription, delivered to the other sender's endpoint.
// Another sender's message under a MessageId already used is refused
// permanently (a sender must never reuse another's MessageId), and EPS is
// not asked.
func TestRecordedAnswerOnlyForItsSender(t *testing.T) {
	// carries reports whether out answers with the pharmacy's prescription.
	carries := func(out *Outcome) bool {
		if out == nil {
			return false
		}
		answers := out.Answers
		if out.Reply != nil {
			answers = append(answers, *out.Reply)
		}
		for _, a := range answers {
			if strings.Contains(string(a.Payload), "C1D2E3-A99968-00A1BM") {
				return true
			}
		}
		return false
	}
	// Each case sets the two senders' identities: eb:From, the SOAP
	// sender ASID, or (a SOAP request naming no ASID) its client
	// certificate, which before was no one's.
	cases := []struct {
		name      string
		transport Transport
		senders   func(a, b *Inbound)
	}{
		{"ebxml", TransportEbXML, func(a, b *Inbound) { a.FromParty, b.FromParty = "FCG71-807341", "OTHER-000001" }},
		{"soap", TransportSOAP, func(a, b *Inbound) { a.FromASID, b.FromASID = "200000000001", "200000000999" }},
		{"soap without an ASID", TransportSOAP, func(a, b *Inbound) { a.FromCert, b.FromCert = "cert:aa", "cert:bb" }},
	}
	for _, tc := range cases {
		transport := tc.transport
		t.Run(tc.name, func(t *testing.T) {
			s, client := startSim(t)
			st, _ := redisStore(t)
			p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, p, "C0000000-0000-4000-8000-000000000001")
			release := &Inbound{Transport: transport, Interaction: v3.NominatedReleaseRequest, MessageID: "C0000000-0000-4000-8000-000000000002",
				Payload: nominatedReleaseFCG71(t)}
			other := *release
			tc.senders(release, &other)
			out, err := p.Process(context.Background(), release)
			if err != nil || !carries(out) {
				t.Fatalf("the pharmacy's release: %+v %v", out, err)
			}
			// As the SOAP door does with an answer it could not write: what
			// it delivers stays owed, and the replay below delivers it.
			settleUnwritten(t, out)
			calls := s.Stats().Requests["release"]

			out, err = p.Process(context.Background(), &other)
			if err == nil {
				leaked := carries(out)
				t.Fatalf("another sender under the same MessageId was answered (with the pharmacy's prescription: %v); want a permanent refusal", leaked)
			}
			if !IsPermanent(err) || !strings.Contains(err.Error(), "another sender") {
				t.Errorf("another sender under the same MessageId: %v; want a permanent error saying so", err)
			}
			if s.Stats().Requests["release"] != calls {
				t.Error("EPS was asked for another sender's reused MessageId")
			}

			// The pharmacy's own replay still gets its answer.
			out, err = p.Process(context.Background(), release)
			if err != nil || !carries(out) {
				t.Fatalf("the pharmacy's replay: %+v %v", out, err)
			}
			settleUnwritten(t, out)
		})
	}
}

// settleUnwritten ends the handover of a SOAP release answer (out) that
// is not written, as the SOAP door does: what it delivers stays owed, and
// the dispenser's release hold is given up.
func settleUnwritten(t *testing.T, out *Outcome) {
	t.Helper()
	if out != nil && out.Reply != nil {
		out.Reply.handover.settle(context.Background(), false)
	}
}
