package v3

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestDirectFragmentsAsBuilt checks that the canonical fragments written
// straight from a prescription's parts (writeCanonical) are the bytes of
// the fragments built and canonicalised (CanonicalFragments of
// SignatureFragments), with the prescription's author time and with one
// given, and that the author time and PrepareParameters' digest are the
// same: for porxgate's fixture and variants of it holding each thing the
// copy normalises, for the corpus's signed prescriptions and Send
// messages; and that the shapes only the copy handles are declined.
func TestDirectFragmentsAsBuilt(t *testing.T) {
	fixture := string(readFileBytes(t, filepath.Join("testdata", "signature", "parent-prescription.xml")))
	plain := edited(t, fixture, "<![CDATA[as <directed>]]>", "as &lt;directed&gt;")
	type input struct {
		name, xml string
		declined  bool
	}
	inputs := []input{
		{"fixture (CDATA)", fixture, true},
		{"fixture without CDATA", plain, false},
		{"attribute line ends, tabs, non-ASCII", edited(t, plain, `use="WP"`, "use=\"W&#13;P&#10;a&#13;&#10;b\u0085c\u2028d&#9;&#9;e\t\tf \u00e9\""), false},
		{"text line ends, non-ASCII", edited(t, plain, "TEST\nSURGERY", "TEST\r\nSUR&#13;GE\u0085RY\u2029&#13;\u0085 \u00e9 &amp; &quot;"), false},
		{"text beside elements", edited(t, plain, "<prefix>DR</prefix>", "Dr <prefix>DR</prefix>"), false},
		{"namespace declarations", edited(t, plain, `<AgentPerson classCode="AGNT">`, `<AgentPerson xmlns:x="urn:x" classCode="AGNT" xmlns="urn:hl7-org:v3">`), false},
		{"a prefixed element", edited(t, plain, "<telecom value=", `<hl7:telecom xmlns:hl7="urn:hl7-org:v3" value=`), false},
		{"a prefixed attribute of repeatNumber (dropped)", edited(t, plain, "<repeatNumber>", `<repeatNumber xsi:nil="false">`), false},
		{"namespaced attribute", edited(t, plain, "<telecom value=", `<telecom xsi:type="TEL" value=`), true},
		{"processing instruction", edited(t, plain, "<prefix>DR</prefix>", "<?pi x?><prefix>DR</prefix>"), true},
		{"two runs of text", edited(t, plain, "<postalCode>ZZ99 3ZZ</postalCode>", "<postalCode>ZZ99<!-- c --> 3ZZ</postalCode>"), true},
		{"names apart", edited(t, plain, "<streetAddressLine>Testville</streetAddressLine>", "<postalCode>X</postalCode><streetAddressLine>Testville</streetAddressLine>"), true},
	}
	if corpustest.Present() {
		for _, p := range corpustest.Walk(t, func(rel string) bool {
			return strings.HasPrefix(rel, "signed-prescriptions/") && strings.HasSuffix(rel, ".xml") ||
				strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml")
		}) {
			inputs = append(inputs, input{name: p, xml: string(readFileBytes(t, p))})
		}
	}
	direct := 0
	for _, in := range inputs {
		// etree's reader, told to keep CDATA as CDATA.
		doc := etree.NewDocument()
		doc.ReadSettings.PreserveCData = true
		if err := doc.ReadFromString(in.xml); err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		for _, opts := range [][]FragmentsOption{nil, {WithAuthorTime(time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC))}} {
			parts, err := signatureParts(doc.Root(), opts)
			if err != nil {
				if !strings.HasPrefix(in.name, corpustest.Locate()) {
					t.Fatalf("%s: %v", in.name, err)
				}
				continue // not a prescription
			}
			var got bytes.Buffer
			ok := parts.writeCanonical(&got)
			if ok == in.declined && !strings.HasPrefix(in.name, corpustest.Locate()) {
				t.Errorf("%s: written directly %v, want %v", in.name, ok, !in.declined)
			}
			frags, ferr := parts.fragments()
			if ferr != nil {
				if ok {
					t.Errorf("%s: written directly, but the copy refuses it: %v", in.name, ferr)
				}
				continue
			}
			want := mustCanonical(t, frags)
			if ok {
				direct++
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s: written directly\n%s\nwant\n%s", in.name, got.Bytes(), want)
				}
			}
			if tv, fv := parts.authorTimeValue(), frags.SelectElement(fragmentTag).SelectElement("time").SelectAttrValue("value", ""); tv != fv {
				t.Errorf("%s: author time %q, the fragments' %q", in.name, tv, fv)
			}
			for _, alg := range []DigestAlgorithm{DigestSHA256, DigestSHA1} {
				res, err := PrepareParameters(doc.Root(), alg, opts...)
				d, _ := FragmentsDigest(want, alg)
				si, _ := SignedInfo(d, alg)
				if err != nil || decodeB64(res.Digest) != string(si) {
					t.Errorf("%s, %s: PrepareParameters %+v %v, want SignedInfo %s", in.name, alg, res, err, si)
				}
			}
		}
	}
	t.Logf("%d of %d inputs and author times written directly", direct, 2*len(inputs))
	if direct < 4 {
		t.Fatalf("only %d inputs written directly", direct)
	}
}

// edited is s with old replaced by new once; old must be there.
func edited(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("no %q to replace", old)
	}
	return strings.Replace(s, old, new, 1)
}

// FuzzDirectFragments feeds arbitrary XML (CDATA kept) to writeCanonical:
// whatever it writes directly must be the canonical bytes of the
// fragments built (and their author time the fragments'), and it must not
// write what the copy refuses. Seeds are in
// testdata/fuzz/FuzzDirectFragments (FuzzSignatureFragments' and shapes
// TestDirectFragmentsAsBuilt covers).
func FuzzDirectFragments(f *testing.F) {
	f.Add(readFileBytes(f, fixturePath))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		doc := etree.NewDocument()
		doc.ReadSettings.PreserveCData = true
		if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
			return
		}
		for _, opts := range [][]FragmentsOption{nil, {WithAuthorTime(time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC))}} {
			parts, err := signatureParts(doc.Root(), opts)
			if err != nil {
				return
			}
			var got bytes.Buffer
			ok := parts.writeCanonical(&got)
			frags, err := parts.fragments()
			if err != nil {
				if ok {
					t.Fatalf("written directly, but the copy refuses it: %v", err)
				}
				return
			}
			if !ok {
				continue
			}
			want, err := CanonicalFragments(frags)
			if err != nil {
				t.Fatalf("written directly, but the fragments do not canonicalise: %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("written directly\n%s\nwant\n%s", got.Bytes(), want)
			}
			if tv, fv := parts.authorTimeValue(), frags.SelectElement(fragmentTag).SelectElement("time").SelectAttrValue("value", ""); tv != fv {
				t.Fatalf("author time %q, the fragments' %q", tv, fv)
			}
		}
	})
}
