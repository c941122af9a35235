package gateway

import (
	"crypto/tls"
	"fmt"

	"github.com/porxgate/porxgate/gateway/outbox"
)

// checkSender checks an ebXML sender, a message's or a signal's alike:
// its party and CPA id against the routes (Routes.CheckSender) and its
// client certificate against every binding of the party key (claimBound).
// An eb:Acknowledgment in a party's name ends the retries of deliveries
// to it, so it must meet the same bindings as a message in that name.
func (g *messaging) checkSender(party, cpaID string, cs *tls.ConnectionState) error {
	if err := g.routes.CheckSender(party, cpaID, cs); err != nil {
		return err
	}
	return g.claimBound(party, cs)
}

// claimBound checks the client certificate of cs (nil: not over TLS)
// against every binding of the party key a sender claims, whichever door
// it came through: the certNames of the key's route (an eb:PartyId) and
// the names --soap-asids gives it (an ASID). A party key is one EPS
// identity (PartyScoped picks it by the eb:PartyId or, over SOAP, the
// ASID), so a key bound at one door is bound at both.
func (g *messaging) claimBound(key string, cs *tls.ConnectionState) error {
	if err := g.routes.CheckCertificate(key, cs); err != nil {
		return err
	}
	if err := g.soapSenders.Bound(key, cs); err != nil {
		return fmt.Errorf("%w: %w", outbox.ErrSenderCertificate, err)
	}
	return nil
}
