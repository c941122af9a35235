package upstream

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	base := func(mod func(*Config)) Config {
		c := Config{BaseURL: "https://api.example/FHIR/R4"}
		if mod != nil {
			mod(&c)
		}
		return c.withDefaults()
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults ok", base(nil), ""},
		{"no base URL", base(func(c *Config) { c.BaseURL = "" }), "BaseURL is required"},
		{"relative base URL", base(func(c *Config) { c.BaseURL = "/FHIR/R4" }), "absolute"},
		{"api key without token URL", base(func(c *Config) { c.APIKey = "k"; c.PrivateKeyPath = "x" }), "TokenURL"},
		{"api key without key", base(func(c *Config) { c.APIKey = "k"; c.TokenURL = "https://api.example/oauth2/token" }), "PrivateKey"},
		{"jwt too long", base(func(c *Config) { c.JWTLifetime = 6 * time.Minute }), "JWTLifetime"},
		{"cert without key", base(func(c *Config) { c.TLS.CertFile = "c.pem" }), "together"},
		{"no attempts", base(func(c *Config) { c.Retry.MaxAttempts = -1 }), "MaxAttempts"},
		{"backoff inverted", base(func(c *Config) { c.Retry.BaseBackoff = time.Second; c.Retry.MaxBackoff = time.Millisecond }), "backoff"},
		{"negative timeout", base(func(c *Config) { c.Retry.TotalTimeout = -1 }), "timeouts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Retry.MaxAttempts != DefaultMaxAttempts || c.Retry.BaseBackoff != DefaultBaseBackoff ||
		c.Breaker.ConsecutiveFailures != DefaultBreakerTripFailed || c.Breaker.Timeout != DefaultBreakerTimeout ||
		c.JWTLifetime != DefaultJWTLifetime || c.MaxResponseBytes != DefaultMaxResponseBytes {
		t.Fatalf("defaults %+v", c)
	}
}

func TestBackoffFullJitter(t *testing.T) {
	var caps []time.Duration
	rt := retryTransport{cfg: RetryConfig{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
		Jitter: func(d time.Duration) time.Duration { caps = append(caps, d); return d / 2 }}}
	var got []time.Duration
	w := rt.waits()
	for i := 1; i <= 6; i++ {
		got = append(got, rt.nextWait(w))
	}
	wantCaps := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range wantCaps {
		if caps[i] != wantCaps[i]*time.Millisecond || got[i] != caps[i]/2 {
			t.Fatalf("retry %d: cap %v sleep %v, want cap %v", i+1, caps[i], got[i], wantCaps[i]*time.Millisecond)
		}
	}
	for range 1000 {
		if d := randomJitter(10 * time.Millisecond); d < 0 || d > 10*time.Millisecond {
			t.Fatalf("randomJitter out of range: %v", d)
		}
	}
	if randomJitter(0) != 0 {
		t.Fatal("randomJitter(0) != 0")
	}
}

func TestRetryableStatus(t *testing.T) {
	for code, want := range map[int]bool{500: true, 502: true, 503: true, 504: true, 501: false, 505: false, 400: false, 429: false, 200: false, 202: true, 201: false} {
		if retryableStatus(code) != want {
			t.Errorf("retryableStatus(%d) = %v", code, !want)
		}
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		u := newUUID()
		if len(u) != 36 || u[14] != '4' || strings.ToLower(u) != u || seen[u] {
			t.Fatalf("newUUID = %q", u)
		}
		seen[u] = true
	}
}

// TestTokenRetryBounds: token exchanges keep their own short bounds when
// EPS calls get long ones (the token endpoint waits for no Spine), and a
// shorter setting stands.
func TestTokenRetryBounds(t *testing.T) {
	for _, tt := range []struct {
		in, want RetryConfig
	}{
		{RetryConfig{AttemptTimeout: DefaultAttemptTimeout, TotalTimeout: DefaultTotalTimeout},
			RetryConfig{AttemptTimeout: 10 * time.Second, TotalTimeout: 30 * time.Second}},
		{RetryConfig{AttemptTimeout: time.Second, TotalTimeout: 5 * time.Second},
			RetryConfig{AttemptTimeout: time.Second, TotalTimeout: 5 * time.Second}},
	} {
		if got := tokenRetry(tt.in); got.AttemptTimeout != tt.want.AttemptTimeout || got.TotalTimeout != tt.want.TotalTimeout {
			t.Errorf("tokenRetry(%v, %v) = %v, %v; want %v, %v", tt.in.AttemptTimeout, tt.in.TotalTimeout,
				got.AttemptTimeout, got.TotalTimeout, tt.want.AttemptTimeout, tt.want.TotalTimeout)
		}
	}
}
