package v3

import (
	"crypto"
	_ "crypto/sha1" // registers SHA-1 for crypto.SHA1.New
	_ "crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"

	"github.com/beevik/etree"
)

// DigestAlgorithm names the hash of a prescription signature: SHA-256 (the
// default, also the zero value) or SHA-1, which a few legacy applications
// still use.
type DigestAlgorithm string

// The digest algorithms EPS supports.
const (
	DigestSHA256 DigestAlgorithm = "SHA256"
	DigestSHA1   DigestAlgorithm = "SHA1"
)

// XML-DSig algorithm URIs of prescription signatures.
const (
	AlgorithmSHA1      = "http://www.w3.org/2000/09/xmldsig#sha1"
	AlgorithmSHA256    = "http://www.w3.org/2001/04/xmlenc#sha256"
	AlgorithmRSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	AlgorithmRSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	// NamespaceDSig is the XML-DSig namespace of Signature and SignedInfo.
	NamespaceDSig = "http://www.w3.org/2000/09/xmldsig#"
)

// orDefault maps the zero value to SHA-256.
func (a DigestAlgorithm) orDefault() DigestAlgorithm {
	if a == "" {
		return DigestSHA256
	}
	return a
}

// Hash returns the crypto.Hash of the algorithm, or an error for an unknown one.
func (a DigestAlgorithm) Hash() (crypto.Hash, error) {
	switch a.orDefault() {
	case DigestSHA256:
		return crypto.SHA256, nil
	case DigestSHA1:
		return crypto.SHA1, nil
	}
	return 0, fmt.Errorf("digest algorithm %q: want %s or %s", string(a), DigestSHA256, DigestSHA1)
}

// DigestMethod returns the SignedInfo DigestMethod URI of the algorithm.
func (a DigestAlgorithm) DigestMethod() string {
	if a.orDefault() == DigestSHA1 {
		return AlgorithmSHA1
	}
	return AlgorithmSHA256
}

// SignatureMethod returns the SignedInfo SignatureMethod URI (RSA with the
// algorithm's hash).
func (a DigestAlgorithm) SignatureMethod() string {
	if a.orDefault() == DigestSHA1 {
		return AlgorithmRSASHA1
	}
	return AlgorithmRSASHA256
}

// JWA returns the value of $prepare's "algorithm" parameter: RS256 or RS1.
func (a DigestAlgorithm) JWA() string {
	if a.orDefault() == DigestSHA1 {
		return "RS1"
	}
	return "RS256"
}

// DigestAlgorithmFromURI maps a DigestMethod URI to its algorithm.
func DigestAlgorithmFromURI(uri string) (DigestAlgorithm, error) {
	switch uri {
	case AlgorithmSHA256:
		return DigestSHA256, nil
	case AlgorithmSHA1:
		return DigestSHA1, nil
	}
	return "", fmt.Errorf("digest method %q: want %s or %s", uri, AlgorithmSHA256, AlgorithmSHA1)
}

// fragmentsDigest is FragmentsDigest of CanonicalFragments(fragments):
// the canonical bytes are written to the hash as they are made, a few
// kilobytes at a time, rather than gathered first.
func fragmentsDigest(fragments *etree.Element, alg DigestAlgorithm) (string, error) {
	h, err := alg.Hash()
	if err != nil {
		return "", fmt.Errorf("fragments digest: %w", err)
	}
	hh := h.New()
	if fragments != nil && fragments.Parent() == nil {
		buf, ok := appendCanonicalBuilt(make([]byte, 0, 2*canonicalFlushAt), fragments, "", hh)
		if ok {
			hh.Write(buf)
			return base64.StdEncoding.EncodeToString(hh.Sum(nil)), nil
		}
	}
	canonical, err := CanonicalFragments(fragments)
	if err != nil {
		return "", err
	}
	return FragmentsDigest(canonical, alg)
}

// FragmentsDigest hashes canonical fragment bytes (from CanonicalFragments)
// with alg (SHA-256 when empty) and returns the digest in base64, the form of
// a SignedInfo DigestValue.
func FragmentsDigest(canonical []byte, alg DigestAlgorithm) (string, error) {
	h, err := alg.Hash()
	if err != nil {
		return "", fmt.Errorf("fragments digest: %w", err)
	}
	hh := h.New()
	hh.Write(canonical)
	return base64.StdEncoding.EncodeToString(hh.Sum(nil)), nil
}

// SignedInfo returns the canonical (Exclusive C14N) SignedInfo element EPS
// builds around a DigestValue, in the XML-DSig namespace:
//
//	<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">
//	  <CanonicalizationMethod Algorithm="…xml-exc-c14n#"/>
//	  <SignatureMethod Algorithm="…rsa-sha256 or rsa-sha1"/>
//	  <Reference><Transforms><Transform Algorithm="…xml-exc-c14n#"/></Transforms>
//	    <DigestMethod Algorithm="…sha256 or sha1"/><DigestValue>…</DigestValue></Reference>
//	</SignedInfo>
//
// (shown indented; the bytes have no white space between elements and full
// end tags). It is what the prescriber's signing software signs.
func SignedInfo(digestValue string, alg DigestAlgorithm) ([]byte, error) {
	if _, err := alg.Hash(); err != nil {
		return nil, fmt.Errorf("signed info: %w", err)
	}
	// The canonical bytes written from their template: what building the
	// element and canonicalising it gives (TestSignedInfoAsBuilt), without
	// the element's allocations.
	out := make([]byte, 0, 512+len(digestValue))
	out = append(out, `<SignedInfo xmlns="`+NamespaceDSig+`"><CanonicalizationMethod Algorithm="`+AlgorithmExcC14N+
		`"></CanonicalizationMethod><SignatureMethod Algorithm="`...)
	out = append(out, alg.SignatureMethod()...)
	out = append(out, `"></SignatureMethod><Reference><Transforms><Transform Algorithm="`+AlgorithmExcC14N+
		`"></Transform></Transforms><DigestMethod Algorithm="`...)
	out = append(out, alg.DigestMethod()...)
	out = append(out, `"></DigestMethod><DigestValue>`...)
	out = appendC14NEscaped(out, digestValue, false)
	return append(out, `</DigestValue></Reference></SignedInfo>`...), nil
}

// PrescriptionDigest derives a prescription's fragments (SignatureFragments, with opts),
// canonicalises them and returns their base64 digest with alg.
func PrescriptionDigest[T ParentPrescriptionInput](parentPrescription T, alg DigestAlgorithm, opts ...FragmentsOption) (string, error) {
	frags, err := SignatureFragments(parentPrescription, opts...)
	if err != nil {
		return "", err
	}
	return fragmentsDigest(frags, alg)
}

// PrepareDigest returns the value of the "digest" parameter EPS's $prepare
// returns for the prescription: base64 of the canonical SignedInfo (see
// SignedInfo) holding the fragments' digest with alg (SHA-256 when empty).
// For an unsigned bundle pass WithAuthorTime(now): EPS takes the time of the
// call as the author time.
func PrepareDigest[T ParentPrescriptionInput](parentPrescription T, alg DigestAlgorithm, opts ...FragmentsOption) (string, error) {
	res, err := PrepareParameters(parentPrescription, alg, opts...)
	return res.Digest, err
}

// PrepareResult holds the three parameters of a $prepare response.
type PrepareResult struct {
	// Digest is the "digest" parameter (see PrepareDigest).
	Digest string
	// Timestamp is the "timestamp" parameter: the author time hashed, as
	// YYYY-MM-DDTHH:mm:ss+00:00.
	Timestamp string
	// Algorithm is the "algorithm" parameter: RS256 or RS1.
	Algorithm string
}

// PrepareParameters computes a $prepare response's parameters for the prescription.
// As in PrepareDigest, pass WithAuthorTime(now) for an unsigned bundle.
func PrepareParameters[T ParentPrescriptionInput](parentPrescription T, alg DigestAlgorithm, opts ...FragmentsOption) (PrepareResult, error) {
	parts, err := signatureParts(parentPrescription, opts)
	if err != nil {
		return PrepareResult{}, err
	}
	// The canonical fragments written straight from the parts to the hash
	// (see writeCanonical); else built and written (and a problem with
	// them, or with alg, told as before).
	d := ""
	var hh hash.Hash
	if h, herr := alg.Hash(); herr == nil {
		hh = h.New()
	}
	if hh != nil && parts.writeCanonical(hh) {
		d = base64.StdEncoding.EncodeToString(hh.Sum(nil))
	} else {
		frags, err := parts.fragments()
		if err != nil {
			return PrepareResult{}, err
		}
		if d, err = fragmentsDigest(frags, alg); err != nil {
			return PrepareResult{}, err
		}
	}
	si, err := SignedInfo(d, alg)
	if err != nil {
		return PrepareResult{}, err
	}
	return PrepareResult{Digest: base64.StdEncoding.EncodeToString(si), Timestamp: isoTimestamp(parts.authorTimeValue()), Algorithm: alg.JWA()}, nil
}

// isoTimestamp turns an HL7 TS (YYYYMMDDHHmmss, shorter forms padded with
// zeros) into EPS's ISO form YYYY-MM-DDTHH:mm:ss+00:00; any time zone
// suffix on ts is ignored, as EPS reads the value as UTC.
func isoTimestamp(ts string) string {
	if i := strings.IndexAny(ts, "+-."); i >= 0 {
		ts = ts[:i]
	}
	if len(ts) < 4 {
		return ""
	}
	ts += strings.Repeat("0", max(0, 14-len(ts)))
	if ts[4:6] == "00" {
		ts = ts[:4] + "01" + ts[6:]
	}
	if ts[6:8] == "00" {
		ts = ts[:6] + "01" + ts[8:]
	}
	return ts[0:4] + "-" + ts[4:6] + "-" + ts[6:8] + "T" + ts[8:10] + ":" + ts[10:12] + ":" + ts[12:14] + "+00:00"
}
