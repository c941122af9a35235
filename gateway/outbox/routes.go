package outbox

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/porxgate/porxgate/internal/certfile"
	"github.com/porxgate/porxgate/internal/jsonkeys"
)

// Policy is the reliability of deliveries to one party: Spine's retries,
// retry interval and persist duration.
type Policy struct {
	// Retries is how many times a delivery is retried after its first attempt.
	Retries int
	// RetryInterval is the wait between attempts.
	RetryInterval time.Duration
	// PersistDuration is how long after it was queued a message may still
	// be delivered; after that it expires onto the dead-letter list.
	PersistDuration time.Duration
}

// DefaultPolicy is Spine's usual reliability for an MHS as SDS records it
// (nhsMHSRetries 2, nhsMHSRetryInterval PT1M, nhsMHSPersistDuration PT5M).
func DefaultPolicy() Policy {
	return Policy{Retries: 2, RetryInterval: time.Minute, PersistDuration: 5 * time.Minute}
}

// Validate reports a policy that cannot work.
func (p Policy) Validate() error {
	var errs []error
	if p.Retries < 0 {
		errs = append(errs, fmt.Errorf("retries %d: must not be negative", p.Retries))
	}
	if p.RetryInterval <= 0 {
		errs = append(errs, fmt.Errorf("retry interval %s: must be positive", p.RetryInterval))
	}
	if p.PersistDuration <= 0 {
		errs = append(errs, fmt.Errorf("persist duration %s: must be positive", p.PersistDuration))
	}
	return errors.Join(errs...)
}

// Route is where and how to deliver to one party.
type Route struct {
	// Party is the party key (eb:PartyId), e.g. "FQ2KM-807341".
	Party string
	// URL is the MHS endpoint async messages are POSTed to.
	URL string
	// CPAID is the eb:CPAId written on messages to the party; inbound
	// messages from the party must carry it (or one of AcceptCPAIDs).
	// Empty: outbound messages reuse the request's CPAId, and any is
	// accepted inbound.
	CPAID string
	// AcceptCPAIDs are further CPA ids accepted on inbound messages.
	AcceptCPAIDs []string
	// CertNames bind the party to its MHS's client certificates: its
	// inbound messages must arrive over mutual TLS with a certificate whose
	// subject common name or a DNS name is one of them. Empty: any
	// certificate the listener trusts (another supplier's included), or
	// none.
	CertNames []string
	// Policy is the reliability of deliveries to the party.
	Policy
}

// acceptsCPA reports whether an inbound message with cpaID may come over this route.
func (r Route) acceptsCPA(cpaID string) bool {
	return r.CPAID == "" && len(r.AcceptCPAIDs) == 0 || cpaID == r.CPAID || slices.Contains(r.AcceptCPAIDs, cpaID)
}

// Routes is the routing table: party key → route. The nil *Routes is the
// absent table: every sender is accepted and nothing can be delivered.
type Routes struct {
	byParty map[string]Route
}

// Errors of CheckSender.
var (
	// ErrUnknownParty: the sender's party key is not in the routing table.
	ErrUnknownParty = errors.New("unknown party")
	// ErrUnknownCPAID: the CPA id is not the one configured for the party.
	ErrUnknownCPAID = errors.New("unknown CPA id")
	// ErrSenderCertificate: the party's route names the client
	// certificates its messages come with, and the message came without
	// one of them.
	ErrSenderCertificate = errors.New("client certificate not one the party's route names")
)

// Configured reports whether there is a routing table.
func (r *Routes) Configured() bool { return r != nil }

// Len returns the number of parties in the table.
func (r *Routes) Len() int {
	if r == nil {
		return 0
	}
	return len(r.byParty)
}

// Lookup returns the route of party.
func (r *Routes) Lookup(party string) (Route, bool) {
	if r == nil {
		return Route{}, false
	}
	rt, ok := r.byParty[party]
	return rt, ok
}

// CertBound returns a party whose route names client certificates
// (CertNames), the first in order; "" when none does.
func (r *Routes) CertBound() string {
	if r == nil {
		return ""
	}
	var parties []string
	for p, rt := range r.byParty {
		if len(rt.CertNames) > 0 {
			parties = append(parties, p)
		}
	}
	if len(parties) == 0 {
		return ""
	}
	return slices.Min(parties)
}

// CheckSender checks an inbound message's sender against the table: with
// no table every sender is accepted; otherwise the party must be listed
// (ErrUnknownParty), the CPA id must be one configured for it
// (ErrUnknownCPAID) and, when its route names certificates, the message
// must have come over cs (the connection's TLS state, nil for none) with
// one of them (ErrSenderCertificate).
func (r *Routes) CheckSender(party, cpaID string, cs *tls.ConnectionState) error {
	if r == nil {
		return nil
	}
	rt, ok := r.byParty[party]
	if !ok {
		return fmt.Errorf("party %s: %w", party, ErrUnknownParty)
	}
	if !rt.acceptsCPA(cpaID) {
		return fmt.Errorf("CPA id %s for party %s: %w", cpaID, party, ErrUnknownCPAID)
	}
	return rt.checkCertificate(cs)
}

// CheckCertificate checks the client certificate of a message claiming
// party (cs: the connection's TLS state, nil for none) against the
// party's route: when it names certificates (CertNames) the message must
// have come with one of them (ErrSenderCertificate). A party without a
// route, or a route naming none, is not checked.
func (r *Routes) CheckCertificate(party string, cs *tls.ConnectionState) error {
	rt, ok := r.Lookup(party)
	if !ok {
		return nil
	}
	return rt.checkCertificate(cs)
}

// checkCertificate is CheckCertificate for the route rt.
func (rt Route) checkCertificate(cs *tls.ConnectionState) error {
	if len(rt.CertNames) == 0 {
		return nil
	}
	if cn, ok := certfile.PeerNamed(cs, rt.CertNames); !ok {
		return fmt.Errorf("party %s sent with client certificate %q: %w", rt.Party, cn, ErrSenderCertificate)
	}
	return nil
}

// routeJSON is one party's entry in the routes file.
type routeJSON struct {
	URL             string   `json:"url"`
	CPAID           string   `json:"cpaId"`
	AcceptCPAIDs    []string `json:"acceptCpaIds"`
	CertNames       []string `json:"certNames"`
	Retries         *int     `json:"retries"`
	RetryInterval   string   `json:"retryInterval"`
	PersistDuration string   `json:"persistDuration"`
}

// LoadRoutes reads the routing table from a JSON file (see ParseRoutes).
func LoadRoutes(path string, defaults Policy) (*Routes, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("routes file: %w", err)
	}
	r, err := ParseRoutes(b, defaults)
	if err != nil {
		return nil, fmt.Errorf("routes file %s: %w", path, err)
	}
	return r, nil
}

// ParseRoutes reads a routing table: a JSON object whose keys are party
// keys and whose values are objects with "url" (required, http or https),
// "cpaId", "acceptCpaIds", "certNames", "retries", "retryInterval" and
// "persistDuration". Durations are Go durations ("90s") or ISO 8601 as SDS
// writes them ("PT1M"); a setting left out takes its value from defaults.
// Unknown fields are errors (they are most likely typos). Every problem
// found is reported.
func ParseRoutes(b []byte, defaults Policy) (*Routes, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("want a JSON object of party key → route: %w", err)
	}
	if raw == nil {
		return nil, errors.New("want a JSON object of party key → route, got null")
	}
	if err := jsonkeys.Check(b, "party"); err != nil {
		return nil, err
	}
	r := &Routes{byParty: make(map[string]Route, len(raw))}
	var errs []error
	for party, v := range raw {
		rt, err := parseRoute(party, v, defaults)
		if err != nil {
			errs = append(errs, fmt.Errorf("party %q: %w", party, err))
			continue
		}
		r.byParty[party] = rt
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// parseRoute reads one party's route.
func parseRoute(party string, v json.RawMessage, defaults Policy) (Route, error) {
	if strings.TrimSpace(party) == "" || strings.TrimSpace(party) != party {
		return Route{}, errors.New("party key must be non-empty without surrounding spaces")
	}
	var rj routeJSON
	d := json.NewDecoder(bytes.NewReader(v))
	d.DisallowUnknownFields()
	if err := d.Decode(&rj); err != nil {
		return Route{}, fmt.Errorf("route: %w", err)
	}
	rt := Route{Party: party, URL: rj.URL, CPAID: rj.CPAID, AcceptCPAIDs: rj.AcceptCPAIDs, CertNames: rj.CertNames, Policy: defaults}
	var errs []error
	for _, n := range rj.CertNames {
		if strings.TrimSpace(n) == "" || strings.TrimSpace(n) != n {
			errs = append(errs, fmt.Errorf("certNames %q: want a certificate name without surrounding spaces", n))
		}
	}
	if u, err := url.Parse(rj.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url %q: want an http(s) URL", rj.URL))
	}
	if rj.Retries != nil {
		rt.Retries = *rj.Retries
	}
	for _, f := range []struct {
		name string
		val  string
		dst  *time.Duration
	}{{"retryInterval", rj.RetryInterval, &rt.RetryInterval}, {"persistDuration", rj.PersistDuration, &rt.PersistDuration}} {
		if f.val == "" {
			continue
		}
		d, err := ParseDuration(f.val)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		*f.dst = d
	}
	if err := rt.Policy.Validate(); err != nil {
		errs = append(errs, err)
	}
	return rt, errors.Join(errs...)
}
