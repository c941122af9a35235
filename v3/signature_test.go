package v3

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

const (
	fixturePath    = "testdata/signature/parent-prescription.xml"
	fixtureCanon   = "testdata/signature/parent-prescription.canonical.txt"
	fixtureRoot    = "/PORX_IN020101SM31"
	fixturePP      = fixtureRoot + "/ControlActEvent/subject/ParentPrescription"
	fixturePresc   = fixturePP + "/pertinentInformation1/pertinentPrescription"
	fixtureSHA256  = "v9IW1CgwEAQGsycNvVcbFxv9VFHueFE/Tp3vsimotHM=" // openssl dgst -sha256 -binary of the canonical file, base64
	fixtureSHA1    = "RGAYrVoslEDYejL/FDgDHvLexx4="                 // openssl dgst -sha1 -binary, base64
	fixtureTimeISO = "2024-01-02T03:00:00+00:00"
)

func fixtureDoc(t testing.TB) *etree.Document {
	t.Helper()
	return readXMLFile(t, fixturePath)
}

// TestSignatureFragmentsFixture checks the fragments of porxgate's own
// fixture against its golden canonical form, which exercises: prefixed
// interaction root, ParentPrescription in a default namespace, attribute
// sorting, tab in an attribute value, comments and indentation dropped,
// repeatNumber/low and the item status removed, escapes, a CR character
// reference (a line feed in EPS's bytes, as the official translator's own
// fragment code gives it: it parses the XML it writes before
// canonicalising) and CDATA (its text, as EPS derives it from FHIR).
func TestSignatureFragmentsFixture(t *testing.T) {
	doc := fixtureDoc(t)
	want := readFileBytes(t, fixtureCanon)
	for name, get := range map[string]func() (*etree.Element, error){
		"interaction element": func() (*etree.Element, error) { return SignatureFragments(doc.Root()) },
		"ParentPrescription element": func() (*etree.Element, error) {
			return SignatureFragments(doc.Root().FindElement("ControlActEvent/subject/ParentPrescription"))
		},
		"Node": func() (*etree.Element, error) {
			_, root, err := Parse(readFileBytes(t, fixturePath))
			if err != nil {
				return nil, err
			}
			return SignatureFragments(root)
		},
	} {
		t.Run(name, func(t *testing.T) {
			frags, err := get()
			if err != nil {
				t.Fatal(err)
			}
			got, err := CanonicalFragments(frags)
			if err != nil {
				t.Fatal(err)
			}
			assertSameBytes(t, got, want)
			for alg, wantD := range map[DigestAlgorithm]string{DigestSHA256: fixtureSHA256, "": fixtureSHA256, DigestSHA1: fixtureSHA1} {
				d, err := FragmentsDigest(got, alg)
				if err != nil || d != wantD {
					t.Errorf("FragmentsPrescriptionDigest(%q) = %q, %v; want %q", alg, d, err, wantD)
				}
			}
		})
	}
	// The input document is left as it was.
	if doc.Root().FindElement(".//repeatNumber/low") == nil || doc.Root().FindElement(".//pertinentInformation4") == nil {
		t.Error("SignatureFragments modified its input")
	}
}

func TestCanonicalFragmentsDoesNotModify(t *testing.T) {
	frags, err := SignatureFragments(fixtureDoc(t).Root())
	if err != nil {
		t.Fatal(err)
	}
	before := frags.Copy()
	if _, err := CanonicalFragments(frags); err != nil {
		t.Fatal(err)
	}
	if eq, err := FragmentsEqual(before, frags); err != nil || !eq {
		t.Fatalf("CanonicalFragments modified its input (equal %v, %v)", eq, err)
	}
	if len(frags.SelectElements(fragmentTag)) != 5 {
		t.Fatalf("got %d fragments, want 5 (time+id, AgentPerson, recordTarget, 2 line items)", len(frags.SelectElements(fragmentTag)))
	}
	if _, err := CanonicalFragments(nil); err == nil {
		t.Error("CanonicalFragments(nil): want error")
	}
}

// TestSignatureFragmentsMalformed removes or spoils parts of the fixture and
// expects an *Error naming the path of what is missing.
func TestSignatureFragmentsMalformed(t *testing.T) {
	remove := func(path string) func(*etree.Element) {
		return func(root *etree.Element) {
			el := root.FindElement(path)
			if el == nil {
				panic("fixture has no " + path)
			}
			el.Parent().RemoveChild(el)
		}
	}
	const pp, presc = "ControlActEvent/subject/ParentPrescription", "ControlActEvent/subject/ParentPrescription/pertinentInformation1/pertinentPrescription"
	tests := []struct {
		name     string
		spoil    func(root *etree.Element)
		wantPath string
		wantMsg  string
	}{
		{"missing author/time", remove(presc + "/author/time"), fixturePresc + "/author/time", "missing mandatory element"},
		{"author/time without value", func(root *etree.Element) {
			root.FindElement(presc + "/author/time").RemoveAttr("value")
		}, fixturePresc + "/author/time/@value", "missing mandatory attribute"},
		{"missing prescription id", func(root *etree.Element) {
			remove(presc + "/id")(root)
			remove(presc + "/id")(root)
		}, fixturePresc + "/id", "missing mandatory element"},
		{"no line items", func(root *etree.Element) {
			remove(presc + "/pertinentInformation2")(root)
			remove(presc + "/pertinentInformation2")(root)
		}, fixturePresc + "/pertinentInformation2", "no line items"},
		{"pertinentInformation2 without line item", remove(presc + "/pertinentInformation2[2]/pertinentLineItem"),
			fixturePresc + "/pertinentInformation2[2]/pertinentLineItem", "missing mandatory element"},
		{"missing author", remove(presc + "/author"), fixturePresc + "/author", "missing mandatory element"},
		{"missing AgentPerson", remove(presc + "/author/AgentPerson"), fixturePresc + "/author/AgentPerson", "missing mandatory element"},
		{"missing recordTarget", remove(pp + "/recordTarget"), fixturePP + "/recordTarget", "missing mandatory element"},
		{"missing pertinentPrescription", remove(presc), fixturePP + "/pertinentInformation1/pertinentPrescription", "missing mandatory element"},
		{"missing ParentPrescription", remove(pp), fixtureRoot, "want a ParentPrescription"},
		{"prefixed attribute", func(root *etree.Element) {
			root.FindElement(presc+"/author/AgentPerson/telecom").CreateAttr("xsi:type", "TEL")
		}, fixturePresc + "/author/AgentPerson/telecom/@xsi:type", "namespaced attribute"},
		{"prefixed attribute deep in a line item", func(root *etree.Element) {
			root.FindElement(presc+"/pertinentInformation2/pertinentLineItem/product").CreateAttr("xsi:nil", "false")
		}, fixturePresc + "/pertinentInformation2[1]/pertinentLineItem/product/@xsi:nil", "namespaced attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := fixtureDoc(t)
			tt.spoil(doc.Root())
			_, err := SignatureFragments(doc.Root())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("SignatureFragments error = %v, want *Error", err)
			}
			if e.Path != tt.wantPath || !strings.Contains(e.Msg, tt.wantMsg) || e.Interaction != "PORX_IN020101SM31" {
				t.Fatalf("error %q: want path %s, message containing %q, interaction PORX_IN020101SM31", err, tt.wantPath, tt.wantMsg)
			}
			if _, err := PrepareDigest(doc.Root(), DigestSHA256); !errors.As(err, &e) || e.Path != tt.wantPath {
				t.Errorf("PrepareDigest error = %v, want path %s", err, tt.wantPath)
			}
		})
	}
}

func TestSignatureFragmentsNilAndEmpty(t *testing.T) {
	var e *Error
	if _, err := SignatureFragments((*etree.Element)(nil)); !errors.As(err, &e) || e.Path != "/ParentPrescription" {
		t.Errorf("nil element: %v", err)
	}
	if _, err := SignatureFragments(Node{}); !errors.As(err, &e) {
		t.Errorf("zero Node: %v", err)
	}
	if _, err := SignatureFragments(etree.NewElement("ParentPrescription")); !errors.As(err, &e) || e.Path != "/ParentPrescription/pertinentInformation1" {
		t.Errorf("empty ParentPrescription: %v", err)
	}
}

// TestSignatureFragmentsFreshReader: an error already recorded on the
// caller's Reader does not stop or hide SignatureFragments' own checks.
func TestSignatureFragmentsFreshReader(t *testing.T) {
	r, root, err := Parse(readFileBytes(t, fixturePath))
	if err != nil {
		t.Fatal(err)
	}
	root.Child("noSuchElement") // records an error on r
	if r.Err() == nil {
		t.Fatal("expected an error on the caller's reader")
	}
	if _, err := SignatureFragments(root); err != nil {
		t.Fatalf("SignatureFragments: %v", err)
	}
}

func TestWithAuthorTime(t *testing.T) {
	doc := fixtureDoc(t)
	at := time.Date(2024, 12, 9, 12, 50, 4, 0, time.FixedZone("CET", 3600))
	frags, err := SignatureFragments(doc.Root(), WithAuthorTime(at))
	if err != nil {
		t.Fatal(err)
	}
	if v := frags.FindElement("Fragment/time").SelectAttrValue("value", ""); v != "20241209115004" {
		t.Errorf("author time %q, want 20241209115004 (UTC)", v)
	}
	// The prescription's own time is not needed when overridden.
	tm := doc.Root().FindElement(".//author/time")
	tm.Parent().RemoveChild(tm)
	res, err := PrepareParameters(doc.Root(), DigestSHA1, WithAuthorTime(at))
	if err != nil {
		t.Fatal(err)
	}
	if res.Timestamp != "2024-12-09T11:50:04+00:00" || res.Algorithm != "RS1" {
		t.Errorf("Prepare = %+v", res)
	}
}

func TestPrepareFixture(t *testing.T) {
	doc := fixtureDoc(t)
	for _, tt := range []struct {
		alg                    DigestAlgorithm
		digest, sigMethod, jwa string
		digestMethod           string
	}{
		{DigestSHA256, fixtureSHA256, AlgorithmRSASHA256, "RS256", AlgorithmSHA256},
		{"", fixtureSHA256, AlgorithmRSASHA256, "RS256", AlgorithmSHA256},
		{DigestSHA1, fixtureSHA1, AlgorithmRSASHA1, "RS1", AlgorithmSHA1},
	} {
		res, err := PrepareParameters(doc.Root(), tt.alg)
		if err != nil {
			t.Fatal(err)
		}
		want := `<SignedInfo xmlns="http://www.w3.org/2000/09/xmldsig#">` +
			`<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></CanonicalizationMethod>` +
			`<SignatureMethod Algorithm="` + tt.sigMethod + `"></SignatureMethod>` +
			`<Reference><Transforms><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></Transform></Transforms>` +
			`<DigestMethod Algorithm="` + tt.digestMethod + `"></DigestMethod>` +
			`<DigestValue>` + tt.digest + `</DigestValue></Reference></SignedInfo>`
		got, err := base64.StdEncoding.DecodeString(res.Digest)
		if err != nil || string(got) != want {
			t.Errorf("%q: digest decodes to\n%s\nwant\n%s", tt.alg, got, want)
		}
		if res.Timestamp != fixtureTimeISO || res.Algorithm != tt.jwa {
			t.Errorf("%q: timestamp %q algorithm %q", tt.alg, res.Timestamp, res.Algorithm)
		}
		d, err := PrescriptionDigest(doc.Root(), tt.alg)
		if err != nil || d != tt.digest {
			t.Errorf("PrescriptionDigest(%q) = %q, %v", tt.alg, d, err)
		}
	}
	if _, err := PrepareDigest(doc.Root(), "MD5"); err == nil {
		t.Error("unknown algorithm: want error")
	}
	if _, err := FragmentsDigest(nil, "SHA512"); err == nil {
		t.Error("FragmentsDigest with unknown algorithm: want error")
	}
	if _, err := SignedInfo("x", "SHA3"); err == nil {
		t.Error("SignedInfo with unknown algorithm: want error")
	}
}

func TestDigestAlgorithmFromURI(t *testing.T) {
	tests := []struct {
		uri     string
		want    DigestAlgorithm
		wantErr bool
	}{
		{AlgorithmSHA256, DigestSHA256, false},
		{AlgorithmSHA1, DigestSHA1, false},
		{"http://www.w3.org/2001/04/xmlenc#sha512", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := DigestAlgorithmFromURI(tt.uri)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("DigestAlgorithmFromURI(%q) = %q, %v", tt.uri, got, err)
		}
	}
}

func TestIsoTimestamp(t *testing.T) {
	tests := []struct{ in, want string }{
		{"20241209115004", "2024-12-09T11:50:04+00:00"},
		{"20241209", "2024-12-09T00:00:00+00:00"},
		{"20241209115004+0100", "2024-12-09T11:50:04+00:00"},
		{"2024", "2024-01-01T00:00:00+00:00"},
		{"", ""},
		{"12", ""},
	}
	for _, tt := range tests {
		if got := isoTimestamp(tt.in); got != tt.want {
			t.Errorf("isoTimestamp(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAttrSpaces(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\tb", "a b"},
		{"a\t\t\fb", "a b"},
		{"a\r\nb", "a b"},
		{"a\n\nb", "a  b"},
		{"a\rb", "a\rb"},
		{"\t\n", "  "},
	}
	for _, tt := range tests {
		if got := attrSpaces(tt.in); got != tt.want {
			t.Errorf("attrSpaces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSiblingGrouping: like EPS's object model, repeated siblings of one name
// are gathered at the first one's place.
func TestSiblingGrouping(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<r><a i="1"/><b/><a i="2"/>text<c/> more</r>`); err != nil {
		t.Fatal(err)
	}
	cp, cerr := copyNormalised(doc.Root(), "/r", true, nil)
	if cerr != nil {
		t.Fatal(cerr)
	}
	got, err := canonicalize(cp)
	if err != nil {
		t.Fatal(err)
	}
	want := `<r xmlns="urn:hl7-org:v3"><a i="1"></a><a i="2"></a><b></b>text more<c></c></r>`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestCompareSignatureFragments is the fidelity check the prescribing tests
// use: equal for a copy however indented, and a named difference when a
// covered element changes.
func TestCompareSignatureFragments(t *testing.T) {
	orig := fixtureDoc(t)
	same := orig.Copy()
	same.IndentTabs()
	if err := CompareSignatureFragments(orig.Root(), same.Root()); err != nil {
		t.Fatalf("re-indented copy: %v", err)
	}
	_, node, err := Parse(readFileBytes(t, fixturePath))
	if err != nil {
		t.Fatal(err)
	}
	if err := CompareSignatureFragments(node, orig.Root()); err != nil {
		t.Fatalf("Node vs element: %v", err)
	}

	tests := []struct {
		name     string
		change   func(root *etree.Element)
		wantText string
	}{
		{"dosage text", func(root *etree.Element) {
			root.FindElement(".//pertinentDosageInstructions/value").SetText("2 tablets")
		}, "fragment 4 (pertinentLineItem 0A1B2C3D-0000-4000-8000-000000000004)"},
		{"patient given name", func(root *etree.Element) {
			root.FindElement(".//patientPerson/name/given").SetText("Anne")
		}, "fragment 3 (recordTarget), first differing element /Fragment/recordTarget/Patient/patientPerson/name/given"},
		{"author time", func(root *etree.Element) {
			root.FindElement(".//author/time").CreateAttr("value", "20240102030001")
		}, "fragment 1 (time+id)"},
		{"line item dropped", func(root *etree.Element) {
			pi2 := root.FindElements(".//pertinentPrescription/pertinentInformation2")
			pi2[1].Parent().RemoveChild(pi2[1])
		}, "original has 5 fragments, re-derived 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed := orig.Copy()
			tt.change(changed.Root())
			err := CompareSignatureFragments(orig.Root(), changed.Root())
			if !errors.Is(err, ErrFragmentsDiffer) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("CompareSignatureFragments = %v, want ErrFragmentsDiffer mentioning %q", err, tt.wantText)
			}
			a, _ := PrescriptionDigest(orig.Root(), DigestSHA256)
			b, _ := PrescriptionDigest(changed.Root(), DigestSHA256)
			if a == b {
				t.Error("digests equal although the fragments differ")
			}
		})
	}
	broken := orig.Copy()
	tm := broken.Root().FindElement(".//author/time")
	tm.Parent().RemoveChild(tm)
	var e *Error
	if err := CompareSignatureFragments(orig.Root(), broken.Root()); !errors.As(err, &e) || errors.Is(err, ErrFragmentsDiffer) {
		t.Errorf("re-derived without author time: %v, want *Error", err)
	}
}

func TestAuthorTime(t *testing.T) {
	got, err := AuthorTime(fixtureDoc(t).Root())
	if err != nil || !got.Equal(time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("AuthorTime = %v, %v", got, err)
	}
	doc := fixtureDoc(t)
	doc.Root().FindElement(".//author/time").CreateAttr("value", "2024ab")
	var e *Error
	if _, err := AuthorTime(doc.Root()); !errors.As(err, &e) || e.Path != fixturePresc+"/author/time/@value" {
		t.Errorf("bad TS: %v", err)
	}
}

func TestElementPath(t *testing.T) {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(`<h:r xmlns:h="urn:x"><h:c/><h:c><h:p/></h:c><d/></h:r>`); err != nil {
		t.Fatal(err)
	}
	if got := elementPath(doc.Root().FindElement("c[2]/p")); got != "/r/c[2]/p" {
		t.Errorf("elementPath = %q", got)
	}
	if got := elementPath(doc.Root().SelectElement("d")); got != "/r/d" {
		t.Errorf("elementPath = %q", got)
	}
	if got := elementPath(etree.NewElement("x")); got != "/x" {
		t.Errorf("elementPath = %q", got)
	}
}
