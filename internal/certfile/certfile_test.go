package certfile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate and key with serial, valid until
// notAfter.
func selfSigned(t *testing.T, serial int64, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "porxgate"},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

// write puts b in path, dated at.
func write(t *testing.T, path string, b []byte, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
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
	c1, k1 := selfSigned(t, 10, time.Now().Add(time.Hour))
	write(t, certFile, c1, then)
	write(t, keyFile, k1, then)
	p, err := Load(certFile, keyFile, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := serial(p.Current()); got != 10 {
		t.Fatalf("serial %d, want 10", got)
	}

	// Renewal caught half way: the new certificate without its key.
	c2, k2 := selfSigned(t, 11, time.Now().Add(24*time.Hour))
	write(t, certFile, c2, time.Now())
	if got := serial(p.Current()); got != 10 {
		t.Fatalf("half rewritten: serial %d, want the old pair (10) kept", got)
	}
	write(t, keyFile, k2, time.Now())
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
	c, k := selfSigned(t, 10, time.Now().Add(-time.Minute))
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	write(t, certFile, c, time.Now())
	write(t, keyFile, k, time.Now())
	if _, err := Load(certFile, keyFile, time.Now()); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired certificate: %v, want an error saying so", err)
	}
	if _, err := Load(certFile, filepath.Join(dir, "missing.pem"), time.Now()); err == nil {
		t.Fatal("a missing key loaded")
	}
}

func TestClientCertificateOnlyWhereAccepted(t *testing.T) {
	dir := t.TempDir()
	c, k := selfSigned(t, 10, time.Now().Add(time.Hour))
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	write(t, certFile, c, time.Now())
	write(t, keyFile, k, time.Now())
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
