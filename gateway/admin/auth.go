package admin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Role is what a caller may see and do.
type Role int

// The roles, each including the ones before it.
const (
	// RoleNone: not authenticated.
	RoleNone Role = iota
	// RoleViewer sees live state: rates, queues, breakers, counts.
	RoleViewer
	// RoleReader also sees exchanges and their payloads (patient data).
	RoleReader
	// RoleAdmin also sees the access journal and may act (resend).
	RoleAdmin
)

// String names the role.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleReader:
		return "reader"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "viewer":
		return RoleViewer, nil
	case "reader":
		return RoleReader, nil
	case "admin":
		return RoleAdmin, nil
	}
	return RoleNone, fmt.Errorf("role %q: want viewer, reader or admin", s)
}

// Token is one bearer token.
type Token struct {
	// Name says whose token it is; it is what the access journal records.
	Name string
	// Role is what the token allows.
	Role Role
	// hash is the token's SHA-256.
	hash [32]byte
}

// NewToken returns a token with its value hashed (only the hash is kept).
func NewToken(name string, role Role, value string) Token {
	return Token{Name: name, Role: role, hash: sha256.Sum256([]byte(value))}
}

// ParseTokens reads a tokens file: one "name role token" a line; blank
// lines and lines starting with # are skipped. Tokens shorter than 16
// characters are refused, and a token given twice (whose holder would get
// the role of whichever line came last).
func ParseTokens(b []byte) ([]Token, error) {
	var out []Token
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("tokens line %d: want name role token", n)
		}
		role, err := ParseRole(f[1])
		if err != nil {
			return nil, fmt.Errorf("tokens line %d: %w", n, err)
		}
		if len(f[2]) < 16 {
			return nil, fmt.Errorf("tokens line %d: token of %s shorter than 16 characters", n, f[0])
		}
		tok := NewToken(f[0], role, f[2])
		if prev, dup := SameToken(out, tok); dup {
			return nil, fmt.Errorf("tokens line %d: the token of %s is also %s's: each holder needs a token of their own", n, f[0], prev)
		}
		out = append(out, tok)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return out, nil
}

// SameToken returns the name of the token of list that has t's value, if any.
func SameToken(list []Token, t Token) (string, bool) {
	for _, o := range list {
		if subtle.ConstantTimeCompare(o.hash[:], t.hash[:]) == 1 {
			return o.Name, true
		}
	}
	return "", false
}

// ParseCertRoles reads "cn=role,cn=role" into a map of common name to role.
func ParseCertRoles(s string) (map[string]Role, error) {
	out := map[string]Role{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		cn, r, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(cn) == "" {
			return nil, fmt.Errorf("cert roles %q: want cn=role", part)
		}
		role, err := ParseRole(r)
		if err != nil {
			return nil, fmt.Errorf("cert roles %q: %w", part, err)
		}
		cn = strings.TrimSpace(cn)
		if prev, dup := out[cn]; dup && prev != role {
			// The last used to win in silence: one of the two is a mistake,
			// and the other may give more than meant.
			return nil, fmt.Errorf("cert roles: %q given two roles (%s and %s)", cn, prev, role)
		}
		out[cn] = role
	}
	return out, nil
}

// AuthConfig says who may come in.
type AuthConfig struct {
	// Tokens are the bearer tokens accepted.
	Tokens []Token
	// CertRoles maps client certificates' common names to roles (the TLS
	// listener verifies the certificates).
	CertRoles map[string]Role
	// NoAuth lets everyone in as admin (tests on loopback only).
	NoAuth bool
}

// cookieName is the cookie the sign-in form sets.
const cookieName = "porxgate_admin"

// who is an authenticated caller.
type who struct {
	name string
	role Role
}

// authenticate finds the caller of c.
func (a AuthConfig) authenticate(c *fiber.Ctx) who {
	if a.NoAuth {
		return who{name: "anonymous (authentication off)", role: RoleAdmin}
	}
	if tls := c.Context().TLSConnectionState(); tls != nil && len(tls.PeerCertificates) > 0 {
		cn := tls.PeerCertificates[0].Subject.CommonName
		if r, ok := a.CertRoles[cn]; ok {
			return who{name: "cert:" + cn, role: r}
		}
	}
	tok := ""
	if h := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	} else if v := c.Cookies(cookieName); v != "" {
		tok = v
	}
	if tok == "" {
		return who{}
	}
	return a.byToken(tok)
}

// byToken finds the token's holder, comparing in constant time.
func (a AuthConfig) byToken(tok string) who {
	h := sha256.Sum256([]byte(tok))
	found := who{}
	for _, t := range a.Tokens {
		if subtle.ConstantTimeCompare(h[:], t.hash[:]) == 1 {
			found = who{name: "token:" + t.Name, role: t.Role}
		}
	}
	return found
}
