package upstream

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func genKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// assertionClaims are the claims, as the test decodes them, of the OAuth2 client assertion that the NHS
// API platform expects for application-restricted access.
type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Jti string `json:"jti"`
	Exp int64  `json:"exp"`
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid,omitempty"`
}

func TestSignAssertion(t *testing.T) {
	key := genKey(t)
	jwt, err := signAssertion(key, "kid-1", "app", "https://x/oauth2/token", "jti-1", t0, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("jwt %q", jwt)
	}
	enc := base64.RawURLEncoding
	sig, _ := enc.DecodeString(parts[2])
	sum := sha512.Sum512([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA512, sum[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var h jwtHeader
	var c assertionClaims
	hb, _ := enc.DecodeString(parts[0])
	cb, _ := enc.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil {
		t.Fatal("undecodable JWT")
	}
	want := assertionClaims{Iss: "app", Sub: "app", Aud: "https://x/oauth2/token", Jti: "jti-1", Exp: t0.Add(5 * time.Minute).Unix()}
	if h != (jwtHeader{Alg: "RS512", Typ: "JWT", Kid: "kid-1"}) || c != want {
		t.Fatalf("header %+v claims %+v", h, c)
	}
	if _, err := signAssertion(nil, "k", "a", "u", "j", t0, time.Minute); err == nil {
		t.Fatal("signed without a key")
	}
}

func TestParseExpiresIn(t *testing.T) {
	tests := []struct {
		raw  string
		want time.Duration
		ok   bool
	}{
		{`"599"`, 599 * time.Second, true},
		{`599`, 599 * time.Second, true},
		{`1.5`, 1500 * time.Millisecond, true},
		{``, 0, false},
		{`"0"`, 0, false},
		{`"-5"`, 0, false},
		{`"soon"`, 0, false},
		{`null`, 0, false},
		{`1e308`, 24 * time.Hour, true},
		{`"NaN"`, 0, false},
	}
	for _, tt := range tests {
		got, err := parseExpiresIn(json.RawMessage(tt.raw))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseExpiresIn(%s) = %v, %v; want %v ok=%v", tt.raw, got, err, tt.want, tt.ok)
		}
	}
}

// authSetup starts a simulator checking key and a client holding it; both
// run on clk.
func authSetup(t *testing.T, key *rsa.PrivateKey, clientKey *rsa.PrivateKey, clk *clock) (*sim.Server, *Client, *recorder) {
	t.Helper()
	s, root := startSim(t, sim.Options{PublicKey: &key.PublicKey, APIKey: "app-key", Kid: "k1",
		TokenAudience: "", Now: clk.Now})
	rec := newRecorder()
	cfg := testConfig(root, rec)
	cfg.APIKey, cfg.Kid, cfg.PrivateKey, cfg.TokenURL, cfg.Now = "app-key", "k1", clientKey, root+"/oauth2/token", clk.Now
	return s, newClient(t, cfg), rec
}

func TestTokenSharedUnderConcurrency(t *testing.T) {
	key := genKey(t)
	clk := &clock{t: t0}
	s, c, rec := authSetup(t, key, key, clk)
	burst := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := c.TrackerGet(context.Background(), map[string][]string{"identifier": {"X"}})
				if err == nil && r.Status != 200 {
					err = errors.New(string(r.Body))
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	burst()
	if st := s.Stats(); st.TokenRequests != 1 || st.Unauthorized != 0 {
		t.Fatalf("after the first burst: %+v, want exactly 1 token request", st)
	}
	clk.Add(10 * time.Minute) // past expiry: every caller needs the renewal
	burst()
	if st := s.Stats(); st.TokenRequests != 2 || st.Unauthorized != 0 {
		t.Fatalf("after expiry: %+v, want exactly 2 token requests", st)
	}
	for _, a := range rec.attempts("/Task") {
		if !strings.HasPrefix(a.auth, "Bearer ") {
			t.Fatalf("call without bearer token: %q", a.auth)
		}
	}
	if rec.attempts("/oauth2/token")[0].auth != "" {
		t.Fatal("token request carried an Authorization header")
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	key := genKey(t)
	clk := &clock{t: t0}
	s, c, _ := authSetup(t, key, key, clk)
	ctx := context.Background()
	if _, err := c.Metadata(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(550 * time.Second) // past renewal point (599s - 60s), token still valid
	if r, err := c.Metadata(ctx); err != nil || r.Status != 200 {
		t.Fatalf("call during renewal: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().TokensIssued < 2 {
		if time.Now().After(deadline) {
			t.Fatal("token not renewed in the background")
		}
		time.Sleep(5 * time.Millisecond)
	}
	clk.Add(100 * time.Second) // the first token has expired by now
	if r, err := c.Metadata(ctx); err != nil || r.Status != 200 {
		t.Fatalf("call with the renewed token: %v %v", r, err)
	}
	if st := s.Stats(); st.TokenRequests != 2 {
		t.Fatalf("%d token requests, want 2", st.TokenRequests)
	}
}

func TestTokenRejectedIs401ThenRenewed(t *testing.T) {
	s, c := expiredEarly(t) // the client still trusts its token, the simulator has expired it
	r, err := c.Metadata(context.Background())
	wantStatus(t, "metadata after 401", r, err, 200)
	if st := s.Stats(); st.Unauthorized != 1 || st.TokenRequests != 2 {
		t.Fatalf("stats %+v, want one 401 and a second token", st)
	}
}

func TestTokenRefused(t *testing.T) {
	clk := &clock{t: t0}
	s, c, _ := authSetup(t, genKey(t), genKey(t), clk)
	_, err := c.ProcessMessage(context.Background(), []byte(`{}`))
	var te *TokenError
	if !errors.As(err, &te) || te.Status != 401 {
		t.Fatalf("err = %v, want a TokenError with status 401", err)
	}
	if st := s.Stats(); st.TokenRequests != 1 || st.Requests["process-message"] != 0 {
		t.Fatalf("stats %+v: a refused token must not be retried nor the call sent", st)
	}
}

func TestPrivateKeyLoading(t *testing.T) {
	key := genKey(t)
	dir := t.TempDir()
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	files := map[string][]byte{
		"pkcs1.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"pkcs8.pem": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"cert.pem":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}),
		"junk.pem":  []byte("not pem"),
		"bad1.pem":  pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte("x")}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, ok := range map[string]bool{"pkcs1.pem": true, "pkcs8.pem": true, "cert.pem": false, "junk.pem": false, "bad1.pem": false, "missing.pem": false} {
		k, err := LoadPrivateKey(filepath.Join(dir, name))
		if (err == nil) != ok || ok && !k.Equal(key) {
			t.Errorf("LoadPrivateKey(%s) = %v", name, err)
		}
	}
	_, err := New(Config{BaseURL: "http://127.0.0.1:1/FHIR/R4", APIKey: "a", TokenURL: "http://127.0.0.1:1/oauth2/token",
		PrivateKeyPath: filepath.Join(dir, "pkcs8.pem")}, quiet)
	if err != nil {
		t.Fatalf("New with PrivateKeyPath: %v", err)
	}
	_, err = New(Config{BaseURL: "http://127.0.0.1:1/FHIR/R4", APIKey: "a", TokenURL: "http://127.0.0.1:1/oauth2/token",
		PrivateKeyPath: filepath.Join(dir, "junk.pem")}, quiet)
	if err == nil {
		t.Fatal("New accepted a junk key file")
	}
}

func FuzzParseExpiresIn(f *testing.F) {
	f.Add([]byte(`"599"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if d, err := parseExpiresIn(json.RawMessage(raw)); err == nil && d <= 0 {
			t.Fatalf("parseExpiresIn(%q) = %v without error", raw, d)
		}
	})
}
