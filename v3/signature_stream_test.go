package v3

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestFragmentsDigestStreamed checks that the digest of fragments written
// to the hash as they are canonicalised (fragmentsDigest) is the digest of
// their canonical bytes made first (FragmentsDigest of
// CanonicalFragments), with both algorithms: for the fragments of
// porxgate's own and the corpus's signed prescriptions, for a tree many
// times the flush size with text longer than it and every character the
// escaping treats apart, and for shapes the one-pass writer declines only
// after it has written some bytes to the hash (a comment, CDATA, a
// prefixed attribute at the end of a large tree), which goxmldsig then
// canonicalises afresh.
func TestFragmentsDigestStreamed(t *testing.T) {
	trees := map[string]*etree.Element{}
	for _, p := range signedPrescriptionPaths() {
		if frags, err := SignatureFragments(readXMLFile(t, p).Root()); err == nil {
			trees[filepath.Base(p)] = frags
		}
	}
	if len(trees) == 0 {
		t.Fatal("no fragments")
	}
	odd := "a&b<c>d'e\"f\tg\nh\ri\x01j\xffk\uFFFEl\u00e9m\U0001F600n]]>o"
	large := func() *etree.Element {
		root := etree.NewElement("FragmentsToBeHashed")
		for i := 0; i < 40; i++ {
			f := Add(Add(root, "Fragment"), "pertinentLineItem", "xmlns", Namespace, "classCode", "SBADM", "moodCode", "RQO")
			AddII(f, "id", "A54219B8-F741-4C47-B662-E4F8DFA49AB6", "")
			AddText(f, "text", strings.Repeat(odd, 1+i*7))
			Add(f, "empty", "value", odd)
		}
		return root
	}
	trees["large"] = large()
	if n := len(mustCanonical(t, trees["large"])); n < 20*canonicalFlushAt {
		t.Fatalf("the large tree is %d bytes canonical", n)
	}
	declinedLate := map[string]func(*etree.Element){
		"comment": func(e *etree.Element) { e.CreateComment("x") },
		"cdata":   func(e *etree.Element) { e.CreateCData("x]]y") },
		"prefixed attribute": func(e *etree.Element) {
			Add(e, "b", "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance").CreateAttr("xsi:type", "x")
		},
	}
	for name, decline := range declinedLate {
		tree := large()
		decline(tree.ChildElements()[39].ChildElements()[0])
		if _, ok := canonicalBuilt(tree); ok {
			t.Fatalf("%s: not declined", name)
		}
		trees["large, "+name+" at the end"] = tree
	}
	for name, tree := range trees {
		for _, alg := range []DigestAlgorithm{DigestSHA1, DigestSHA256} {
			want, err := FragmentsDigest(mustCanonical(t, tree), alg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fragmentsDigest(tree, alg)
			if err != nil || got != want {
				t.Errorf("%s, %s: streamed digest %q (%v), want %q", name, alg, got, err, want)
			}
		}
	}
	if _, err := fragmentsDigest(trees["large"], "MD5"); err == nil {
		t.Error("unknown algorithm: no error")
	}
	if _, err := fragmentsDigest(nil, DigestSHA256); err == nil {
		t.Error("no fragments: no error")
	}
}

// signedPrescriptionPaths are the files of porxgate's own signature
// fixtures and, with the corpus, its signed prescriptions.
func signedPrescriptionPaths() []string {
	paths, _ := filepath.Glob(filepath.Join("testdata", "signature", "*.xml"))
	if corpustest.Present() {
		more, _ := filepath.Glob(filepath.Join(corpustest.Locate(), "signed-prescriptions", "*.xml"))
		paths = append(paths, more...)
	}
	return paths
}

// mustCanonical is CanonicalFragments of tree, failing the test on an error.
func mustCanonical(t *testing.T, tree *etree.Element) []byte {
	t.Helper()
	b, err := CanonicalFragments(tree)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignedInfoAsBuilt checks that SignedInfo's template gives the bytes
// of the element built and canonicalised, with both algorithms and
// digests holding characters the canonical text escapes.
func TestSignedInfoAsBuilt(t *testing.T) {
	for _, alg := range []DigestAlgorithm{DigestSHA256, DigestSHA1, ""} {
		for _, d := range []string{"", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", "a<b>&c\"d'\r\te\x01\u00e9"} {
			got, err := SignedInfo(d, alg)
			want, werr := signedInfoBuilt(d, alg)
			if err != nil || werr != nil || string(got) != string(want) {
				t.Errorf("%q, %q: %s (%v)\nwant %s (%v)", alg, d, got, err, want, werr)
			}
		}
	}
	if _, err := SignedInfo("x", "SHA3"); err == nil {
		t.Error("unknown algorithm: no error")
	}
}

// signedInfoBuilt is SignedInfo's bytes made by building the element and
// canonicalising it (as SignedInfo did before its template), the
// definition the template follows.
func signedInfoBuilt(digestValue string, alg DigestAlgorithm) ([]byte, error) {
	si := etree.NewElement("SignedInfo")
	si.CreateAttr("xmlns", NamespaceDSig)
	Add(si, "CanonicalizationMethod", "Algorithm", AlgorithmExcC14N)
	Add(si, "SignatureMethod", "Algorithm", alg.SignatureMethod())
	ref := Add(si, "Reference")
	Add(Add(ref, "Transforms"), "Transform", "Algorithm", AlgorithmExcC14N)
	Add(ref, "DigestMethod", "Algorithm", alg.DigestMethod())
	AddText(ref, "DigestValue", digestValue)
	if out, ok := canonicalBuilt(si); ok {
		return out, nil
	}
	return canonicalize(si)
}

// TestPlainPrintable checks plainPrintable against a byte-by-byte loop for
// each byte value at each place of the first three words and after them.
func TestPlainPrintable(t *testing.T) {
	slow := func(v string) bool {
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] >= 0x80 {
				return false
			}
		}
		return true
	}
	cases := []string{"", "plain", "2.16.840.1.113883.2.1.3.2.4.18.8", "\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f", "caf\u00e9"}
	for c := 0; c < 256; c++ {
		for at := 0; at < 25; at++ {
			cases = append(cases, strings.Repeat("p", at)+string([]byte{byte(c)})+"plain text after")
		}
	}
	for _, v := range cases {
		if got, want := plainPrintable(v), slow(v); got != want {
			t.Errorf("plainPrintable(%q) = %v, want %v", v, got, want)
		}
	}
}
