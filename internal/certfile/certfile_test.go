package certfile

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testpki"
)

// issue returns a PEM certificate and key with serial, valid until
// notAfter.
func issue(t *testing.T, serial int64, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	return testpki.NewCA(t, "test CA").Issue(t, testpki.Cert{Name: "porxgate", Serial: serial, NotAfter: notAfter})
}

func serial(c *tls.Certificate) int64 {
	if c == nil || c.Leaf == nil {
		return 0
	}
	return c.Leaf.SerialNumber.Int64()
}

func TestPairFollowsItsFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	then := time.Now().Add(-time.Hour)
	c1, k1 := issue(t, 10, time.Now().Add(time.Hour))
	testpki.WriteDated(t, certFile, c1, then)
	testpki.WriteDated(t, keyFile, k1, then)
	p, err := Load(certFile, keyFile, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := serial(p.Current()); got != 10 {
		t.Fatalf("serial %d, want 10", got)
	}

	// Renewal caught half way: the new certificate without its key.
	c2, k2 := issue(t, 11, time.Now().Add(24*time.Hour))
	testpki.WriteDated(t, certFile, c2, time.Now())
	if got := serial(p.Current()); got != 10 {
		t.Fatalf("half rewritten: serial %d, want the old pair (10) kept", got)
	}
	testpki.WriteDated(t, keyFile, k2, time.Now())
	if got, _ := p.GetCertificate(nil); serial(got) != 11 {
		t.Fatalf("renewed: serial %d, want 11", serial(got))
	}
	if got, _ := p.GetClientCertificate(nil); serial(got) != 11 {
		t.Fatalf("renewed, as a client: serial %d, want 11", serial(got))
	}

	// Gone: the pair that worked stays.
	if err := os.Remove(certFile); err != nil {
		t.Fatal(err)
	}
	if got := serial(p.Current()); got != 11 {
		t.Fatalf("files gone: serial %d, want 11 kept", got)
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	c, k := issue(t, 10, time.Now().Add(-time.Minute))
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	testpki.WriteDated(t, certFile, c, time.Now())
	testpki.WriteDated(t, keyFile, k, time.Now())
	if _, err := Load(certFile, keyFile, time.Now()); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired certificate: %v, want an error saying so", err)
	}
	if _, err := Load(certFile, filepath.Join(dir, "missing.pem"), time.Now()); err == nil {
		t.Fatal("a missing key loaded")
	}
}

func TestClientCertificateOnlyWhereAccepted(t *testing.T) {
	dir := t.TempDir()
	c, k := issue(t, 10, time.Now().Add(time.Hour))
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	testpki.WriteDated(t, certFile, c, time.Now())
	testpki.WriteDated(t, keyFile, k, time.Now())
	p, err := Load(certFile, keyFile, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other := &tls.CertificateRequestInfo{AcceptableCAs: [][]byte{[]byte("not our issuer")},
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, Version: tls.VersionTLS13}
	if got, _ := p.GetClientCertificate(other); len(got.Certificate) != 0 {
		t.Fatal("sent a certificate to a server that does not accept its issuer")
	}
	any := &tls.CertificateRequestInfo{SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, Version: tls.VersionTLS13}
	if got, _ := p.GetClientCertificate(any); serial(got) != 10 {
		t.Fatal("no certificate sent to a server that accepts any issuer")
	}
}

// TestRenewalNotValidKeptOut: an expired certificate, or a key that does
// not match, written over the files is not taken up: the pair that works
// stays, each refusal is told once however many handshakes see it, and a
// good renewal afterwards is taken up.
func TestRenewalNotValidKeptOut(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	c1, k1 := issue(t, 10, time.Now().Add(time.Hour))
	testpki.WriteDated(t, certFile, c1, time.Now().Add(-time.Hour))
	testpki.WriteDated(t, keyFile, k1, time.Now().Add(-time.Hour))
	p, err := Load(certFile, keyFile, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var refusals []string
	p.OnRefused(func(err error) { refusals = append(refusals, err.Error()) })

	expired, expiredKey := issue(t, 11, time.Now().Add(-time.Minute))
	testpki.WriteDated(t, certFile, expired, time.Now().Add(-30*time.Minute))
	testpki.WriteDated(t, keyFile, expiredKey, time.Now().Add(-30*time.Minute))
	for range 3 {
		if got := serial(p.Current()); got != 10 {
			t.Fatalf("expired renewal: serial %d, want 10 kept", got)
		}
	}
	_, otherKey := issue(t, 12, time.Now().Add(time.Hour))
	testpki.WriteDated(t, certFile, c1, time.Now().Add(-20*time.Minute))
	testpki.WriteDated(t, keyFile, otherKey, time.Now().Add(-20*time.Minute))
	if got := serial(p.Current()); got != 10 {
		t.Fatalf("mismatched key: serial %d, want 10 kept", got)
	}
	if len(refusals) != 2 || !strings.Contains(refusals[0], "expired") {
		t.Fatalf("refusals %q, want 2 (the expired certificate, the mismatched key)", refusals)
	}

	c2, k2 := issue(t, 13, time.Now().Add(24*time.Hour))
	testpki.WriteDated(t, certFile, c2, time.Now())
	testpki.WriteDated(t, keyFile, k2, time.Now())
	if got := serial(p.Current()); got != 13 {
		t.Fatalf("good renewal after refused ones: serial %d, want 13", got)
	}
}
