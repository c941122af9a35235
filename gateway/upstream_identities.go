package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/jsonkeys"
)

// UpstreamIdentity is the EPS application identity one supplier was
// onboarded with. An empty field takes the default identity's value (the
// --upstream-* flags); the EPS base URL, token URL and CAs are shared.
type UpstreamIdentity struct {
	// APIKey is the application's API key (JWT iss and sub).
	APIKey string `json:"apiKey"`
	// Kid names the public key that verifies the party's JWTs.
	Kid string `json:"kid"`
	// PrivateKey is the PEM RSA key file that signs the party's JWTs.
	PrivateKey string `json:"privateKey"`
	// ClientCert and ClientKey are the PEM client certificate and key for
	// mutual TLS to EPS.
	ClientCert string `json:"clientCert"`
	ClientKey  string `json:"clientKey"`
}

// LoadUpstreamIdentities reads the --upstream-identities file: a JSON object
// from party key (the sender's eb:PartyId, or a SOAP sender's ASID) to its
// UpstreamIdentity. Unknown fields are errors; every problem is reported.
func LoadUpstreamIdentities(path string) (map[string]UpstreamIdentity, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("upstream identities: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ids map[string]UpstreamIdentity
	if err := dec.Decode(&ids); err != nil {
		return nil, fmt.Errorf("upstream identities %s: %w", path, err)
	}
	var errs []error
	if err := jsonkeys.Check(raw, "party"); err != nil {
		errs = append(errs, err)
	}
	for _, party := range sortedKeys(ids) {
		id := ids[party]
		if party == "" {
			errs = append(errs, errors.New("an empty party key"))
		}
		if id == (UpstreamIdentity{}) {
			errs = append(errs, fmt.Errorf("%s: no identity fields", party))
		}
		if (id.ClientCert == "") != (id.ClientKey == "") {
			errs = append(errs, fmt.Errorf("%s: clientCert and clientKey go together", party))
		}
		if id.APIKey != "" && (id.Kid == "" || id.PrivateKey == "") {
			errs = append(errs, fmt.Errorf("%s: an apiKey needs its own kid and privateKey", party))
		} else if (id.Kid == "") != (id.PrivateKey == "") {
			errs = append(errs, fmt.Errorf("%s: kid and privateKey go together", party))
		}
		for _, f := range []string{id.PrivateKey, id.ClientCert, id.ClientKey} {
			if f == "" {
				continue
			}
			if _, err := os.Stat(f); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", party, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("upstream identities %s: %w", path, err)
	}
	return ids, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// identityTransport refuses an identity whose credentials the upstream
// would carry in clear, as UpstreamConfig.validate refuses the default
// identity's: OAuth2 credentials only over https (or plain http to this
// machine), a client certificate only to an https upstream.
func identityTransport(base upstream.Config, id UpstreamIdentity) error {
	if id.APIKey != "" {
		for _, raw := range []string{base.BaseURL, base.TokenURL} {
			if plainRemote(raw) {
				return fmt.Errorf("OAuth2 credentials (apiKey) go only over https, or plain http to loopback, not %q", raw)
			}
		}
	}
	if id.ClientCert != "" && strings.HasPrefix(strings.ToLower(base.BaseURL), "http:") {
		return fmt.Errorf("a client certificate needs an https upstream, not %q", base.BaseURL)
	}
	return nil
}

// withIdentity returns the client configuration of base under id: each
// field id gives replaces the default identity's. A kid and private key
// sign for an API key, the party's or the default's; with neither they
// would go unused, which is an error.
func withIdentity(base upstream.Config, id UpstreamIdentity) (upstream.Config, error) {
	c := base
	if id.APIKey != "" {
		c.APIKey = id.APIKey
	}
	if id.Kid != "" {
		c.Kid, c.PrivateKeyPath, c.PrivateKey = id.Kid, id.PrivateKey, nil
		if c.APIKey == "" {
			return c, errors.New("a kid and privateKey sign for an apiKey, and neither the party nor the default identity (--upstream-api-key) has one")
		}
	}
	if id.ClientCert != "" {
		c.TLS.CertFile, c.TLS.KeyFile = id.ClientCert, id.ClientKey
	}
	return c, nil
}

// partyClients sends each EPS call under the identity of the party in its
// context (upstream.PartyOf), or the default one.
type partyClients struct {
	def     EPSAPI
	byParty map[string]EPSAPI
}

// breakerStates returns each party's breaker states (by operation), for
// the clients that report them.
func (p *partyClients) breakerStates() map[string]map[string]string {
	out := make(map[string]map[string]string, len(p.byParty))
	for party, c := range p.byParty {
		if r, ok := c.(interface{ BreakerStates() map[string]string }); ok {
			out[party] = r.BreakerStates()
		}
	}
	return out
}

// clients returns the parties' EPS clients (none for p nil), in the
// order of their party keys.
func (p *partyClients) clients() []*upstream.Client {
	if p == nil {
		return nil
	}
	var out []*upstream.Client
	for _, party := range sortedKeys(p.byParty) {
		if c, ok := p.byParty[party].(*upstream.Client); ok {
			out = append(out, c)
		}
	}
	return out
}

func (p *partyClients) pick(ctx context.Context) EPSAPI {
	if c, ok := p.byParty[upstream.PartyOf(ctx)]; ok {
		return c
	}
	return p.def
}

// ProcessMessage implements EPSAPI.
func (p *partyClients) ProcessMessage(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.pick(ctx).ProcessMessage(ctx, b)
}

// Release implements EPSAPI.
func (p *partyClients) Release(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.pick(ctx).Release(ctx, b)
}

// PostTask implements EPSAPI.
func (p *partyClients) PostTask(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.pick(ctx).PostTask(ctx, b)
}

// PostClaim implements EPSAPI.
func (p *partyClients) PostClaim(ctx context.Context, b []byte) (*upstream.Response, error) {
	return p.pick(ctx).PostClaim(ctx, b)
}

// TrackerGet implements cancels.TrackerAPI: the EPS tracker is asked under the
// identity of the party in ctx (the prescriber of a pending cancellation),
// or the default one.
func (p *partyClients) TrackerGet(ctx context.Context, q url.Values) (*upstream.Response, error) {
	if t, ok := p.pick(ctx).(cancels.TrackerAPI); ok {
		return t.TrackerGet(ctx, q)
	}
	t, ok := p.def.(cancels.TrackerAPI)
	if !ok {
		return nil, errors.New("the default EPS client cannot ask the tracker")
	}
	return t.TrackerGet(ctx, q)
}

// PartyTrackerAPI returns what the pending-cancellation poller asks the
// EPS tracker through: the default client, or, with per-party identities,
// a dispatcher that uses the identity of the party in the call's context.
func (c *EPSClient) PartyTrackerAPI() cancels.TrackerAPI {
	if c.parties == nil {
		return c.Client
	}
	return c.parties
}

// PartyAPI returns what the processor calls EPS through: the default client,
// or, with per-party identities, a dispatcher that uses the sender's own.
func (c *EPSClient) PartyAPI() EPSAPI {
	if c.parties == nil {
		return c.Client
	}
	return c.parties
}

// partyScoped puts the sender's party in the context of each processing,
// so that EPS calls use its identity and carry it in metrics, spans and
// logs.
type partyScoped struct{ next Processor }

// PartyScoped wraps p so that every Process runs with upstream.WithParty
// set to the sender: its eb:PartyId over ebXML, its ASID over SOAP.
func PartyScoped(p Processor) Processor { return partyScoped{next: p} }

// unwrap gives the Processor scoped.
func (s partyScoped) unwrap() Processor { return s.next }

// Supports implements Processor.
func (s partyScoped) Supports(interaction string) bool { return s.next.Supports(interaction) }

// Process implements Processor.
func (s partyScoped) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	party := in.FromParty
	if party == "" {
		party = in.FromASID
	}
	if party != "" {
		ctx = upstream.WithParty(ctx, party)
	}
	return s.next.Process(ctx, in)
}

// openPartyClients builds one EPS client per party of the identities file
// (none without one), each the default configuration under the party's
// identity and reporting its breakers' states and its attempts to m under
// the party's key, and the function that closes them. A party's own
// client certificate is checked against EPS as the default identity's is
// (checkServerCertificate): one EPS refuses in the handshake fails the
// start, naming the party.
func openPartyClients(ctx context.Context, cfg Config, base upstream.Config, def *upstream.Client, log *slog.Logger, m *Metrics) (*partyClients, func(), error) {
	if cfg.UpstreamIdentitiesFile == "" {
		return nil, func() {}, nil
	}
	ids, err := LoadUpstreamIdentities(cfg.UpstreamIdentitiesFile)
	if err != nil {
		return nil, nil, err
	}
	p := &partyClients{def: def, byParty: map[string]EPSAPI{}}
	var opened []*upstream.Client
	closeAll := func() {
		for _, c := range opened {
			_ = c.Close()
		}
	}
	for _, party := range sortedKeys(ids) {
		if err := identityTransport(base, ids[party]); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("upstream identities: party %s: %w", party, err)
		}
		pcfg, err := withIdentity(base, ids[party])
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("upstream identities: party %s: %w", party, err)
		}
		pcfg.OnBreakerStateChange = func(op, _, to string) { m.SetBreakerState(party, op, to) }
		pcfg.ObserveAttempt = func(op, status, _ string, d time.Duration) { m.ObserveUpstream(op, status, party, d) }
		for _, op := range upstream.Operations() {
			m.SetBreakerState(party, op, "closed")
		}
		plog := log.With("identity", party)
		c, err := upstream.New(pcfg, plog)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("EPS client of party %s: %w", party, err)
		}
		opened = append(opened, c)
		if ids[party].ClientCert != "" {
			if err := checkServerCertificate(ctx, c, "EPS client of party "+party, plog); err != nil {
				closeAll()
				return nil, nil, err
			}
		}
		p.byParty[party] = c
	}
	log.Info("per-party EPS identities", "parties", len(ids))
	return p, closeAll, nil
}

// CheckIdentityBindings checks that every party with its own EPS identity
// (--upstream-identities) is bound to the client certificates of its
// system: a party key with certNames in the routing table (an eb:PartyId),
// or an ASID --soap-asids binds (a SOAP sender). An unbound party acts
// under its identity whoever claims its party key or ASID. With mutual
// TLS (--tls-client-ca), where a binding is one line of configuration,
// unbound parties are an error naming them; without it, where nothing can
// bind them, they are logged as a warning.
func CheckIdentityBindings(cfg Config, routes *outbox.Routes, log *slog.Logger) error {
	if cfg.UpstreamIdentitiesFile == "" {
		return nil
	}
	ids, err := LoadUpstreamIdentities(cfg.UpstreamIdentitiesFile)
	if err != nil {
		return err
	}
	soap, err := ParseSOAPASIDs(cfg.SOAPASIDs)
	if err != nil {
		return fmt.Errorf("soap-asids: %w", err)
	}
	var unbound []string
	for _, party := range sortedKeys(ids) {
		if rt, ok := routes.Lookup(party); ok && len(rt.CertNames) > 0 {
			continue
		}
		if soap != nil && len(soap.names[party]) > 0 {
			continue
		}
		unbound = append(unbound, party)
	}
	if len(unbound) == 0 {
		return nil
	}
	if cfg.TLSClientCAFile == "" {
		log.Warn("per-party EPS identities without mutual TLS (--tls-client-ca): any sender claiming one of these parties (eb:PartyId or SOAP sender ASID) acts under its EPS identity",
			"parties", unbound)
		return nil
	}
	return fmt.Errorf("%s: parties %s have their own EPS identity but no client certificate bound to them, so any client certificate the listener trusts could act under it: bind each to its system's certificate names with certNames in --routes (an eb:PartyId) or --soap-asids ASID=NAME (a SOAP sender's ASID)",
		cfg.UpstreamIdentitiesFile, strings.Join(unbound, ", "))
}
