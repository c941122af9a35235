package upstream

import "context"

// partyKey carries the legacy sender's party in a context.
type partyKey struct{}

// WithParty returns a context whose upstream calls are attributed to the
// legacy sender's party (its eb:PartyId, or a SOAP sender's ASID): the
// attempt metrics, spans and log lines carry it, and the gateway picks the
// party's own EPS identity by it.
func WithParty(ctx context.Context, party string) context.Context {
	return context.WithValue(ctx, partyKey{}, party)
}

// PartyOf returns the party set by WithParty, or "".
func PartyOf(ctx context.Context) string {
	p, _ := ctx.Value(partyKey{}).(string)
	return p
}
