package v3

import (
	"crypto/x509"
	"errors"
	"fmt"
	"time"
)

// Certificate check outcomes of Signature.CheckCertificate, matched with
// errors.Is (several may be joined).
var (
	// ErrCertificateExpired: the author time is not strictly inside the
	// certificate's validity (EPS: "Certificate expired when signed").
	ErrCertificateExpired = errors.New("certificate expired when signed")
	// ErrCertificateUntrusted: no trusted CA issued the certificate (EPS:
	// "Certificate not trusted").
	ErrCertificateUntrusted = errors.New("certificate not trusted")
	// ErrCertificateRevoked: the certificate is revoked on the CRL (EPS:
	// "Certificate is revoked").
	ErrCertificateRevoked = errors.New("certificate is revoked")
	// ErrCACertificateRevoked: the issuing CA is revoked on the ARL (EPS:
	// "CA certificate is revoked").
	ErrCACertificateRevoked = errors.New("CA certificate is revoked")
)

// CertificatePolicy says which CAs sign prescribers' certificates and which
// revocation lists apply. The lists are used as given: check their own
// signatures (x509.RevocationList.CheckSignatureFrom) before passing them.
type CertificatePolicy struct {
	// CAs are the trusted (sub-)CA certificates; a prescriber's certificate
	// must carry a signature by one of them.
	CAs []*x509.Certificate
	// CRL lists revoked prescriber certificates; nil skips that check.
	CRL *x509.RevocationList
	// ARL lists revoked CA certificates; nil skips that check.
	ARL *x509.RevocationList
}

// CRL reason codes (RFC 5280 5.3.1) that revoke a certificate whatever the
// signing time.
const (
	reasonKeyCompromise = 1
	reasonCACompromise  = 2
	reasonAACompromise  = 10
)

// CheckCertificate applies EPS's certificate checks at signedAt (the
// prescription's author time): validity when signed, issue by a trusted
// CA, and revocation on the CRL (the certificate) and ARL (its CA). A
// listed certificate counts as revoked when the reason is key, CA or AA
// compromise, or when it was signed at or after the revocation date. The
// result joins every failure (ErrCertificateExpired, ErrCertificateUntrusted,
// ErrCertificateRevoked, ErrCACertificateRevoked).
func (s *Signature) CheckCertificate(signedAt time.Time, p CertificatePolicy) error {
	cert := s.Certificate
	var errs []error
	if !signedAt.After(cert.NotBefore) || !signedAt.Before(cert.NotAfter) {
		errs = append(errs, fmt.Errorf("%w: signed %s, certificate valid %s to %s", ErrCertificateExpired,
			signedAt.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339)))
	}
	var issuer *x509.Certificate
	for _, ca := range p.CAs {
		if ca != nil && cert.CheckSignatureFrom(ca) == nil {
			issuer = ca
			break
		}
	}
	if issuer == nil {
		errs = append(errs, fmt.Errorf("%w: issuer %q is not among %d trusted CAs", ErrCertificateUntrusted, cert.Issuer.String(), len(p.CAs)))
	}
	if revoked, why := revokedOn(p.CRL, cert, signedAt); revoked {
		errs = append(errs, fmt.Errorf("%w: serial %X %s", ErrCertificateRevoked, cert.SerialNumber, why))
	}
	if issuer != nil {
		if revoked, why := revokedOn(p.ARL, issuer, signedAt); revoked {
			errs = append(errs, fmt.Errorf("%w: CA %q serial %X %s", ErrCACertificateRevoked, issuer.Subject.String(), issuer.SerialNumber, why))
		}
	}
	return errors.Join(errs...)
}

// revokedOn reports whether cert is revoked on list for a signature made at
// signedAt, and why.
func revokedOn(list *x509.RevocationList, cert *x509.Certificate, signedAt time.Time) (bool, string) {
	if list == nil {
		return false, ""
	}
	for _, e := range list.RevokedCertificateEntries {
		if e.SerialNumber == nil || e.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		switch e.ReasonCode {
		case reasonKeyCompromise, reasonCACompromise, reasonAACompromise:
			return true, fmt.Sprintf("revoked for compromise (reason %d)", e.ReasonCode)
		}
		if !signedAt.Before(e.RevocationTime) {
			return true, fmt.Sprintf("revoked %s (reason %d), before signing", e.RevocationTime.UTC().Format(time.RFC3339), e.ReasonCode)
		}
		return false, ""
	}
	return false, ""
}

// AuthorTime returns the prescription's pertinentPrescription/author/time
// as a UTC time (EPS reads the TS as UTC), for CheckCertificate.
func AuthorTime[T ParentPrescriptionInput](parentPrescription T) (time.Time, error) {
	r, pp, err := parentPrescriptionNode(parentPrescription)
	if err != nil {
		return time.Time{}, err
	}
	tn := pp.Child("pertinentInformation1").Child("pertinentPrescription").Child("author").Child("time")
	v := tn.Value()
	if err := r.Err(); err != nil {
		return time.Time{}, err
	}
	iso := isoTimestamp(v)
	t, err := time.Parse("2006-01-02T15:04:05-07:00", iso)
	if err != nil {
		return time.Time{}, &Error{Interaction: r.interaction, Path: tn.Path() + "/@value", Msg: fmt.Sprintf("not an HL7 TS: %q", v)}
	}
	return t.UTC(), nil
}
