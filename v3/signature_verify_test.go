package v3

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestVerifySignatureSignedPrescriptions verifies the corpus's signed
// ParentPrescriptions. SignatureAlgorithmSha256.xml was re-indented after it
// was signed (its additional-instructions text is now wrapped over lines),
// so, as in EPS, its RSA-SHA256 signature verifies but its digest no longer
// matches: TestSignatureSha256DigestBeforeRewrap shows the digest matches
// once that wrapping is undone. The two ARL files carry the mock CA's
// certificates in place of the signer's, so neither their SignatureValue
// nor (for CaOnArl) their digest verifies; they serve the certificate
// checks.
func TestVerifySignatureSignedPrescriptions(t *testing.T) {
	dir := filepath.Join(corpustest.Dir(t), "signed-prescriptions")
	tests := []struct {
		file          string
		wantDigestErr bool
		wantSigErr    bool
	}{
		{"ValidSignature.xml", false, false},
		{"SignatureAlgorithmSha256.xml", true, false},
		{"SignatureDoesNotMatchPrescription.xml", true, true},
		{"SignatureIsInvalid.xml", false, true},
		{"SignatureCertCaOnArl.xml", true, true},
		{"SignatureCertCaNotOnArl.xml", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := readXMLFile(t, filepath.Join(dir, tt.file))
			err := VerifySignature(doc.Root())
			if errors.Is(err, ErrSignatureFormat) {
				t.Fatalf("unexpected format error: %v", err)
			}
			if got := errors.Is(err, ErrSignatureDigest); got != tt.wantDigestErr {
				t.Errorf("digest error = %v, want %v (err %v)", got, tt.wantDigestErr, err)
			}
			if got := errors.Is(err, ErrSignatureInvalid); got != tt.wantSigErr {
				t.Errorf("signature error = %v, want %v (err %v)", got, tt.wantSigErr, err)
			}
		})
	}
}

// TestSignatureSha256DigestBeforeRewrap undoes the line wrapping of the text
// in SignatureAlgorithmSha256.xml (white-space runs inside text back to one
// space) and checks that the SHA-256 fragments digest then equals the
// signature's DigestValue, and that the whole signature verifies.
func TestSignatureSha256DigestBeforeRewrap(t *testing.T) {
	doc := readXMLFile(t, filepath.Join(corpustest.Dir(t), "signed-prescriptions", "SignatureAlgorithmSha256.xml"))
	ws := regexp.MustCompile(`\s+`)
	// Unwrap text outside the signature (base64 there keeps its breaks).
	for _, el := range doc.Root().FindElements(".//*") {
		if el.Space == "" && el.NamespaceURI() == NamespaceDSig {
			continue
		}
		for _, tok := range el.Child {
			if cd, ok := tok.(*etree.CharData); ok && strings.TrimSpace(cd.Data) != "" {
				cd.Data = ws.ReplaceAllString(cd.Data, " ")
			}
		}
	}
	sig, err := ReadSignature(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	if sig.DigestAlgorithm != DigestSHA256 {
		t.Fatalf("digest algorithm %q, want SHA256", sig.DigestAlgorithm)
	}
	if err := VerifySignature(doc.Root()); err != nil {
		t.Fatalf("VerifySignature after unwrapping: %v", err)
	}
}

// TestVerifySignatureReleaseResponses verifies every signed prescription that
// Spine returned in the corpus's release responses (prefixed interaction,
// prescriptions in a default namespace among other declarations). Two are
// broken on purpose: release_invalid.xml's SignatureValue reads "invalid",
// repeat_prescribing_release_success.xml's signature is an empty
// placeholder.
func TestVerifySignatureReleaseResponses(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool {
		return strings.HasPrefix(rel, "release-responses"+string(filepath.Separator)) && strings.HasSuffix(rel, ".xml")
	})
	want := map[string]error{
		"release_invalid.xml":                    ErrSignatureInvalid,
		"repeat_prescribing_release_success.xml": ErrSignatureFormat,
	}
	total, valid := 0, 0
	for _, f := range files {
		doc := readXMLFile(t, f)
		for i, pp := range doc.Root().FindElements("//ParentPrescription") {
			total++
			err := VerifySignature(pp)
			if w := want[filepath.Base(f)]; w != nil {
				if !errors.Is(err, w) || errors.Is(err, ErrSignatureDigest) {
					t.Errorf("%s ParentPrescription %d: %v, want only %v", filepath.Base(f), i+1, err, w)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s ParentPrescription %d: %v", filepath.Base(f), i+1, err)
				continue
			}
			valid++
		}
	}
	t.Logf("release responses: %d of %d signed prescriptions verify (digest and RSA signature), %d broken on purpose", valid, total, len(want))
	if total == 0 {
		t.Fatal("no ParentPrescription in release-responses")
	}
}

func readPEMCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(readFileBytes(t, path))
	if b == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func readCRL(t *testing.T, path string) *x509.RevocationList {
	t.Helper()
	data := readFileBytes(t, path)
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	l, err := x509.ParseRevocationList(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return l
}

// TestCheckCertificateCorpus applies the certificate checks with the corpus's
// mock CA material: the ARL (ca.crl, signed by ca.pem) lists revokedCa.pem
// (reason superseded, before SignatureCertCaOnArl was signed).
func TestCheckCertificateCorpus(t *testing.T) {
	dir := filepath.Join(corpustest.Dir(t), "signed-prescriptions")
	ca := readPEMCert(t, filepath.Join(dir, "ca.pem"))
	revokedCA := readPEMCert(t, filepath.Join(dir, "revokedCa.pem"))
	arl := readCRL(t, filepath.Join(dir, "ca.crl"))
	if err := arl.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("ARL not signed by ca.pem: %v", err)
	}
	both := []*x509.Certificate{ca, revokedCA}
	tests := []struct {
		file    string
		policy  CertificatePolicy
		want    []error // errors.Is must hold for each
		notWant []error
	}{
		{"SignatureCertCaOnArl.xml", CertificatePolicy{CAs: both, ARL: arl},
			[]error{ErrCACertificateRevoked}, []error{ErrCertificateUntrusted, ErrCertificateExpired, ErrCertificateRevoked}},
		{"SignatureCertCaOnArl.xml", CertificatePolicy{CAs: []*x509.Certificate{ca}, ARL: arl},
			[]error{ErrCertificateUntrusted}, []error{ErrCACertificateRevoked}},
		// Signed (2021) before its certificate's validity (2023-2024).
		{"SignatureCertCaNotOnArl.xml", CertificatePolicy{CAs: both, ARL: arl},
			[]error{ErrCertificateExpired}, []error{ErrCACertificateRevoked, ErrCertificateUntrusted, ErrCertificateRevoked}},
		{"SignatureCertCaNotOnArl.xml", CertificatePolicy{CAs: both, CRL: arl},
			[]error{ErrCertificateExpired}, []error{ErrCertificateRevoked}},
		// A real NHS INT certificate: not issued by the mock CA.
		{"ValidSignature.xml", CertificatePolicy{CAs: both, ARL: arl},
			[]error{ErrCertificateUntrusted}, []error{ErrCertificateExpired, ErrCACertificateRevoked}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc := readXMLFile(t, filepath.Join(dir, tt.file))
			sig, err := ReadSignature(doc.Root())
			if err != nil {
				t.Fatal(err)
			}
			at, err := AuthorTime(doc.Root())
			if err != nil {
				t.Fatal(err)
			}
			err = sig.CheckCertificate(at, tt.policy)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("CheckCertificate = %v, want %v", err, w)
				}
			}
			for _, w := range tt.notWant {
				if errors.Is(err, w) {
					t.Errorf("CheckCertificate = %v, must not be %v", err, w)
				}
			}
		})
	}
}

// TestReadSignatureMalformed removes or spoils parts of a valid signature.
func TestReadSignatureMalformed(t *testing.T) {
	path := filepath.Join(corpustest.Dir(t), "signed-prescriptions", "ValidSignature.xml")
	const sigPath = "/ParentPrescription/pertinentInformation1/pertinentPrescription/author/signatureText"
	tests := []struct {
		name     string
		spoil    func(sig *etree.Element)
		wantPath string
	}{
		{"no Signature", func(s *etree.Element) { s.Parent().RemoveChild(s) }, sigPath + "/Signature"},
		{"no SignedInfo", func(s *etree.Element) { s.RemoveChild(s.SelectElement("SignedInfo")) }, sigPath + "/Signature/SignedInfo"},
		{"empty SignatureValue", func(s *etree.Element) { s.SelectElement("SignatureValue").SetText("") }, sigPath + "/Signature/SignatureValue"},
		{"no X509Certificate", func(s *etree.Element) {
			d := s.FindElement("KeyInfo/X509Data")
			d.RemoveChild(d.SelectElement("X509Certificate"))
		}, sigPath + "/Signature/KeyInfo/X509Data/X509Certificate"},
		{"not a certificate", func(s *etree.Element) { s.FindElement("KeyInfo/X509Data/X509Certificate").SetText("AAAA") }, sigPath + "/Signature/KeyInfo/X509Data/X509Certificate"},
		{"unknown digest method", func(s *etree.Element) {
			s.FindElement("SignedInfo/Reference/DigestMethod").CreateAttr("Algorithm", "urn:md5")
		}, sigPath + "/Signature/SignedInfo/Reference/DigestMethod"},
		{"no DigestValue", func(s *etree.Element) {
			r := s.FindElement("SignedInfo/Reference")
			r.RemoveChild(r.SelectElement("DigestValue"))
		}, sigPath + "/Signature/SignedInfo/Reference/DigestValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := readXMLFile(t, path)
			tt.spoil(doc.Root().FindElement("pertinentInformation1/pertinentPrescription/author/signatureText/Signature"))
			_, err := ReadSignature(doc.Root())
			if !errors.Is(err, ErrSignatureFormat) {
				t.Fatalf("ReadSignature = %v, want ErrSignatureFormat", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Path != tt.wantPath {
				t.Fatalf("error %v: want path %s", err, tt.wantPath)
			}
			if err := VerifySignature(doc.Root()); !errors.Is(err, ErrSignatureFormat) {
				t.Errorf("VerifySignature = %v, want ErrSignatureFormat", err)
			}
		})
	}
}

// TestVerifySignatureTampered changes covered and uncovered content of a
// validly signed prescription.
func TestVerifySignatureTampered(t *testing.T) {
	path := filepath.Join(corpustest.Dir(t), "signed-prescriptions", "ValidSignature.xml")
	tests := []struct {
		name       string
		tamper     func(pp *etree.Element)
		wantDigest bool
	}{
		{"patient name", func(pp *etree.Element) { pp.FindElement(".//patientPerson/name/given").SetText("X") }, true},
		{"author time", func(pp *etree.Element) {
			pp.FindElement("pertinentInformation1/pertinentPrescription/author/time").CreateAttr("value", "20210726120523")
		}, true},
		{"repeatNumber low only", func(pp *etree.Element) {
			li := pp.FindElement("pertinentInformation1/pertinentPrescription/pertinentInformation2/pertinentLineItem")
			rn := li.SelectElement("repeatNumber")
			if rn == nil {
				rn = etree.NewElement("repeatNumber")
				li.InsertChildAt(3, rn)
				rn.CreateElement("high").CreateAttr("value", "1") // changes the digest by itself
				return
			}
			AddValue(rn, "low", "7")
		}, true},
		{"item status", func(pp *etree.Element) {
			li := pp.FindElement("pertinentInformation1/pertinentPrescription/pertinentInformation2/pertinentLineItem")
			Add(Add(li, "pertinentInformation4", "typeCode", "PERT"), "pertinentItemStatus")
		}, false},
		{"uncovered effectiveTime", func(pp *etree.Element) { pp.SelectElement("effectiveTime").CreateAttr("value", "20990101000000") }, false},
		{"attribute order and indentation", func(pp *etree.Element) {
			rt := pp.SelectElement("recordTarget").SelectElement("Patient").SelectElement("id")
			rt.Attr[0], rt.Attr[1] = rt.Attr[1], rt.Attr[0]
			doc := etree.NewDocument()
			doc.SetRoot(pp.Copy())
			doc.IndentTabs()
			*pp = *doc.Root()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := readXMLFile(t, path)
			tt.tamper(doc.Root())
			err := VerifySignature(doc.Root())
			if got := errors.Is(err, ErrSignatureDigest); got != tt.wantDigest {
				t.Fatalf("VerifySignature = %v; digest error %v, want %v", err, got, tt.wantDigest)
			}
			if errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("signature value must still verify: %v", err)
			}
		})
	}
}

// TestVerifySignatureNotBase64 follows EPS: a SignatureValue that is not
// base64 makes the signature invalid, not the format.
func TestVerifySignatureNotBase64(t *testing.T) {
	doc := readXMLFile(t, filepath.Join(corpustest.Dir(t), "signed-prescriptions", "ValidSignature.xml"))
	doc.Root().FindElement(".//signatureText/Signature/SignatureValue").SetText("not base64!")
	err := VerifySignature(doc.Root())
	if !errors.Is(err, ErrSignatureInvalid) || errors.Is(err, ErrSignatureFormat) || errors.Is(err, ErrSignatureDigest) {
		t.Fatalf("VerifySignature = %v, want only ErrSignatureInvalid", err)
	}
}
