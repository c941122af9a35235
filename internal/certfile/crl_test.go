package certfile

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
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

// TestCRLScopes: a delta CRL (only the changes since a base CRL) is
// refused, naming what it is, since read as a complete list it takes back
// every revocation of the base it follows; and two partitions of one CA's
// CRL (each with its own issuing distribution point) in one file are both
// used. Before, either was taken for a newer complete list of its CA: the
// delta or the newer partition replaced the other list of the file, and
// every certificate only that list revoked was accepted again.
func TestCRLScopes(t *testing.T) {
	ca := testpki.NewCA(t, "CA one")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	testpki.WriteDated(t, caFile, ca.PEM, time.Now().Add(-time.Hour))
	pool, err := LoadPool(caFile)
	if err != nil {
		t.Fatal(err)
	}
	deltaOf := func(base int64) pkix.Extension {
		v, err := asn1.Marshal(big.NewInt(base))
		if err != nil {
			t.Fatal(err)
		}
		return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 27}, Critical: true, Value: v}
	}
	partition := func(uri string) pkix.Extension {
		// IssuingDistributionPoint { distributionPoint [0] { fullName [0] { uniformResourceIdentifier [6] } } }
		gn := append([]byte{0x86, byte(len(uri))}, uri...)
		full := append([]byte{0xa0, byte(len(gn))}, gn...)
		dp := append([]byte{0xa0, byte(len(full))}, full...)
		return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 28}, Critical: true, Value: append([]byte{0x30, byte(len(dp))}, dp...)}
	}
	older, newer := time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour)
	root := func() *x509.Certificate {
		b, _ := pem.Decode(ca.PEM)
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}()
	chain := func(serial int64) [][]*x509.Certificate {
		return [][]*x509.Certificate{{{SerialNumber: big.NewInt(serial)}, root}}
	}

	t.Run("a delta CRL", func(t *testing.T) {
		file := filepath.Join(dir, "delta.crl")
		testpki.WriteDated(t, file, append(ca.CRL(t, testpki.CRL{Revoked: []int64{11}, ThisUpdate: older, Number: 5}),
			ca.CRL(t, testpki.CRL{Revoked: []int64{12}, ThisUpdate: newer, Number: 6, Extensions: []pkix.Extension{deltaOf(5)}})...), time.Now())
		_, err := LoadCRLs([]string{file}, pool)
		if err == nil || !strings.Contains(err.Error(), "delta CRL") {
			t.Fatalf("LoadCRLs of a base and a delta CRL: %v, want the delta refused as such", err)
		}
	})
	t.Run("two partitions in one file", func(t *testing.T) {
		file := filepath.Join(dir, "partitions.crl")
		testpki.WriteDated(t, file, append(ca.CRL(t, testpki.CRL{Revoked: []int64{11}, ThisUpdate: older, Extensions: []pkix.Extension{partition("http://crl.example/1.crl")}}),
			ca.CRL(t, testpki.CRL{Revoked: []int64{12}, ThisUpdate: newer, Extensions: []pkix.Extension{partition("http://crl.example/2.crl")}})...), time.Now())
		crls, err := LoadCRLs([]string{file}, pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, serial := range []int64{11, 12} {
			if err := crls.Check(chain(serial), time.Now()); err == nil {
				t.Errorf("serial %d, revoked by one partition, accepted", serial)
			}
		}
		if err := crls.Check(chain(13), time.Now()); err != nil {
			t.Errorf("serial 13, revoked by neither: %v", err)
		}
	})
}
