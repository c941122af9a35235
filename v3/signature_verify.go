package v3

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Signature verification outcomes, matched with errors.Is. VerifySignature
// joins ErrSignatureDigest and ErrSignatureInvalid when both apply, as EPS
// reports both.
var (
	// ErrSignatureFormat: the signatureText lacks SignedInfo, SignatureValue
	// or X509Certificate, or one of them cannot be read (EPS: "Invalid
	// signature format" / "Invalid certificate").
	ErrSignatureFormat = errors.New("invalid signature format")
	// ErrSignatureDigest: the SignedInfo does not match the one re-derived
	// from the prescription (EPS: "Signature doesn't match prescription").
	ErrSignatureDigest = errors.New("signature doesn't match prescription")
	// ErrSignatureInvalid: the SignatureValue is not an RSA signature of the
	// SignedInfo by the certificate's key (EPS: "Signature is invalid").
	ErrSignatureInvalid = errors.New("signature is invalid")
)

// Signature is the XML-DSig signature found in a prescription's
// pertinentPrescription/author/signatureText.
type Signature struct {
	// SignedInfo is the canonical (Exclusive C14N) SignedInfo as EPS
	// verifies it: in the XML-DSig namespace, white space between elements
	// dropped.
	SignedInfo []byte
	// DigestValue is the Reference's DigestValue (base64).
	DigestValue string
	// DigestAlgorithm is read from the Reference's DigestMethod.
	DigestAlgorithm DigestAlgorithm
	// SignatureMethod is the SignatureMethod URI.
	SignatureMethod string
	// Value is the decoded SignatureValue.
	Value []byte
	// Certificate is the signer's X509Certificate.
	Certificate *x509.Certificate

	valueErr error // SignatureValue was not base64
}

// ReadSignature reads the signature in a prescription's
// pertinentPrescription/author/signatureText. Every failure wraps
// ErrSignatureFormat and names the element path.
func ReadSignature[T ParentPrescriptionInput](parentPrescription T) (*Signature, error) {
	r, pp, err := parentPrescriptionNode(parentPrescription)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignatureFormat, err)
	}
	sig := pp.Child("pertinentInformation1").Child("pertinentPrescription").Child("author").
		Child("signatureText").Child("Signature")
	si := sig.Child("SignedInfo")
	ref := si.Child("Reference")
	digestMethod := ref.Child("DigestMethod").Attr("Algorithm")
	digestValue := strings.TrimSpace(ref.Child("DigestValue").Text())
	sigMethod := si.Child("SignatureMethod").Attr("Algorithm")
	value := sig.Child("SignatureValue")
	certEl := sig.Child("KeyInfo").Child("X509Data").Child("X509Certificate")
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignatureFormat, err)
	}
	fail := func(n Node, format string, args ...any) error {
		return fmt.Errorf("%w: %w", ErrSignatureFormat, &Error{Interaction: r.interaction, Path: n.Path(), Msg: fmt.Sprintf(format, args...)})
	}
	alg, err := DigestAlgorithmFromURI(digestMethod)
	if err != nil {
		return nil, fail(ref.Child("DigestMethod"), "%v", err)
	}
	if digestValue == "" {
		return nil, fail(ref.Child("DigestValue"), "empty DigestValue")
	}
	if strings.TrimSpace(value.Text()) == "" {
		return nil, fail(value, "empty SignatureValue")
	}
	// Like EPS, a SignatureValue that is present but not base64 makes the
	// signature invalid rather than the format.
	sv, valueErr := decodeBase64Text(value.Text())
	der, err := decodeBase64Text(certEl.Text())
	if err != nil || len(der) == 0 {
		return nil, fail(certEl, "X509Certificate is not base64 or empty (%v)", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fail(certEl, "X509Certificate: %v", err)
	}
	canon, err := canonicalSignedInfo(si)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSignatureFormat, err)
	}
	return &Signature{
		SignedInfo:      canon,
		DigestValue:     digestValue,
		DigestAlgorithm: alg,
		SignatureMethod: sigMethod,
		Value:           sv,
		Certificate:     cert,
		valueErr:        valueErr,
	}, nil
}

// decodeBase64Text decodes base64 element text, ignoring the white space
// (line breaks, CRs) signers put in it.
func decodeBase64Text(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.DecodeString(s)
}

// canonicalSignedInfo canonicalises a signature's SignedInfo the way EPS
// does before checking it: copied without white-space-only text, comments
// or its own attributes, declared in the XML-DSig namespace.
func canonicalSignedInfo(si Node) ([]byte, error) {
	cp, err := copyNormalised(si.El, si.Path(), false, nil)
	if err != nil {
		return nil, err
	}
	cp.Attr = []etree.Attr{{Key: "xmlns", Value: NamespaceDSig}}
	return canonicalize(cp)
}

// signatureHash maps a SignatureMethod URI to its hash as EPS does: RSA
// with SHA-256 for …rsa-sha256, otherwise RSA with SHA-1.
func signatureHash(method string) crypto.Hash {
	if strings.HasSuffix(method, "rsa-sha256") {
		return crypto.SHA256
	}
	return crypto.SHA1
}

// CheckSignatureValue checks that Value is an RSA PKCS #1 v1.5 signature
// of SignedInfo by the certificate's key; failure wraps ErrSignatureInvalid.
func (s *Signature) CheckSignatureValue() error {
	if s.valueErr != nil {
		return fmt.Errorf("%w: SignatureValue is not base64: %v", ErrSignatureInvalid, s.valueErr)
	}
	pub, ok := s.Certificate.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: certificate key is %T, not RSA", ErrSignatureInvalid, s.Certificate.PublicKey)
	}
	h := signatureHash(s.SignatureMethod)
	hh := h.New()
	hh.Write(s.SignedInfo)
	if err := rsa.VerifyPKCS1v15(pub, h, hh.Sum(nil), s.Value); err != nil {
		return fmt.Errorf("%w: %s over SignedInfo: %v", ErrSignatureInvalid, s.SignatureMethod, err)
	}
	return nil
}

// CheckDigest checks the signature's SignedInfo against the one re-derived
// from the prescription's fragments with the signature's digest algorithm
// (comparing the whole canonical SignedInfo, as EPS does); failure wraps
// ErrSignatureDigest and shows both DigestValues.
func (s *Signature) CheckDigest(fragmentsDigest string) error {
	want, err := SignedInfo(fragmentsDigest, s.DigestAlgorithm)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignatureDigest, err)
	}
	if !bytes.Equal(s.SignedInfo, want) {
		if s.DigestValue != fragmentsDigest {
			return fmt.Errorf("%w: DigestValue %s, prescription's fragments digest to %s", ErrSignatureDigest, s.DigestValue, fragmentsDigest)
		}
		return fmt.Errorf("%w: SignedInfo differs from EPS's (%s)", ErrSignatureDigest, s.SignedInfo)
	}
	return nil
}

// VerifySignature verifies the prescriber's XML-DSig signature held in the
// prescription: the SignedInfo must match the one re-derived from the
// prescription's fragments (digest by the signature's DigestMethod, author
// time as in the prescription) and the SignatureValue must verify with the
// key of the X509Certificate. It returns nil, an error wrapping
// ErrSignatureFormat, or one wrapping ErrSignatureDigest and/or
// ErrSignatureInvalid. Certificate trust, validity and revocation are not
// checked here (see Signature.CheckCertificate).
func VerifySignature[T ParentPrescriptionInput](parentPrescription T) error {
	sig, err := ReadSignature(parentPrescription)
	if err != nil {
		return err
	}
	d, err := PrescriptionDigest(parentPrescription, sig.DigestAlgorithm)
	if err != nil {
		return fmt.Errorf("%w: deriving fragments: %w", ErrSignatureDigest, err)
	}
	return errors.Join(sig.CheckSignatureValue(), sig.CheckDigest(d))
}
