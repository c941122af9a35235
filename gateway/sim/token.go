package sim

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	maxAssertionLifetime = 5 * time.Minute
	clockSkew            = 10 * time.Second
	maxAssertionBytes    = 16 << 10
)

// assertion is a verified client assertion.
type assertion struct {
	Kid string
	Iss string
	Sub string
	Aud string
	Jti string
	Exp time.Time
}

// tokenError is an OAuth2 error answer.
type tokenError struct {
	status      int
	code, descr string
}

func (e *tokenError) Error() string { return e.code + ": " + e.descr }

func badAssertion(descr string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: "invalid_request", descr: descr}
}

// verifyAssertion parses a compact JWS with golang-jwt and checks an RS512
// signature by pub, then the claims the NHS API platform checks: kid
// present, iss == sub, jti present, exp an integer in the future and at most
// 5 minutes ahead. Its errors are the platform's OAuth2 answers.
func verifyAssertion(assertionJWT string, pub *rsa.PublicKey, now time.Time) (assertion, error) {
	if len(assertionJWT) > maxAssertionBytes {
		return assertion{}, badAssertion("client_assertion too long")
	}
	var kid string
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithoutClaimsValidation(), jwt.WithJSONNumber())
	_, err := parser.ParseWithClaims(assertionJWT, claims, func(tok *jwt.Token) (any, error) {
		if tok.Method.Alg() != jwt.SigningMethodRS512.Alg() {
			return nil, badAssertion("Invalid 'alg' header in JWT - must be RS512")
		}
		kid, _ = tok.Header["kid"].(string)
		if kid == "" {
			return nil, badAssertion("Missing 'kid' header in JWT")
		}
		if pub == nil {
			return nil, errNoKey
		}
		return pub, nil
	})
	var te *tokenError
	switch {
	case errors.As(err, &te):
		return assertion{}, te
	case errors.Is(err, jwt.ErrTokenMalformed):
		return assertion{}, badAssertion("Malformed JWT in client_assertion")
	case err != nil:
		return assertion{}, &tokenError{status: http.StatusUnauthorized, code: "public_key error",
			descr: "JWT signature verification failed"}
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	aud, _ := claims["aud"].(string)
	jti, _ := claims["jti"].(string)
	if iss == "" || iss != sub {
		return assertion{}, badAssertion("Invalid 'iss'/'sub' claims in JWT")
	}
	if jti == "" {
		return assertion{}, badAssertion("Missing 'jti' claim in JWT")
	}
	num, _ := claims["exp"].(json.Number)
	exp, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return assertion{}, badAssertion("Missing or non-integer 'exp' claim in JWT")
	}
	expT := time.Unix(exp, 0)
	if !expT.After(now) {
		return assertion{}, badAssertion("Invalid 'exp' claim in JWT - JWT has expired")
	}
	if expT.Sub(now) > maxAssertionLifetime+clockSkew {
		return assertion{}, badAssertion("Invalid 'exp' claim in JWT - more than 5 minutes in future")
	}
	return assertion{Kid: kid, Iss: iss, Sub: sub, Aud: aud, Jti: jti, Exp: expT}, nil
}

// errNoKey is the verification failure of a simulator without a public key.
var errNoKey = errors.New("no public key to verify with")

// tokenIssuer is the simulated OAuth2 token endpoint and bearer check.
type tokenIssuer struct {
	pub      *rsa.PublicKey
	apiKey   string
	kid      string
	audience string
	ttl      time.Duration
	newID    func() string

	mu     sync.Mutex
	tokens map[string]time.Time // access token → expiry
	jtis   map[string]time.Time // used jti → its assertion's expiry
}

func (ti *tokenIssuer) enabled() bool { return ti.pub != nil }

// issue handles one token request form.
func (ti *tokenIssuer) issue(form url.Values, now time.Time) (string, error) {
	if !ti.enabled() {
		return "", &tokenError{status: http.StatusBadRequest, code: "invalid_client",
			descr: "simulator has no public key configured"}
	}
	if form.Get("grant_type") != "client_credentials" {
		return "", &tokenError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			descr: "grant_type must be 'client_credentials'"}
	}
	if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return "", badAssertion("Missing or invalid client_assertion_type - must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'")
	}
	a, err := verifyAssertion(form.Get("client_assertion"), ti.pub, now)
	if err != nil {
		return "", err
	}
	if ti.kid != "" && a.Kid != ti.kid {
		return "", badAssertion("Invalid 'kid' header in JWT - no matching public key")
	}
	if ti.apiKey != "" && a.Iss != ti.apiKey {
		return "", &tokenError{status: http.StatusUnauthorized, code: "invalid_request",
			descr: "Invalid 'iss'/'sub' claims in JWT"}
	}
	if ti.audience != "" && a.Aud != ti.audience || ti.audience == "" && !audienceLooksRight(a.Aud) {
		return "", badAssertion("Missing or invalid 'aud' claim in JWT")
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	for k, exp := range ti.jtis {
		if !exp.After(now) {
			delete(ti.jtis, k)
		}
	}
	for k, exp := range ti.tokens {
		if !exp.After(now) {
			delete(ti.tokens, k)
		}
	}
	if _, used := ti.jtis[a.Jti]; used {
		return "", badAssertion("Non-unique 'jti' claim in JWT")
	}
	ti.jtis[a.Jti] = a.Exp
	tok := strings.ReplaceAll(ti.newID(), "-", "")
	ti.tokens[tok] = now.Add(ti.ttl)
	return tok, nil
}

func audienceLooksRight(aud string) bool {
	u, err := url.Parse(aud)
	return err == nil && u.Host != "" && strings.HasSuffix(u.Path, "/oauth2/token")
}

// authorized reports whether an Authorization header carries a live token.
func (ti *tokenIssuer) authorized(header string, now time.Time) bool {
	if !ti.enabled() {
		return true
	}
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	exp, ok := ti.tokens[tok]
	return ok && exp.After(now)
}

// tokenAnswer encodes a successful token answer as the platform does
// (expires_in as a string of seconds).
func tokenAnswer(tok string, ttl time.Duration, now time.Time) []byte {
	return mustJSON(obj{
		"access_token": tok,
		"expires_in":   strconv.Itoa(int(ttl / time.Second)),
		"token_type":   "Bearer",
		"issued_at":    strconv.FormatInt(now.UnixMilli(), 10),
	})
}

func tokenErrorAnswer(err error) (int, []byte) {
	var te *tokenError
	if !errors.As(err, &te) {
		return http.StatusInternalServerError, mustJSON(obj{"error": "server_error", "error_description": fmt.Sprint(err)})
	}
	return te.status, mustJSON(obj{"error": te.code, "error_description": te.descr})
}
