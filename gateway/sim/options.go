package sim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultBasePath = "/FHIR/R4"
	DefaultTokenTTL = 599 * time.Second
	DefaultAddr     = "127.0.0.1:9000"
	maxBodyBytes    = 10 << 20
)

// Options configures a Server. Zero fields take the documented defaults.
type Options struct {
	// BasePath is where the FHIR endpoints are mounted. Default "/FHIR/R4".
	BasePath string
	// PublicKey verifies the RS512 client assertions at /oauth2/token. When
	// set, every FHIR endpoint requires a bearer token the simulator issued;
	// nil leaves the FHIR endpoints open and the token endpoint refusing.
	PublicKey *rsa.PublicKey
	// APIKey is the expected iss/sub of assertions; "" accepts any key as
	// long as iss == sub.
	APIKey string
	// Kid is the expected kid header; "" accepts any non-empty kid.
	Kid string
	// TokenAudience is the expected aud; "" accepts any URL whose path ends
	// in /oauth2/token.
	TokenAudience string
	// TokenTTL is the access tokens' lifetime (expires_in). Default 599s, as
	// the NHS API platform issues.
	TokenTTL time.Duration
	// ReplayRequestIDs makes a POST with an X-Request-ID and body already
	// seen answer with the stored answer, without processing it again. Off by
	// default: EPS itself is not known to do this.
	ReplayRequestIDs bool
	// Faults are the initial fault settings (also changed at runtime through
	// SetFaults or /_admin/faults).
	Faults Faults
	// Digest, when set, serves $prepare: it gets the Bundle and the author
	// time to use. nil makes $prepare answer 501.
	Digest func(ctx context.Context, bundle []byte, now time.Time) (PrepareResult, error)
	// OnCancelResolved is called when a pending cancellation resolves (with
	// the state's lock held: keep it quick). Ignored when State is given.
	OnCancelResolved func(CancelResolution)
	// State is shared state, e.g. with a future v3 face; nil makes a new one.
	State *State
	// MaxPrescriptions caps the prescriptions a new State keeps (the least
	// recently used is forgotten first); 0 means DefaultMaxPrescriptions, negative no cap.
	// Ignored when State is given.
	MaxPrescriptions int
	// TrackerPageSize, when positive, pages the tracker's (GET Task)
	// searchset answers: at most this many Tasks a page, Bundle.total the
	// count of every match and Bundle.link "next" naming the next page (the
	// simulator's own _offset parameter). 0, the default, answers every match
	// in one Bundle, as the EPS API does.
	TrackerPageSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes resource, Bundle, Task and token ids; nil means random
	// UUIDs. Tests inject a counter for deterministic answers.
	NewID func() string
	// Rand returns a float in [0, 1) for Faults.ErrorRate; nil means random.
	Rand func() float64
	// Logger receives request and fault logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.BasePath == "" {
		o.BasePath = DefaultBasePath
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = newUUID
	}
	if o.Rand == nil {
		o.Rand = randomFloat
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.State == nil {
		o.State = NewState(o.OnCancelResolved)
		if o.MaxPrescriptions != 0 {
			o.State.SetCapacity(o.MaxPrescriptions)
		}
	}
	return o
}

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomFloat() float64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return float64(binary.LittleEndian.Uint64(b[:])>>11) / (1 << 53)
}

// LoadPublicKey reads an RSA public key from a PEM file holding a "PUBLIC
// KEY" (PKIX), an "RSA PUBLIC KEY" (PKCS#1) or a "CERTIFICATE".
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load public key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("load public key %s: no PEM block", path)
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		err = errors.New("PEM block " + block.Type + " is not a public key")
	}
	if err != nil {
		return nil, fmt.Errorf("load public key %s: %w", path, err)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("load public key %s: %T is not RSA", path, key)
	}
	return pub, nil
}
