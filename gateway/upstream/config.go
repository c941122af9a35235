package upstream

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Defaults applied by Config.withDefaults for every zero field.
const (
	DefaultJWTLifetime       = 5 * time.Minute
	DefaultTokenRenewBefore  = 60 * time.Second
	DefaultMaxResponseBytes  = 10 << 20
	DefaultUserAgent         = "porxgate"
	DefaultMaxAttempts       = 4
	DefaultBaseBackoff       = 200 * time.Millisecond
	DefaultMaxBackoff        = 5 * time.Second
	DefaultTotalTimeout      = 50 * time.Second
	DefaultAttemptTimeout    = 35 * time.Second
	DefaultBreakerMaxHalf    = 3
	DefaultBreakerInterval   = 60 * time.Second
	DefaultBreakerTimeout    = 5 * time.Second
	DefaultBreakerTripFailed = 5
	DefaultTrackerMaxPages   = 20
	maxJWTLifetime           = 5 * time.Minute

	// The token endpoint answers at once (it waits for no Spine), so its
	// exchanges keep shorter bounds than EPS calls: a hung one fails its
	// waiting calls in seconds rather than at EPS's 35s.
	maxTokenAttemptTimeout = 10 * time.Second
	maxTokenTotalTimeout   = 30 * time.Second
)

// tokenRetry is the retry policy of token exchanges: r with its timeouts
// capped at the token endpoint's.
func tokenRetry(r RetryConfig) RetryConfig {
	r.AttemptTimeout = min(r.AttemptTimeout, maxTokenAttemptTimeout)
	r.TotalTimeout = min(r.TotalTimeout, maxTokenTotalTimeout)
	return r
}

// Config configures a Client. Zero fields take the documented defaults.
type Config struct {
	// BaseURL is the EPS FHIR base, e.g.
	// "https://int.api.service.nhs.uk/electronic-prescriptions/FHIR/R4" or the
	// simulator's "http://127.0.0.1:9000/FHIR/R4". Required.
	BaseURL string `json:"baseURL"`
	// TokenURL is the OAuth2 token endpoint, e.g.
	// "https://int.api.service.nhs.uk/oauth2/token". Required when APIKey is set;
	// it is also the JWT's aud claim.
	TokenURL string `json:"tokenURL"`
	// APIKey is the application's key; it is the JWT's iss and sub. Empty
	// disables authentication: no token is fetched and no Authorization sent.
	APIKey string `json:"apiKey"`
	// Kid is the key id put in the JWT header (matches the JWKS the app
	// registered).
	Kid string `json:"kid"`
	// PrivateKey signs the JWT (RS512). Takes precedence over PrivateKeyPath.
	PrivateKey *rsa.PrivateKey `json:"-"`
	// PrivateKeyPath is a PEM file (PKCS#1 "RSA PRIVATE KEY" or PKCS#8
	// "PRIVATE KEY") read by New when PrivateKey is nil.
	PrivateKeyPath string `json:"privateKeyPath"`
	// JWTLifetime is the client assertion's exp minus now. Default 5m; values
	// above 5m are rejected (the token endpoint refuses them).
	JWTLifetime time.Duration `json:"jwtLifetime"`
	// TokenRenewBefore renews the cached access token this long before it
	// expires (capped at half the token's lifetime). Default 60s.
	TokenRenewBefore time.Duration `json:"tokenRenewBefore"`

	// TLS holds the optional client certificate and CA for mutual TLS.
	TLS TLSConfig `json:"tls"`

	// MaxResponseBytes caps a response body. Default 10 MiB. It also caps
	// the pages of one tracker answer together (TrackerGet).
	MaxResponseBytes int64 `json:"maxResponseBytes"`
	// TrackerMaxPages caps the pages of one tracker answer TrackerGet
	// fetches by following Bundle.link "next" (the first included). Default
	// 20; 1 follows no link (a paged answer is then an error, never cut short).
	TrackerMaxPages int `json:"trackerMaxPages"`
	// UserAgent is sent on every request. Default "porxgate".
	UserAgent string `json:"userAgent"`

	// Retry is the retry policy.
	Retry RetryConfig `json:"retry"`
	// Breaker holds the circuit breaker settings, the same for every operation.
	Breaker BreakerConfig `json:"breaker"`

	// OnBreakerStateChange, when set, is called after every breaker state
	// change with the operation name (see Operations) and the new state
	// ("closed", "half-open", "open"), e.g. to set a Prometheus gauge. It is
	// called synchronously from the request path: keep it quick and do not
	// call Client methods from it.
	OnBreakerStateChange func(op, from, to string) `json:"-"`

	// ObserveAttempt, when set, is called after every attempt that reached
	// the network with the operation, the outcome (the HTTP status code, or
	// AttemptError, AttemptTimeout), the party of the context (PartyOf, ""
	// when none) and how long the attempt took, e.g. to feed a latency
	// histogram. Like OnBreakerStateChange it runs on the request path:
	// keep it quick.
	ObserveAttempt func(op, status, party string, d time.Duration) `json:"-"`

	// TracerProvider, when set, gives every attempt an OpenTelemetry client
	// span ("EPS <operation>", child of the caller's span in ctx) and sends
	// its W3C traceparent to EPS.
	TracerProvider trace.TracerProvider `json:"-"`

	// Transport is the innermost RoundTripper; nil builds an *http.Transport
	// from TLS. Tests use it to count or fail connections.
	Transport http.RoundTripper `json:"-"`
	// Tap, when set, wraps each EPS FHIR call's attempt (below the retries,
	// above authentication, so it never sees a token; not the token
	// endpoint's calls), e.g. to journal the request and the answer.
	Tap func(next http.RoundTripper) http.RoundTripper `json:"-"`
	// Now is the clock; nil means time.Now.
	Now func() time.Time `json:"-"`
	// NewID makes X-Request-ID, X-Correlation-ID and JWT jti values; nil means
	// random UUID v4 (lower case).
	NewID func() string `json:"-"`
}

// TLSConfig is the optional mutual TLS material (HSCN deployments).
type TLSConfig struct {
	// CertFile and KeyFile are the PEM client certificate and key. Both or
	// neither.
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
	// CAFile is a PEM bundle of CAs that verify the server; empty means the
	// system pool. It follows its file: a bundle written over it is
	// trusted from the next request (certfile.RootsTransport).
	CAFile string `json:"caFile"`
	// ServerName overrides the name checked in the server certificate.
	ServerName string `json:"serverName"`
}

// RetryConfig is the retry policy. Only network errors, 5xx answers and
// 429/408 refusals are retried.
type RetryConfig struct {
	// MaxAttempts is the number of attempts including the first. Default 4.
	// 1 disables retries.
	MaxAttempts int `json:"maxAttempts"`
	// BaseBackoff is the backoff cap before the first retry; it doubles per
	// retry up to MaxBackoff. The sleep is drawn uniformly from [0, cap] (full
	// jitter). Default 200ms.
	BaseBackoff time.Duration `json:"baseBackoff"`
	// MaxBackoff caps the backoff. Default 5s.
	MaxBackoff time.Duration `json:"maxBackoff"`
	// TotalTimeout bounds one call including every attempt and sleep.
	// Default 50s: one whole attempt and a retry of a quick failure, within
	// the SOAP front door's 55s.
	TotalTimeout time.Duration `json:"totalTimeout"`
	// AttemptTimeout bounds one attempt (connect, send, read the whole
	// answer). Default 35s: EPS answers only once it has Spine's answer,
	// polling Spine 0.5s after sending and then every 5s until 25s have
	// passed (its 500 TIMEOUT then), so an attempt cut sooner abandons
	// calls EPS is still working on and sends them again.
	AttemptTimeout time.Duration `json:"attemptTimeout"`
	// Jitter returns a duration in [0, max]; nil means uniformly random.
	// Tests inject a deterministic source.
	Jitter func(max time.Duration) time.Duration `json:"-"`
}

// BreakerConfig is the gobreaker v2 setting used for each operation's breaker.
type BreakerConfig struct {
	// MaxRequestsHalfOpen is how many probe calls pass while half-open;
	// that many successes in a row close the breaker. Default 3. The token
	// endpoint's breaker takes one probe whatever this says: its exchanges
	// run one at a time, one per token lifetime.
	MaxRequestsHalfOpen uint32 `json:"maxRequestsHalfOpen"`
	// Interval clears the failure counts while closed. Default 60s.
	Interval time.Duration `json:"interval"`
	// Timeout is how long the breaker stays open before going half-open.
	// Default 5s: it bounds how long accepted messages wait after EPS
	// recovers. It is also how long a standing refusal of porxgate's
	// credentials (EPS refused a freshly exchanged access token too) lasts
	// before one renewal is tried again.
	Timeout time.Duration `json:"timeout"`
	// ConsecutiveFailures trips the breaker. Default 5.
	ConsecutiveFailures uint32 `json:"consecutiveFailures"`
}

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.JWTLifetime == 0 {
		c.JWTLifetime = DefaultJWTLifetime
	}
	if c.TokenRenewBefore == 0 {
		c.TokenRenewBefore = DefaultTokenRenewBefore
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.TrackerMaxPages == 0 {
		c.TrackerMaxPages = DefaultTrackerMaxPages
	}
	r := &c.Retry
	if r.MaxAttempts == 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	if r.BaseBackoff == 0 {
		r.BaseBackoff = DefaultBaseBackoff
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.TotalTimeout == 0 {
		r.TotalTimeout = DefaultTotalTimeout
	}
	if r.AttemptTimeout == 0 {
		r.AttemptTimeout = DefaultAttemptTimeout
	}
	b := &c.Breaker
	if b.MaxRequestsHalfOpen == 0 {
		b.MaxRequestsHalfOpen = DefaultBreakerMaxHalf
	}
	if b.Interval == 0 {
		b.Interval = DefaultBreakerInterval
	}
	if b.Timeout == 0 {
		b.Timeout = DefaultBreakerTimeout
	}
	if b.ConsecutiveFailures == 0 {
		b.ConsecutiveFailures = DefaultBreakerTripFailed
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		c.NewID = newUUID
	}
	if c.Retry.Jitter == nil {
		c.Retry.Jitter = randomJitter
	}
	return c
}

// Validate checks c (after defaults) without side effects.
func (c Config) Validate() error {
	var errs []error
	if err := checkURL("BaseURL", c.BaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.APIKey != "" {
		if err := checkURL("TokenURL", c.TokenURL); err != nil {
			errs = append(errs, err)
		}
		if c.PrivateKey == nil && c.PrivateKeyPath == "" {
			errs = append(errs, errors.New("APIKey set but neither PrivateKey nor PrivateKeyPath"))
		}
	}
	if c.JWTLifetime < 0 || c.JWTLifetime > maxJWTLifetime {
		errs = append(errs, fmt.Errorf("JWTLifetime %s outside (0, %s]", c.JWTLifetime, maxJWTLifetime))
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("TLS.CertFile and TLS.KeyFile must be set together"))
	}
	if c.Retry.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("Retry.MaxAttempts %d < 1", c.Retry.MaxAttempts))
	}
	if c.Retry.BaseBackoff < 0 || c.Retry.MaxBackoff < c.Retry.BaseBackoff {
		errs = append(errs, fmt.Errorf("Retry backoff base %s / max %s invalid", c.Retry.BaseBackoff, c.Retry.MaxBackoff))
	}
	if c.Retry.TotalTimeout < 0 || c.Retry.AttemptTimeout < 0 {
		errs = append(errs, errors.New("Retry timeouts must not be negative"))
	}
	if c.Breaker.Interval < 0 || c.Breaker.Timeout < 0 {
		errs = append(errs, errors.New("Breaker durations must not be negative"))
	}
	if c.MaxResponseBytes < 0 {
		errs = append(errs, errors.New("MaxResponseBytes must not be negative"))
	}
	if c.TrackerMaxPages < 0 {
		errs = append(errs, errors.New("TrackerMaxPages must not be negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("upstream config: %w", errors.Join(errs...))
	}
	return nil
}

func checkURL(name, raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is required", name)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q: need an absolute http(s) URL", name, raw)
	}
	return nil
}
