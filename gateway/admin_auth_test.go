package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminListenerAuth: the admin listener (TLS, tokens and client
// certificate roles from files, as Run configures it) lets each caller see
// what its role allows, refuses the rest, keeps /admin/* off the front
// door, and journals every look.
func TestAdminListenerAuth(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "test CA")
	srvCert, srvKey := ca.issue(t, "admin", true)
	opsCert, opsKey := ca.issue(t, "ops-desk", false)
	strangerCert, strangerKey := ca.issue(t, "stranger", false)
	cfg := testConfig()
	cfg.Admin = AdminConfig{
		Addr:         "127.0.0.1:0",
		TLSCertFile:  writeFile(t, dir, "admin.pem", srvCert),
		TLSKeyFile:   writeFile(t, dir, "admin.key", srvKey),
		ClientCAFile: writeFile(t, dir, "ca.pem", ca.pem),
		CertRoles:    "ops-desk=viewer",
		TokensFile: writeFile(t, dir, "tokens", []byte("# name role token\nalice reader alice-token-0123456789\n"+
			"bob admin bob-token-0123456789abcd\nvic viewer vic-token-0123456789abc\n")),
	}
	j := newTestJournal(t)
	g := startGateway(t, cfg, newMemoryStore(), false, WithJournal(j))
	addr := g.srv.AdminAddr(5 * time.Second)
	if addr == "" {
		t.Fatal("admin listener did not start")
	}
	base := "https://" + addr
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	client := func(certPEM, keyPEM []byte) *http.Client {
		tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if certPEM != nil {
			c, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			tc.Certificates = []tls.Certificate{c}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
	}
	plain := client(nil, nil)
	do := func(c *http.Client, token, path string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		client *http.Client
		token  string
		path   string
		want   int
	}{
		{"no credentials", plain, "", "/admin/api/state", 401},
		{"wrong token", plain, "not-a-token-at-all-xx", "/admin/api/exchanges", 401},
		{"viewer token sees live state", plain, "vic-token-0123456789abc", "/admin/api/state", 200},
		{"viewer token cannot see exchanges", plain, "vic-token-0123456789abc", "/admin/api/exchanges", 403},
		{"viewer token cannot see dead letters", plain, "vic-token-0123456789abc", PathDeadLetters, 403},
		{"reader token sees exchanges", plain, "alice-token-0123456789", "/admin/api/exchanges", 200},
		{"reader token sees moved /admin views", plain, "alice-token-0123456789", PathQueues, 200},
		{"reader token cannot see the access journal", plain, "alice-token-0123456789", "/admin/api/access", 403},
		{"admin token sees the access journal", plain, "bob-token-0123456789abcd", "/admin/api/access", 200},
		{"client certificate with a role", client(opsCert, opsKey), "", "/admin/api/state", 200},
		{"client certificate role bounds it", client(opsCert, opsKey), "", "/admin/api/exchanges", 403},
		{"client certificate without a role", client(strangerCert, strangerKey), "", "/admin/api/state", 401},
		{"the page needs a role too", plain, "", "/admin/ui/", 401},
		{"sign-in form is open", plain, "", "/admin/ui/login", 200},
		{"reader token cannot see the profiles", plain, "alice-token-0123456789", PathProfiles + "cmdline", 403},
		{"admin token sees the profiles", plain, "bob-token-0123456789abcd", PathProfiles + "cmdline", 200},
	}
	for _, tt := range tests {
		if got := do(tt.client, tt.token, tt.path); got != tt.want {
			t.Errorf("%s: GET %s = %d, want %d", tt.name, tt.path, got, tt.want)
		}
	}
	if code, _ := get(t, g.base+PathDeadLetters); code != 404 {
		t.Errorf("front door still serves %s: %d", PathDeadLetters, code)
	}
	if code, _ := get(t, g.base+PathProfiles+"cmdline"); code != 404 {
		t.Errorf("front door serves the profiles: %d", code)
	}
	waitFor(t, "the access journal", func() bool {
		list, _ := j.Backend().Accesses(t.Context(), 100)
		for _, a := range list {
			if a.Who == "token:alice" && a.What == "/admin/api/exchanges" && a.Status == 200 && a.Role == "reader" {
				return true
			}
		}
		return false
	})
	list, _ := j.Backend().Accesses(t.Context(), 100)
	for _, a := range list {
		if strings.Contains(a.Who, "token-") {
			t.Errorf("a token leaked into the access journal: %+v", a)
		}
	}
}

func TestAdminConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no auth off loopback", func(c *Config) { c.Admin.Addr, c.Admin.NoAuth = "0.0.0.0:8081", true }, "must be on loopback"},
		{"bad admin addr", func(c *Config) { c.Admin.Addr = "nowhere" }, "admin-addr"},
		{"cert roles without CA", func(c *Config) { c.Admin.CertRoles = "x=admin" }, "admin-cert-roles"},
		{"journal redis without redis", func(c *Config) { c.Journal.Backend = "redis" }, "needs --redis"},
		{"unknown journal", func(c *Config) { c.Journal.Backend = "disk" }, "want memory, redis or off"},
		{"compare same environment", func(c *Config) {
			c.UpstreamURL, c.Compare.LegacyURL = "https://eps.example/FHIR/R4", "https://eps.example/reliablemessaging"
		}, "another environment"},
		{"compare primary", func(c *Config) { c.Compare.Primary = "both" }, "want fhir or legacy"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
	cfg, err := LoadConfig([]string{"--journal", "memory", "--journal-max-age", "1h", "--journal-max-bytes", "1000",
		"--admin-addr", "127.0.0.1:9999", "--compare-legacy-url", "http://127.0.0.1:7000/spine", "--compare-primary", "legacy"},
		func(k string) string {
			if k == "PORXGATE_ADMIN_TOKEN" {
				return "from-env-0123456789"
			}
			return ""
		})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Journal.MaxAge != time.Hour || cfg.Journal.MaxBytes != 1000 || cfg.Admin.Addr != "127.0.0.1:9999" ||
		cfg.Admin.Token != "from-env-0123456789" || cfg.Compare.Primary != "legacy" || cfg.Compare.LegacyURL == "" {
		t.Errorf("flags not read: %+v %+v %+v", cfg.Journal, cfg.Admin, cfg.Compare)
	}
}

// TestAdminTokenGivenTwiceRefused: a token in the tokens file that is
// also PORXGATE_ADMIN_TOKEN is refused at start: its holder would have
// had whichever role came last (the byToken loop keeps the last match).
func TestAdminTokenGivenTwiceRefused(t *testing.T) {
	cfg := testConfig()
	cfg.Admin.NoAuth = false
	cfg.Admin.Token = "shared-token-0123456789"
	cfg.Admin.TokensFile = writeFile(t, t.TempDir(), "tokens", []byte("vic viewer shared-token-0123456789\n"))
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, quietLog(), NewMetrics())
	if _, err := srv.AdminServer(); err == nil || !strings.Contains(err.Error(), "PORXGATE_ADMIN_TOKEN") {
		t.Errorf("AdminServer() = %v, want the shared token refused", err)
	}
}
