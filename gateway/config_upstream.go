package gateway

import (
	"fmt"
	"net/url"
	"os"
	"strings"
)

// UpstreamConfig configures the EPS FHIR client beyond its base URL: the
// application-restricted OAuth2 credentials and the client certificate used
// for mutual TLS on HSCN. All empty (the default) means no authentication
// and plain server-authenticated TLS, as the built-in simulator needs.
type UpstreamConfig struct {
	// TokenURL is the OAuth2 token endpoint (--upstream-token-url,
	// PORXGATE_UPSTREAM_TOKEN_URL); required with APIKey.
	TokenURL string
	// APIKey is the application's API key, the JWT's iss and sub
	// (--upstream-api-key, PORXGATE_UPSTREAM_API_KEY); empty: no OAuth2.
	APIKey string
	// Kid is the JWT kid header (--upstream-kid, PORXGATE_UPSTREAM_KID).
	Kid string
	// PrivateKeyFile is the PEM RSA key that signs the JWT
	// (--upstream-private-key, PORXGATE_UPSTREAM_PRIVATE_KEY).
	PrivateKeyFile string
	// ClientCertFile and ClientKeyFile are the PEM client certificate and
	// key for mutual TLS (--upstream-client-cert/--upstream-client-key,
	// PORXGATE_UPSTREAM_CLIENT_CERT/_KEY).
	ClientCertFile, ClientKeyFile string
	// CAFile is a PEM bundle of CAs trusted for the upstream's certificate
	// (--upstream-ca, PORXGATE_UPSTREAM_CA); empty: the system roots. A
	// bundle written over the file is trusted from the next call, without
	// a restart.
	CAFile string
}

// registerUpstreamFlags declares the upstream flags through str, the
// LoadConfig helper that also reads the PORXGATE_* variable.
func registerUpstreamFlags(str func(p *string, name, env, usage string), u *UpstreamConfig) {
	str(&u.TokenURL, "upstream-token-url", "UPSTREAM_TOKEN_URL", "OAuth2 token endpoint of the EPS FHIR API")
	str(&u.APIKey, "upstream-api-key", "UPSTREAM_API_KEY", "API key (JWT iss/sub); empty: no OAuth2")
	str(&u.Kid, "upstream-kid", "UPSTREAM_KID", "kid header of the signed JWT")
	str(&u.PrivateKeyFile, "upstream-private-key", "UPSTREAM_PRIVATE_KEY", "PEM RSA private key that signs the JWT")
	str(&u.ClientCertFile, "upstream-client-cert", "UPSTREAM_CLIENT_CERT", "PEM client certificate for mutual TLS to the upstream")
	str(&u.ClientKeyFile, "upstream-client-key", "UPSTREAM_CLIENT_KEY", "PEM key of --upstream-client-cert")
	str(&u.CAFile, "upstream-ca", "UPSTREAM_CA", "PEM CAs trusted for the upstream; empty: system roots")
}

// validate reports the upstream settings' problems; identities says
// whether per-party identities (--upstream-identities) are configured,
// which may bring the API keys the default settings sign for.
func (u UpstreamConfig) validate(upstreamURL string, identities bool) []error {
	var errs []error
	if upstreamURL == "" && (u.APIKey != "" || u.ClientCertFile != "") {
		errs = append(errs, fmt.Errorf("upstream credentials given but no --upstream URL: the built-in simulator takes none"))
	}
	if u.APIKey == "" && !identities {
		// OAuth2 is off without an API key: the others would be ignored,
		// no token fetched, and EPS refuse every call (401) while the
		// gateway took messages in. An API key left out (a secret not
		// mounted, a misspelt variable) is far likelier than settings
		// given for nothing. Per-party identities may bring their own API
		// keys, for which the token URL, kid and key are shared.
		var given []string
		for _, f := range []struct{ flag, v string }{
			{"--upstream-token-url", u.TokenURL}, {"--upstream-kid", u.Kid}, {"--upstream-private-key", u.PrivateKeyFile},
		} {
			if f.v != "" {
				given = append(given, f.flag)
			}
		}
		if len(given) > 0 {
			errs = append(errs, fmt.Errorf("%s given without --upstream-api-key (PORXGATE_UPSTREAM_API_KEY): OAuth2 is off without an API key, so they would go unused and EPS refuse every call", strings.Join(given, ", ")))
		}
	}
	if u.APIKey != "" {
		if u.TokenURL == "" {
			errs = append(errs, fmt.Errorf("upstream-api-key given without --upstream-token-url"))
		}
		if u.PrivateKeyFile == "" {
			errs = append(errs, fmt.Errorf("upstream-api-key given without --upstream-private-key"))
		}
		if u.Kid == "" {
			errs = append(errs, fmt.Errorf("upstream-api-key given without --upstream-kid"))
		}
	}
	if u.TokenURL != "" {
		if t, err := url.Parse(u.TokenURL); err != nil || (t.Scheme != "http" && t.Scheme != "https") || t.Host == "" {
			errs = append(errs, fmt.Errorf("upstream-token-url %q: want an http(s) URL such as https://int.api.service.nhs.uk/oauth2/token", redacted(u.TokenURL)))
		}
	}
	// The EPS client is no http.Client: nothing turns a URL's user
	// information into basic auth, and the upstream URL as given is what
	// the start's log line and /readyz show.
	for _, f := range []struct{ flag, raw string }{{"upstream", upstreamURL}, {"upstream-token-url", u.TokenURL}} {
		if t, err := url.Parse(f.raw); err == nil && t.User != nil {
			errs = append(errs, fmt.Errorf("%s: user information in the URL is never sent, and the URL is shown in logs and /readyz: leave it out (%s)", f.flag, t.Redacted()))
		}
	}
	// Credentials go over TLS, except to this machine (the simulator, a
	// local TLS proxy): over plain http the signed client assertion and
	// the access tokens it buys could be read and replayed on the way.
	if u.APIKey != "" {
		for _, f := range []struct{ flag, raw string }{{"upstream", upstreamURL}, {"upstream-token-url", u.TokenURL}} {
			if plainRemote(f.raw) {
				errs = append(errs, fmt.Errorf("%s %q: OAuth2 credentials (upstream-api-key) go only over https, or plain http to loopback", f.flag, redacted(f.raw)))
			}
		}
	}
	if u.ClientCertFile != "" && upstreamURL != "" {
		if t, err := url.Parse(upstreamURL); err == nil && t.Scheme == "http" {
			errs = append(errs, fmt.Errorf("upstream-client-cert: a client certificate needs an https upstream, not %q", redacted(upstreamURL)))
		}
	}
	if (u.ClientCertFile == "") != (u.ClientKeyFile == "") {
		errs = append(errs, fmt.Errorf("upstream-client-cert and upstream-client-key go together"))
	}
	for _, f := range []struct{ flag, path string }{
		{"upstream-private-key", u.PrivateKeyFile}, {"upstream-client-cert", u.ClientCertFile},
		{"upstream-client-key", u.ClientKeyFile}, {"upstream-ca", u.CAFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", f.flag, f.path, err))
		}
	}
	return errs
}

// plainRemote reports whether raw is a plain http URL to a host that is
// not this machine.
func plainRemote(raw string) bool {
	t, err := url.Parse(raw)
	return err == nil && t.Scheme == "http" && t.Hostname() != "" && !isLoopback(t.Hostname())
}

// redacted is raw with any password replaced by "xxxxx", for messages.
// A raw that is no URL with a host (its scheme mistyped, or a parse
// error) has everything between its scheme and its last "@" replaced:
// url.Parse reads "redis//:pw@host" as a path, with no user information
// for Redacted to hide.
func redacted(raw string) string {
	if t, err := url.Parse(raw); err == nil && t.Host != "" {
		return t.Redacted()
	}
	at := strings.LastIndexByte(raw, '@')
	if at < 0 {
		return raw
	}
	i := strings.IndexFunc(raw, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')
	})
	if i < 0 || i > at {
		i = 0 // no scheme before the "@"
	}
	if i > 0 && raw[i] == ':' {
		i++
	}
	for i > 0 && i < at && raw[i] == '/' {
		i++
	}
	return raw[:i] + "xxxxx" + raw[at:]
}
