package gateway

import (
	"net/http"
	"os"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestBatchInteractionsRefusedAtTheDoor: the interactions EPS FHIR has no
// operation for (README: Dispense Reimbursement Claim, Dispense No Claim
// Notification, Rebuild Dispense History; "gateway: no") are refused at the
// ebXML door with a MessageError NotSupported, and nothing reaches EPS.
// Before, a reimbursement claim was acknowledged, its porxgate batch Bundle
// posted to EPS's /Claim, and the pharmacy answered AE 5000 "information
// missing or invalid" for a message it had sent correctly.
func TestBatchInteractionsRefusedAtTheDoor(t *testing.T) {
	s, client := startSim(t)
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	mhs := startMHS(t, "ack")
	g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	cases := []struct{ interaction, fixture string }{
		{v3.DispenseReimbursementClaim, "claim/reimbursement-370101.xml"},
		{v3.DispenseNoClaimNotification, "claim/noclaim-460101.xml"},
		{v3.RebuildDispenseHistory, "rebuild/rebuild-540101.xml"},
	}
	for i, tc := range cases {
		t.Run(tc.interaction, func(t *testing.T) {
			if proc.Supports(tc.interaction) {
				t.Errorf("EPS processor supports %s; EPS FHIR has no operation for it", tc.interaction)
			}
			payload, err := os.ReadFile("../testdata/" + tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			r := newReq(newID(t, 700+i))
			r.action, r.payload = tc.interaction, payload
			ct, action, body := r.build()
			code, _, resp := postHeaders(t, g.base+PathEbXML, ct, action, body)
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500 with a MessageError\n%s", code, resp)
			}
			if c, d := ebErrorOf(t, resp); c != string(ebxml.CodeNotSupported) {
				t.Errorf("eb:Error %s %q, want %s", c, d, ebxml.CodeNotSupported)
			}
		})
	}
	if n := s.Stats().Requests["claim"]; n != 0 {
		t.Errorf("EPS was sent %d Claims", n)
	}
}
