package gateway

import (
	"crypto/tls"
	"fmt"

	"github.com/porxgate/porxgate/gateway/outbox"
)

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
