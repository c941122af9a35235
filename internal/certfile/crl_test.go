package certfile

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testpki"
)

// TestCRLFiles: a list is read from PEM or DER; of two lists of one CA in
// a file the newer speaks; a changed CA bundle verifies the lists again,
// and a list whose CA left the bundle is refused, told, and the one in use
// kept.
func TestCRLFiles(t *testing.T) {
	dir := t.TempDir()
	ca, other := testpki.NewCA(t, "CA one"), testpki.NewCA(t, "CA two")
	caFile := filepath.Join(dir, "ca.pem")
	testpki.WriteDated(t, caFile, append(append([]byte{}, ca.PEM...), other.PEM...), time.Now().Add(-time.Hour))
	pool, err := LoadPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := func(c *testpki.CA, serial int64) [][]*x509.Certificate {
		cp, _ := c.Issue(t, testpki.Cert{Name: "client", Serial: serial})
		b, _ := pem.Decode(cp)
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := pem.Decode(c.PEM)
		root, err := x509.ParseCertificate(rb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return [][]*x509.Certificate{{cert, root}}
	}
	revoked := func(c *CRLs, chains [][]*x509.Certificate) bool {
		t.Helper()
		err := c.Check(chains, time.Now())
		var re *RevokedError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("Check: %v", err)
		}
		return err != nil
	}

	// DER, and a PEM file holding an older and a newer list of one CA.
	derBlock, _ := pem.Decode(other.CRL(t, testpki.CRL{Revoked: []int64{21}}))
	derFile, pemFile := filepath.Join(dir, "two.crl"), filepath.Join(dir, "one.crl")
	testpki.WriteDated(t, derFile, derBlock.Bytes, time.Now().Add(-time.Hour))
	older := ca.CRL(t, testpki.CRL{Revoked: []int64{11, 12}, ThisUpdate: time.Now().Add(-2 * time.Hour)})
	newer := ca.CRL(t, testpki.CRL{Revoked: []int64{11}, ThisUpdate: time.Now().Add(-time.Hour)})
	testpki.WriteDated(t, pemFile, append(append([]byte{}, newer...), older...), time.Now().Add(-time.Hour))
	crls, err := LoadCRLs([]string{pemFile, derFile}, pool)
	if err != nil {
		t.Fatal(err)
	}
	var refusals []error
	crls.OnRefused(func(err error) { refusals = append(refusals, err) })
	for _, tt := range []struct {
		name  string
		chain [][]*x509.Certificate
		want  bool
	}{
		{"listed by the newer list", leaf(ca, 11), true},
		{"listed by the older list only", leaf(ca, 12), false},
		{"listed by the DER list", leaf(other, 21), true},
		{"another CA's serial", leaf(other, 11), false},
	} {
		if got := revoked(crls, tt.chain); got != tt.want {
			t.Errorf("%s: revoked %v, want %v", tt.name, got, tt.want)
		}
	}
	if n := len(crls.Lists()); n != 2 {
		t.Fatalf("%d lists in use, want 2", n)
	}

	// CA two leaves the bundle: its list no longer verifies; refused,
	// told once, the one in use kept.
	testpki.WriteDated(t, caFile, ca.PEM, time.Now())
	for range 3 {
		if !revoked(crls, leaf(other, 21)) {
			t.Fatal("the list in use was dropped when its CA left the bundle")
		}
	}
	if len(refusals) != 1 {
		t.Fatalf("refusals %v, want one (the DER list's CA is gone)", refusals)
	}
}
