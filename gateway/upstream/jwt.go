package upstream

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// assertionClaims are the claims of the OAuth2 client assertion that the NHS
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

// signAssertion builds the RS512 client assertion: iss = sub = apiKey,
// aud = tokenURL, the given jti, exp = now + lifetime. It is pure apart from
// the randomness RSA PKCS#1 v1.5 does not use.
func signAssertion(key *rsa.PrivateKey, kid, apiKey, tokenURL, jti string, now time.Time, lifetime time.Duration) (string, error) {
	if key == nil {
		return "", errors.New("sign client assertion: no private key")
	}
	h, err := json.Marshal(jwtHeader{Alg: "RS512", Typ: "JWT", Kid: kid})
	if err != nil {
		return "", fmt.Errorf("sign client assertion: header: %w", err)
	}
	c, err := json.Marshal(assertionClaims{Iss: apiKey, Sub: apiKey, Aud: tokenURL, Jti: jti, Exp: now.Add(lifetime).Unix()})
	if err != nil {
		return "", fmt.Errorf("sign client assertion: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha512.Sum512([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA512, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// LoadPrivateKey reads an RSA private key from a PEM file (PKCS#1 or PKCS#8).
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	key, err := ParsePrivateKeyPEM(raw)
	if err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	return key, nil
}

// ParsePrivateKeyPEM decodes the first PEM block of raw as an RSA private key
// in PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") form.
func ParsePrivateKeyPEM(raw []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#1: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#8: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("PKCS#8 key is %T, want RSA", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
}
