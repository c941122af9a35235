package gateway

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
)

// writeKey writes a new RSA key as PKCS#1 PEM and returns it with its path.
func writeKey(t *testing.T, dir, name string) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return k, p
}

func TestLoadUpstreamIdentities(t *testing.T) {
	dir := t.TempDir()
	_, key := writeKey(t, dir, "a.pem")
	tests := []struct {
		name, body, wantErr string
	}{
		{"ok", `{"FQ2KM-807341": {"apiKey": "a", "kid": "k1", "privateKey": "` + key + `"}, "200000009876": {"clientCert": "` + key + `", "clientKey": "` + key + `"}}`, ""},
		{"unknown field", `{"P": {"apiSecret": "a"}}`, "unknown field"},
		{"not an object", `[]`, "cannot unmarshal"},
		{"api key alone", `{"P": {"apiKey": "a"}}`, "needs its own kid and privateKey"},
		{"cert without key", `{"P": {"clientCert": "` + key + `"}}`, "go together"},
		{"kid without key", `{"P": {"kid": "k2"}}`, "kid and privateKey go together"},
		{"empty identity", `{"P": {}}`, "no identity fields"},
		{"missing key file", `{"P": {"apiKey": "a", "kid": "k", "privateKey": "/nonexistent.pem"}}`, "nonexistent"},
		// JSON keeps the last of two identities of one party.
		{"party twice", `{"P": {"apiKey": "a", "kid": "k1", "privateKey": "` + key + `"}, "P": {"apiKey": "b", "kid": "k2", "privateKey": "` + key + `"}}`, `party "P" given more than once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(p, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			ids, err := LoadUpstreamIdentities(p)
			if tt.wantErr == "" {
				if err != nil || len(ids) != 2 || ids["FQ2KM-807341"].Kid != "k1" {
					t.Fatalf("ids %v err %v", ids, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// partyRecorder is a Processor that records the party of its context.
type partyRecorder struct{ got string }

func (p *partyRecorder) Supports(string) bool { return true }
func (p *partyRecorder) Process(ctx context.Context, _ *Inbound) (*Outcome, error) {
	p.got = upstream.PartyOf(ctx)
	return &Outcome{}, nil
}

func TestPartyScoped(t *testing.T) {
	for _, tt := range []struct {
		in   Inbound
		want string
	}{
		{Inbound{FromParty: "FQ2KM-807341", FromASID: "x"}, "FQ2KM-807341"},
		{Inbound{FromASID: "200000009876"}, "200000009876"},
		{Inbound{}, ""},
	} {
		rec := &partyRecorder{}
		if _, err := PartyScoped(rec).Process(context.Background(), &tt.in); err != nil || rec.got != tt.want {
			t.Errorf("%+v: party %q err %v, want %q", tt.in, rec.got, err, tt.want)
		}
	}
}

// TestPerPartyIdentityReachesEPS runs a simulator that only accepts the
// application "party-app" and checks that a party with that identity gets
// through while the default identity ("default-app") is refused, and that
// the attempt metrics carry the party.
func TestPerPartyIdentityReachesEPS(t *testing.T) {
	dir := t.TempDir()
	key, keyPath := writeKey(t, dir, "signing.pem")
	s := sim.New(sim.Options{Logger: quietLog(), PublicKey: &key.PublicKey, APIKey: "party-app"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()

	m := NewMetrics()
	up, stop := openWithPartyIdentity(t, m, dir, "http://"+ln.Addr().String(), "FQ2KM-807341", keyPath)
	defer stop()
	api := up.PartyAPI()
	bundle := []byte(`{"resourceType":"Bundle"}`)
	resp, err := api.ProcessMessage(upstream.WithParty(context.Background(), "FQ2KM-807341"), bundle)
	if err != nil || resp.Status == 401 {
		t.Fatalf("party identity: resp %+v err %v; want EPS to take the token", resp, err)
	}
	resp, err = api.ProcessMessage(upstream.WithParty(context.Background(), "OTHER-PARTY"), bundle)
	if err == nil && resp.Status != 401 {
		t.Fatalf("default identity: status %d; want the simulator to refuse default-app", resp.Status)
	}
	// Pending-cancellation polls ask the EPS tracker under the party's identity too.
	tracker := up.PartyTrackerAPI()
	q := url.Values{"focus:identifier": {"A0548B-A99968-451485"}}
	if resp, err := tracker.TrackerGet(upstream.WithParty(context.Background(), "FQ2KM-807341"), q); err != nil || resp.Status == 401 {
		t.Fatalf("tracker under the party identity: resp %+v err %v", resp, err)
	}
	if resp, err := tracker.TrackerGet(upstream.WithParty(context.Background(), "OTHER-PARTY"), q); err == nil && resp.Status != 401 {
		t.Fatalf("tracker under the default identity: status %d; want the simulator to refuse default-app", resp.Status)
	}
	if n := histogramSamples(t, m, "porxgate_upstream_request_duration_seconds", map[string]string{"party": "FQ2KM-807341"}); n == 0 {
		t.Fatal("no EPS attempt recorded under the party")
	}
	if n := histogramSamples(t, m, "porxgate_upstream_request_duration_seconds", map[string]string{"party": "OTHER-PARTY"}); n != 0 {
		t.Fatal("a sender without an identity of its own has series of its own")
	}
	if n := histogramSamples(t, m, "porxgate_upstream_request_duration_seconds", map[string]string{"party": defaultIdentity}); n == 0 {
		t.Fatal("no EPS attempt recorded under the default identity")
	}
}

// openWithPartyIdentity opens the upstream EPS at base (FHIR under
// /FHIR/R4, token at /oauth2/token) with the default identity
// "default-app" and party's own "party-app", both signing with keyPath.
func openWithPartyIdentity(t *testing.T, m *Metrics, dir, base, party, keyPath string) (*EPSClient, func()) {
	t.Helper()
	idFile := filepath.Join(dir, "identities.json")
	body := `{"` + party + `": {"apiKey": "party-app", "kid": "party-key-1", "privateKey": "` + keyPath + `"}}`
	if err := os.WriteFile(idFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.UpstreamURL = base + "/FHIR/R4"
	cfg.Upstream = UpstreamConfig{TokenURL: base + "/oauth2/token", APIKey: "default-app", Kid: "default-key-1", PrivateKeyFile: keyPath}
	cfg.UpstreamIdentitiesFile = idFile
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), m)
	if err != nil {
		t.Fatal(err)
	}
	return up, stop
}

// TestPartyBreakerSeenApart trips one party's process-message breaker (EPS
// answers every FHIR call 503) and checks that the breaker gauge and the
// breaker states /readyz and the admin page show tell it from the default
// identity's, which stays closed. Before, every party's client wrote the
// same gauge series and only the default client's breakers were shown.
func TestPartyBreakerSeenApart(t *testing.T) {
	dir := t.TempDir()
	_, keyPath := writeKey(t, dir, "signing.pem")
	eps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"t","expires_in":"599","token_type":"Bearer"}`))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer eps.Close()
	const party = "FQ2KM-807341"
	m := NewMetrics()
	up, stop := openWithPartyIdentity(t, m, dir, eps.URL, party, keyPath)
	defer stop()
	partyKey := party + "/" + upstream.OpProcessMessage
	if got := up.BreakerStates()[partyKey]; got != "closed" {
		t.Fatalf("party breaker before = %q, want closed (states %v)", got, up.BreakerStates())
	}
	api := up.PartyAPI()
	ctx := upstream.WithParty(context.Background(), party)
	for i := 0; i < 10 && up.BreakerStates()[partyKey] != "open"; i++ {
		_, _ = api.ProcessMessage(ctx, []byte(`{"resourceType":"Bundle"}`))
	}
	states := up.BreakerStates()
	if states[partyKey] != "open" || states[upstream.OpProcessMessage] != "closed" {
		t.Fatalf("breaker states %v; want %s open and the default's %s closed", states, partyKey, upstream.OpProcessMessage)
	}
	if got := gaugeValue(t, m, "porxgate_upstream_breaker_state", map[string]string{"operation": upstream.OpProcessMessage, "identity": party}); got != 2 {
		t.Errorf("party breaker gauge = %v, want 2 (open)", got)
	}
	if got := gaugeValue(t, m, "porxgate_upstream_breaker_state", map[string]string{"operation": upstream.OpProcessMessage, "identity": defaultIdentity}); got != 0 {
		t.Errorf("default breaker gauge = %v, want 0 (closed)", got)
	}
}

// TestPartyCredentialsNotInClear: a party's own OAuth2 credentials, or its
// client certificate, over plain http to another machine are refused when
// the upstream opens, as the default identity's are by Config.Validate.
// Before, only the default identity was checked: a party's signed client
// assertion and the tokens it bought went in clear.
func TestPartyCredentialsNotInClear(t *testing.T) {
	dir := t.TempDir()
	_, keyPath := writeKey(t, dir, "signing.pem")
	certPath, certKeyPath := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key")
	for _, f := range []string{certPath, certKeyPath} {
		if err := os.WriteFile(f, []byte("-"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, upstreamURL, identity, want string
	}{
		{"api key, remote http", "http://eps.example/FHIR/R4",
			`{"apiKey": "party-app", "kid": "k1", "privateKey": "` + keyPath + `"}`, "OAuth2 credentials"},
		{"client certificate, remote http", "http://eps.example/FHIR/R4",
			`{"clientCert": "` + certPath + `", "clientKey": "` + certKeyPath + `"}`, "needs an https upstream"},
		{"api key, loopback http", "http://127.0.0.1:9/FHIR/R4",
			`{"apiKey": "party-app", "kid": "k1", "privateKey": "` + keyPath + `"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idFile := filepath.Join(dir, "identities.json")
			if err := os.WriteFile(idFile, []byte(`{"FQ2KM-807341": `+tc.identity+`}`), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.UpstreamURL = tc.upstreamURL
			cfg.Upstream.TokenURL = strings.Replace(tc.upstreamURL, "/FHIR/R4", "/oauth2/token", 1)
			cfg.UpstreamIdentitiesFile = idFile
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics())
			if err == nil {
				stop()
				_ = up
			}
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v; want a refusal naming %q", err, tc.want)
			}
		})
	}
}

// TestPartyOwnSigningKey: a party given its own kid and private key but
// not an API key of its own signs under the default identity's API key
// with its own key, as "empty fields take the default identity's" says;
// and with no API key anywhere such a key would go unused, so the upstream
// does not open. Before, the party's kid and key were accepted and
// silently ignored: its calls went out signed with the default's key.
func TestPartyOwnSigningKey(t *testing.T) {
	dir := t.TempDir()
	_, defaultKeyPath := writeKey(t, dir, "default.pem")
	partyKey, partyKeyPath := writeKey(t, dir, "party.pem")
	_, base := serveSim(t, sim.Options{PublicKey: &partyKey.PublicKey, APIKey: "default-app"})
	const party = "FQ2KM-807341"
	idFile := filepath.Join(dir, "identities.json")
	body := `{"` + party + `": {"kid": "party-key-2", "privateKey": "` + partyKeyPath + `"}}`
	if err := os.WriteFile(idFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.UpstreamURL = base + "/FHIR/R4"
	cfg.UpstreamIdentitiesFile = idFile

	// No API key anywhere: the party's key could sign nothing.
	if up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics()); err == nil {
		stop()
		t.Fatalf("opened %v with a party signing key and no API key to sign for", up.Describe())
	} else if !strings.Contains(err.Error(), "apiKey") {
		t.Fatalf("err %v; want a refusal naming the missing apiKey", err)
	}

	cfg.Upstream = UpstreamConfig{TokenURL: base + "/oauth2/token", APIKey: "default-app", Kid: "default-key-1", PrivateKeyFile: defaultKeyPath}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	up, stop, err := OpenUpstream(context.Background(), cfg, quietLog(), NewMetrics())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	api := up.PartyAPI()
	bundle := []byte(`{"resourceType":"Bundle"}`)
	resp, err := api.ProcessMessage(upstream.WithParty(context.Background(), party), bundle)
	if err != nil || resp.Status == http.StatusUnauthorized {
		t.Fatalf("party signing with its own key: resp %+v err %v; want the token endpoint to take its assertion", resp, err)
	}
	if _, err := api.ProcessMessage(upstream.WithParty(context.Background(), "OTHER-PARTY"), bundle); err == nil {
		t.Fatal("the default key's assertion was taken; want it refused (the simulator knows only the party's key)")
	}
}
