package certfile

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// CRLs are certificate revocation lists read from files, each list
// verified against the CA of a Pool that issued it, complete for its CA
// (a delta CRL is refused) or for a partition of its CA's certificates
// (its issuing distribution point), and kept current as
// Pair keeps a certificate: each file is followed on its own (with the
// Pool's file, so that a changed CA bundle verifies the lists again). A
// file whose lists cannot be used leaves the lists that worked in use:
// one that does not parse, a list that no CA of the bundle signed, or a
// list older (thisUpdate) than the one in use for its CA, which would
// take back revocations. Nothing is fetched: the lists are what the
// files hold.
//
// A list past its nextUpdate is still applied: what it revokes stays
// refused, and a certificate it does not list is accepted (Stale and
// OnStale tell of it). The gateway cannot fetch a newer one, and refusing
// every client of the CA because a refresh job stopped would stop every
// supplier's messages for an administrative lapse.
type CRLs struct {
	files   []*followed[*crlFile]
	onStale atomic.Pointer[func(CRLInfo)]
}

// crlFile is the lists one file holds, each verified against its CA.
type crlFile struct {
	path  string
	lists []*crl
}

// crl is one revocation list and the CA that signed it.
type crl struct {
	path   string
	list   *x509.RevocationList
	issuer *x509.Certificate
	// key is caKey(issuer): the CA a certificate's issuer must be for
	// this list to speak of it.
	key string
	// scope is the list's issuing distribution point (DER; "" without
	// one): the partition of the CA's certificates it covers. Lists of one
	// CA and scope replace each other; lists of other scopes stand beside.
	scope string
	// revoked maps each revoked serial (big.Int.String) to its entry.
	revoked map[string]*x509.RevocationListEntry
	// staleTold is set once OnStale was told of this list.
	staleTold atomic.Bool
}

// CRLInfo describes a revocation list in use.
type CRLInfo struct {
	// File is the file it was read from.
	File string
	// Issuer is the CA that signed it (its subject).
	Issuer string
	// ThisUpdate and NextUpdate are its dates; NextUpdate is zero when the
	// list has none.
	ThisUpdate, NextUpdate time.Time
	// Revoked counts the certificates it revokes.
	Revoked int
}

// RevokedError is the error of a certificate that a revocation list
// revokes.
type RevokedError struct {
	// Cert is the revoked certificate (the client's, or a CA between it
	// and the root).
	Cert *x509.Certificate
	// RevokedAt and Reason are the list's entry (Reason: RFC 5280
	// CRLReason code; 0 unspecified).
	RevokedAt time.Time
	Reason    int
	// List is the list that revokes it.
	List CRLInfo
}

// Error implements error: the refusal, naming the certificate and the list.
func (e *RevokedError) Error() string {
	return fmt.Sprintf("certificate %q (serial %s, issuer %q) revoked at %s by the CRL %s (thisUpdate %s)",
		e.Cert.Subject.CommonName, e.Cert.SerialNumber.Text(16), e.Cert.Issuer.String(),
		e.RevokedAt.UTC().Format(time.RFC3339), e.List.File, e.List.ThisUpdate.UTC().Format(time.RFC3339))
}

// LoadCRLs reads the revocation lists in paths (PEM "X509 CRL" blocks,
// several in a file if need be, or one DER list) and verifies each
// against the CA of cas that issued it: a list no CA of cas signed fails,
// so that a list given for a CA not trusted, or corrupted, is not taken
// for one that revokes nothing.
func LoadCRLs(paths []string, cas *Pool) (*CRLs, error) {
	c := &CRLs{}
	for _, path := range paths {
		read := func(prev *crlFile) (*crlFile, error) { return readCRLFile(path, cas.Current(), prev) }
		f, err := follow("CRL "+path, []string{path, cas.path}, func() (*crlFile, error) { return read(nil) }, read)
		if err != nil {
			return nil, err
		}
		c.files = append(c.files, f)
	}
	return c, nil
}

// OnRefused sets f to be told, once per refusal, of a list written over
// its file that was not taken up (the one in use is kept).
func (c *CRLs) OnRefused(f func(error)) {
	for _, ff := range c.files {
		ff.setOnRefused(f)
	}
}

// OnStale sets f to be told, once per list, that a list consulted for a
// certificate is past its nextUpdate.
func (c *CRLs) OnStale(f func(CRLInfo)) { c.onStale.Store(&f) }

// Lists describes the lists in use, file by file.
func (c *CRLs) Lists() []CRLInfo {
	var out []CRLInfo
	for _, f := range c.files {
		for _, l := range f.current().lists {
			out = append(out, l.info())
		}
	}
	return out
}

// Check returns a *RevokedError when a list in use revokes a certificate
// of chains (verified chains, leaf first, as crypto/tls gives them): the
// client's, or a CA between it and the root. A certificate whose issuer
// has no list is not checked. now dates the staleness told to OnStale.
func (c *CRLs) Check(chains [][]*x509.Certificate, now time.Time) error {
	var lists []*crl
	for _, f := range c.files {
		lists = append(lists, f.current().lists...)
	}
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			key := caKey(chain[i+1])
			for _, l := range lists {
				if l.key != key {
					continue
				}
				l.tellIfStale(c, now)
				if e, ok := l.revoked[chain[i].SerialNumber.String()]; ok {
					return &RevokedError{Cert: chain[i], RevokedAt: e.RevocationTime, Reason: e.ReasonCode, List: l.info()}
				}
			}
		}
	}
	return nil
}

func (l *crl) info() CRLInfo {
	return CRLInfo{File: l.path, Issuer: l.issuer.Subject.String(), ThisUpdate: l.list.ThisUpdate,
		NextUpdate: l.list.NextUpdate, Revoked: len(l.revoked)}
}

// tellIfStale tells c's OnStale, once, that l is past its nextUpdate.
func (l *crl) tellIfStale(c *CRLs, now time.Time) {
	if l.list.NextUpdate.IsZero() || !now.After(l.list.NextUpdate) || l.staleTold.Load() {
		return
	}
	if f := c.onStale.Load(); f != nil && !l.staleTold.Swap(true) {
		(*f)(l.info())
	}
}

// caKey identifies a CA by its name and key.
func caKey(ca *x509.Certificate) string {
	return string(ca.RawSubject) + "\x00" + string(ca.RawSubjectPublicKeyInfo)
}

// readCRLFile reads the lists in path and verifies each against the CA of
// cas that signed it. prev is the file's lists in use (nil at start): a
// list older than prev's for the same CA is refused.
func readCRLFile(path string, cas *CAs, prev *crlFile) (*crlFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ders := [][]byte{b} // DER
	if bytes.Contains(b, []byte("-----BEGIN")) {
		if ders, err = pemBlocks(path, b, "X509 CRL"); err != nil {
			return nil, err
		}
	}
	if len(ders) == 0 {
		return nil, fmt.Errorf("%s: no CRL found (PEM X509 CRL or DER)", path)
	}
	out := &crlFile{path: path}
	for i, der := range ders {
		list, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, fmt.Errorf("%s: CRL %d: %w", path, i+1, err)
		}
		issuer, err := crlIssuer(list, cas)
		if err != nil {
			return nil, fmt.Errorf("%s: CRL %d (issuer %q): %w", path, i+1, list.Issuer.String(), err)
		}
		scope, err := crlScope(list)
		if err != nil {
			return nil, fmt.Errorf("%s: CRL %d (issuer %q): %w", path, i+1, list.Issuer.String(), err)
		}
		l := &crl{path: path, list: list, issuer: issuer, key: caKey(issuer), scope: scope,
			revoked: make(map[string]*x509.RevocationListEntry, len(list.RevokedCertificateEntries))}
		for j := range list.RevokedCertificateEntries {
			e := &list.RevokedCertificateEntries[j]
			l.revoked[e.SerialNumber.String()] = e
		}
		// Two lists of one CA and scope in a file: the newer speaks.
		if j := out.index(l.key, l.scope); j >= 0 {
			if crlNewer(list, out.lists[j].list) {
				out.lists[j] = l
			}
			continue
		}
		out.lists = append(out.lists, l)
	}
	for _, l := range out.lists {
		if old := prev.list(l.key, l.scope); old != nil && l.list.ThisUpdate.Before(old.list.ThisUpdate) {
			return nil, fmt.Errorf("%s: CRL of %q issued %s, older than the one in use (%s): it would take back revocations",
				path, l.issuer.Subject.String(), l.list.ThisUpdate.UTC().Format(time.RFC3339), old.list.ThisUpdate.UTC().Format(time.RFC3339))
		}
	}
	return out, nil
}

// list returns f's list of the CA key and scope, nil when none (or f
// nil).
func (f *crlFile) list(key, scope string) *crl {
	if i := f.index(key, scope); i >= 0 {
		return f.lists[i]
	}
	return nil
}

// index returns the index of f's list of the CA key and scope, -1 when
// none (or f nil).
func (f *crlFile) index(key, scope string) int {
	if f == nil {
		return -1
	}
	for i, l := range f.lists {
		if l.key == key && l.scope == scope {
			return i
		}
	}
	return -1
}

var (
	oidDeltaCRLIndicator        = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistributionPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// crlScope returns list's issuing distribution point (its DER; "" without
// one), and an error for a list that cannot be read as the complete list
// of its scope: a delta CRL, which holds only the changes since a base
// CRL (taken for a complete list, it would take back every revocation of
// the base), or one with another critical extension, which RFC 5280
// (5.2) says must not be used by a reader that does not process it.
func crlScope(list *x509.RevocationList) (string, error) {
	scope := ""
	for _, ext := range list.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRLIndicator):
			return "", errors.New("a delta CRL (only the changes since its base CRL): porxgate reads complete CRLs; give the CA's full CRL")
		case ext.Id.Equal(oidIssuingDistributionPoint):
			scope = string(ext.Value)
		case ext.Critical:
			return "", fmt.Errorf("a critical extension %s that porxgate does not process (RFC 5280 5.2: the list must not be used)", ext.Id)
		}
	}
	return scope, nil
}

// crlNewer reports whether a was issued after b (thisUpdate, then CRL
// number).
func crlNewer(a, b *x509.RevocationList) bool {
	if !a.ThisUpdate.Equal(b.ThisUpdate) {
		return a.ThisUpdate.After(b.ThisUpdate)
	}
	return a.Number != nil && b.Number != nil && a.Number.Cmp(b.Number) > 0
}

// crlIssuer returns the CA of cas that signed list.
func crlIssuer(list *x509.RevocationList, cas *CAs) (*x509.Certificate, error) {
	var errs []error
	for _, ca := range cas.Certs {
		if !bytes.Equal(ca.RawSubject, list.RawIssuer) {
			continue
		}
		err := list.CheckSignatureFrom(ca)
		if err == nil {
			return ca, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("no CA of the client CA bundle has this name")
	}
	return nil, fmt.Errorf("no CA of the client CA bundle signed it: %w", errors.Join(errs...))
}
