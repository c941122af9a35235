package prescribe

import (
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// scannedSignatureFrags are signatureText contents for
// TestCheckScannedSignature: what the scanner vouches for (plain), and
// what it leaves to the full check (a comment, CDATA section, processing
// instruction, "</signatureText>" inside one, a nested signatureText) or
// what does not read at all.
var scannedSignatureFrags = []struct {
	frag    string
	scanned bool // the check is skipped
}{
	{`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>AbC=</SignatureValue></Signature>`, true},
	{"\n  <a>\n</a>\n", true},
	{"<a/><b/>", true},
	{"<a>&amp;&#x41;&lt;</a>", true},
	{`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`, true},
	{`<p:a/>`, true}, // its prefix declared on the message's root
	{"\xef\xbb\xbf<a/>", true},
	{"text only", true},
	{"&amp;", true},
	{" ", true},
	{"<a b='>'/>", true},
	{"<!-- c --><a/>", false},
	{"<a><![CDATA[x]]></a>", false},
	{"<?p x?><a/>", false},
	{"<!-- nothing -->", false},
	{"<a/><!-- </signatureText> -->", false},
	{"<a><![CDATA[</signatureText>]]></a>", false},
	{"<a><?p </signatureText>?></a>", false},
	{"<a/><signatureText><b/></signatureText>", false},
	{"<signatureText/>", false},
	{"<a></b>", false},
	{"<a>&nbsp;</a>", false},
}

// TestCheckScannedSignature holds checkScannedSignature to
// checkSignatureFragment for each signature a message read by a Space can
// hold, its bytes as signatureData takes them (up to the first
// "</signatureText>"), and checks that the plain ones are not read again.
func TestCheckScannedSignature(t *testing.T) {
	for _, tc := range scannedSignatureFrags {
		raw := []byte(`<r xmlns="urn:hl7-org:v3" xmlns:p="urn:p"><signatureText>` + tc.frag + `</signatureText></r>`)
		sp := v3.NewScratch().Get()
		_, root, err := sp.Parse(raw)
		if err != nil {
			if tc.scanned {
				t.Errorf("%q: %v", tc.frag, err)
			}
			continue // not a message: nothing to check
		}
		st := root.El.SelectElement("signatureText")
		sig, ok := rawInner(raw, "signatureText")
		if !ok {
			if tc.scanned {
				t.Errorf("%q: no span", tc.frag)
			}
			continue
		}
		if got := sp.ScannedContent(st, sig); got != tc.scanned {
			t.Errorf("%q: vouched for %v, want %v", sig, got, tc.scanned)
		}
		_, want := checkSignatureFragment(sig)
		got := checkScannedSignature(sp, st, raw, sig)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Errorf("%q: %v, want %v", sig, got, want)
		}
		// Without a Space, or for another element, the full check.
		for _, other := range []struct {
			sp *v3.Space
			st *etree.Element
		}{{nil, st}, {sp, etree.NewElement("signatureText")}, {sp, nil}} {
			got := checkScannedSignature(other.sp, other.st, raw, sig)
			if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
				t.Errorf("%q checked in full: %v, want %v", sig, got, want)
			}
		}
	}
}

// FuzzCheckScannedSignature checks, for any signatureText content of a
// message the Space reads, that checkScannedSignature answers as
// checkSignatureFragment (seeds in testdata/fuzz/FuzzCheckScannedSignature
// and scannedSignatureFrags).
func FuzzCheckScannedSignature(f *testing.F) {
	for _, tc := range scannedSignatureFrags {
		f.Add([]byte(tc.frag))
	}
	f.Fuzz(func(t *testing.T, frag []byte) {
		raw := append(append([]byte(`<r xmlns="urn:hl7-org:v3" xmlns:p="urn:p"><signatureText>`), frag...), `</signatureText></r>`...)
		sp := v3.NewScratch().Get()
		_, root, err := sp.Parse(raw)
		if err != nil {
			return
		}
		st := root.El.SelectElement("signatureText")
		sig, ok := rawInner(raw, "signatureText")
		if st == nil || !ok {
			return
		}
		_, want := checkSignatureFragment(sig)
		got := checkScannedSignature(sp, st, raw, sig)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("%q: %v, want %v", sig, got, want)
		}
	})
}
