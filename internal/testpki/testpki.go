// Package testpki makes the certificates tests need: a certificate
// authority of their own, certificates it issues for a server on
// 127.0.0.1 or for a client, and certificate files dated as a renewal
// would date them. It is for tests only; nothing in the gateway imports it.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"testing"
	"time"
)

// CA is a certificate authority made for one test, valid from two days
// before it was made to two days after.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the authority's certificate, for a pool of roots.
	PEM []byte
}

// NewCA makes a certificate authority named name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	return newCA(t, name, 1, time.Now().Add(-48*time.Hour), time.Now().Add(48*time.Hour), nil)
}

// Intermediate makes a certificate authority named name that ca signs,
// valid until notAfter (zero: as long as ca).
func (ca *CA) Intermediate(t testing.TB, name string, notAfter time.Time) *CA {
	t.Helper()
	if notAfter.IsZero() {
		notAfter = ca.cert.NotAfter
	}
	return newCA(t, name, time.Now().UnixNano(), time.Now().Add(-24*time.Hour), notAfter, ca)
}

// newCA makes a certificate authority that parent signs (nil: itself).
func newCA(t testing.TB, name string, serial int64, notBefore, notAfter time.Time, parent *CA) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// Cert describes a certificate to issue.
type Cert struct {
	// Name is its common name.
	Name string
	// Server makes it a server certificate for 127.0.0.1; else a client one.
	Server bool
	// Serial is its serial number; 0: one made from the clock.
	Serial int64
	// NotAfter ends its validity; zero: an hour from now. It starts a day
	// before it is issued.
	NotAfter time.Time
}

// Issue returns the PEM certificate c describes, signed by ca, and its
// PKCS #8 PEM key.
func (ca *CA) Issue(t testing.TB, c Cert) (certPEM, keyPEM []byte) {
	t.Helper()
	if c.Serial == 0 {
		c.Serial = time.Now().UnixNano()
	}
	if c.NotAfter.IsZero() {
		c.NotAfter = time.Now().Add(time.Hour)
	}
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(c.Serial), Subject: pkix.Name{CommonName: c.Name},
		NotBefore: time.Now().Add(-24 * time.Hour), NotAfter: c.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if c.Server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
}

// CRL describes a certificate revocation list to issue.
type CRL struct {
	// Revoked are the serial numbers it revokes.
	Revoked []int64
	// ThisUpdate and NextUpdate date it; zero ThisUpdate: an hour ago,
	// zero NextUpdate: a day after ThisUpdate.
	ThisUpdate, NextUpdate time.Time
	// Number is its CRL number; 0: one made from the clock.
	Number int64
	// Extensions are added to the list's own (a delta CRL indicator, an
	// issuing distribution point).
	Extensions []pkix.Extension
}

// CRL returns the PEM revocation list c describes, signed by ca.
func (ca *CA) CRL(t testing.TB, c CRL) []byte {
	t.Helper()
	if c.ThisUpdate.IsZero() {
		c.ThisUpdate = time.Now().Add(-time.Hour)
	}
	if c.NextUpdate.IsZero() {
		c.NextUpdate = c.ThisUpdate.Add(24 * time.Hour)
	}
	if c.Number == 0 {
		c.Number = time.Now().UnixNano()
	}
	tmpl := &x509.RevocationList{ThisUpdate: c.ThisUpdate, NextUpdate: c.NextUpdate, Number: big.NewInt(c.Number), ExtraExtensions: c.Extensions}
	for _, s := range c.Revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: c.ThisUpdate.Add(-time.Minute), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

// WriteDated writes b to path and dates the file at, as a certificate
// renewal written over the old files would be (mtime is what a reload
// watches).
func WriteDated(t testing.TB, path string, b []byte, at time.Time) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

// newKey makes a P-256 key.
func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
