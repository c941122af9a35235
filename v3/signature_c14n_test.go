package v3

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestCanonicalBuiltAsGoxmldsig checks that the one-pass canonical writer
// gives goxmldsig's bytes for the signature fragments of porxgate's own and
// the corpus's signed prescriptions, for SignedInfo, and for built trees
// holding every character the escaping rules treat apart; and that it
// declines the shapes it does not cover.
func TestCanonicalBuiltAsGoxmldsig(t *testing.T) {
	var trees []*etree.Element
	for _, p := range signedPrescriptionPaths() {
		frags, err := SignatureFragments(readXMLFile(t, p).Root())
		if err != nil {
			continue // not a prescription
		}
		trees = append(trees, frags)
	}
	if len(trees) == 0 {
		t.Fatal("no fragments to compare")
	}
	for _, alg := range []DigestAlgorithm{DigestSHA1, DigestSHA256} {
		si := etree.NewElement("SignedInfo")
		si.CreateAttr("xmlns", NamespaceDSig)
		Add(si, "CanonicalizationMethod", "Algorithm", AlgorithmExcC14N)
		Add(si, "DigestMethod", "Algorithm", alg.DigestMethod())
		AddText(si, "DigestValue", "abc+/=")
		trees = append(trees, si)
	}
	odd := "a&b<c>d'e\"f\tg\nh\ri\x01j\xffk\uFFFEl\u00e9m\U0001F600n]]>o"
	tricky := etree.NewElement("FragmentsToBeHashed")
	f := Add(tricky, "Fragment")
	x := Add(f, "text", "xmlns", Namespace, "a", odd, "b", "plain")
	x.CreateText(odd)
	Add(x, "empty")
	Add(Add(f, "inner", "xmlns", Namespace), "deeper", "xmlns", Namespace)
	Add(f, "other", "xmlns", "urn:other")
	trees = append(trees, tricky)
	for i, tree := range trees {
		got, ok := canonicalBuilt(tree)
		if !ok {
			t.Errorf("tree %d (%s): declined", i, tree.Tag)
			continue
		}
		want, err := canonicalize(tree)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("tree %d (%s):\n got %s\nwant %s", i, tree.Tag, got, want)
		}
	}

	declined := map[string]func() *etree.Element{
		"prefixed element": func() *etree.Element { e := etree.NewElement("a"); e.Space = "hl7"; return e },
		"prefixed attribute": func() *etree.Element {
			e := etree.NewElement("a")
			e.CreateAttr("xsi:type", "x")
			return e
		},
		"unsorted attributes": func() *etree.Element { e := etree.NewElement("r"); Add(e, "a", "b", "1", "a", "2"); return e },
		"xmlns not first":     func() *etree.Element { e := etree.NewElement("a"); Add(e, "b", "a", "1", "xmlns", Namespace); return e },
		"cdata":               func() *etree.Element { e := etree.NewElement("a"); e.CreateCData("x"); return e },
		"comment":             func() *etree.Element { e := etree.NewElement("a"); e.CreateComment("x"); return e },
		"with a parent":       func() *etree.Element { return Add(etree.NewElement("p"), "a") },
	}
	for name, build := range declined {
		if _, ok := canonicalBuilt(build()); ok {
			t.Errorf("%s: not declined", name)
		}
	}
	if !strings.Contains(odd, "\r") {
		t.Fatal("test string lost its CR")
	}
}
