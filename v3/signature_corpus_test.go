package v3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// readXMLFile parses an XML file into a document.
func readXMLFile(t testing.TB, path string) *etree.Document {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromFile(path); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return doc
}

func readFileBytes(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusFragments returns the corpus's FragmentsToBeHashed (as EPS printed
// it, indented) and its canonical text without the file's final line feed.
func corpusFragments(t *testing.T) (*etree.Element, []byte) {
	t.Helper()
	dir := filepath.Join(corpustest.Dir(t), "signature-fragments")
	doc := readXMLFile(t, filepath.Join(dir, "PrepareIntermediate-Hl7V3SignatureFragments.xml"))
	want := readFileBytes(t, filepath.Join(dir, "PrepareIntermediate-Hl7V3SignatureFragmentsCanonicalized.txt"))
	return doc.Root(), bytes.TrimSuffix(want, []byte("\n"))
}

func assertSameBytes(t *testing.T, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		at := firstDifference(got, want)
		t.Fatalf("canonical bytes differ at byte %d (len %d, want %d):\n got …%s…\nwant …%s…", at, len(got), len(want), around(got, at), around(want, at))
	}
}

// TestCanonicalFragmentsCorpus canonicalises the corpus's FragmentsToBeHashed
// (EPS printed it indented for reading; the indentation is not part of what
// EPS hashes, so it is removed first) and compares with the corpus's
// canonical text byte for byte.
func TestCanonicalFragmentsCorpus(t *testing.T) {
	frags, want := corpusFragments(t)
	doc := etree.NewDocument()
	doc.SetRoot(frags.Copy())
	doc.Unindent()
	got, err := CanonicalFragments(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	assertSameBytes(t, got, want)
}

// wrapFragments builds a ParentPrescription around the corpus fragments, as
// a prescribing system would send it: recordTarget, two ids, author with
// time, signatureText and AgentPerson, and line items carrying the
// repeatNumber/low and item status that the fragments leave out, among
// other elements the signature does not cover.
func wrapFragments(t *testing.T, frags *etree.Element) *etree.Element {
	t.Helper()
	fs := frags.SelectElements(fragmentTag)
	if len(fs) < 4 {
		t.Fatalf("corpus fragments: %d fragments, want at least 4", len(fs))
	}
	first := func(f *etree.Element, tag string) *etree.Element {
		t.Helper()
		el := f.SelectElement(tag)
		if el == nil {
			t.Fatalf("corpus fragments: no %s", tag)
		}
		return el.Copy()
	}
	pp := etree.NewElement("ParentPrescription")
	pp.CreateAttr("xmlns", Namespace)
	pp.CreateAttr("moodCode", "EVN")
	pp.CreateAttr("classCode", "INFO")
	AddII(pp, "id", "11111111-2222-4333-8444-555555555555", "")
	Add(pp, "effectiveTime", "value", "20201218000000")
	pp.AddChild(first(fs[2], "recordTarget"))
	presc := Add(Add(pp, "pertinentInformation1", "typeCode", "PERT"), "pertinentPrescription", "classCode", "SBADM", "moodCode", "RQO")
	presc.AddChild(first(fs[0], "id"))
	AddII(presc, "id", OIDShortFormID, "A0548B-A99968-451485")
	Add(presc, "effectiveTime", "nullFlavor", "NA")
	author := Add(presc, "author", "typeCode", "AUT")
	author.AddChild(first(fs[0], "time"))
	Add(author, "signatureText", "nullFlavor", "NA")
	author.AddChild(first(fs[1], "AgentPerson"))
	for _, f := range fs[3:] {
		pi2 := Add(presc, "pertinentInformation2", "typeCode", "PERT")
		Add(pi2, "seperatableInd", "value", "true")
		li := first(f, "pertinentLineItem")
		if rn := li.SelectElement("repeatNumber"); rn != nil {
			low := etree.NewElement("low")
			low.CreateAttr("value", "1")
			rn.InsertChildAt(0, low)
		}
		status := etree.NewElement("pertinentInformation4")
		status.CreateAttr("typeCode", "PERT")
		AddCV(Add(status, "pertinentItemStatus"), "value", "0007", OIDItemStatus, "")
		li.InsertChildAt(len(li.Child)-2, status)
		pi2.AddChild(li)
	}
	Add(Add(presc, "pertinentInformation8", "typeCode", "PERT"), "pertinentTokenIssued")
	return pp
}

// TestSignatureFragmentsCorpus derives the fragments from a ParentPrescription
// built around the corpus fragments and checks both the layout and the
// canonical bytes against the corpus.
func TestSignatureFragmentsCorpus(t *testing.T) {
	frags, want := corpusFragments(t)
	pp := wrapFragments(t, frags)
	doc := etree.NewDocument()
	doc.SetRoot(pp)
	doc.Indent(2)
	got, err := SignatureFragments(doc.Root())
	if err != nil {
		t.Fatal(err)
	}
	canon, err := CanonicalFragments(got)
	if err != nil {
		t.Fatal(err)
	}
	assertSameBytes(t, canon, want)

	// Element layout: same element names in the same order as the corpus file.
	var names func(*etree.Element) []string
	names = func(e *etree.Element) []string {
		out := []string{e.Tag}
		for _, c := range e.ChildElements() {
			out = append(out, names(c)...)
		}
		return out
	}
	if g, w := strings.Join(names(got), ","), strings.Join(names(frags), ","); g != w {
		t.Errorf("element layout differs:\n got %s\nwant %s", g, w)
	}
	// Indented serialisation matches the corpus file's up to attribute quoting.
	out := etree.NewDocument()
	out.SetRoot(got)
	out.Indent(2)
	gs, _ := out.WriteToString()
	ws := string(readFileBytes(t, filepath.Join(corpustest.Dir(t), "signature-fragments", "PrepareIntermediate-Hl7V3SignatureFragments.xml")))
	if strings.TrimSpace(gs) != strings.TrimSpace(ws) {
		at := firstDifference([]byte(gs), []byte(ws))
		t.Errorf("indented fragments differ from the corpus file at byte %d:\n got …%s…\nwant …%s…", at, around([]byte(gs), at), around([]byte(ws), at))
	}
}

// prepareResponse reads the digest, timestamp and algorithm parameters of a
// $prepare response.
func prepareResponse(t testing.TB, path string) (digest, timestamp, algorithm string) {
	t.Helper()
	var p struct {
		Parameter []struct {
			Name        string `json:"name"`
			ValueString string `json:"valueString"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(readFileBytes(t, path), &p); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, q := range p.Parameter {
		switch q.Name {
		case "digest":
			digest = q.ValueString
		case "timestamp":
			timestamp = q.ValueString
		case "algorithm":
			algorithm = q.ValueString
		}
	}
	return digest, timestamp, algorithm
}

func decodeB64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "(not base64: " + err.Error() + ")"
	}
	return string(b)
}

// TestPrepareDigestCorpus reproduces every corpus $prepare response that has
// a paired v3 (N-Convert-Response-Send, the ParentPrescription EPS made from
// the same scenario's send bundle), with the response's timestamp as the
// author time. The Prepare-Request bundles themselves need the FHIR
// prescribing mapper (mapping/), which owns that round trip.
func TestPrepareDigestCorpus(t *testing.T) {
	reqs := corpustest.Walk(t, func(rel string) bool {
		return strings.HasSuffix(rel, "Prepare-Request-200_OK.json") || strings.HasSuffix(rel, "Prepare-Request-Multiple-Dosages-200_OK.json")
	})
	matched, paired := 0, 0
	for _, req := range reqs {
		dir, base := filepath.Split(req)
		n, _, _ := strings.Cut(base, "-Prepare-Request")
		conv := filepath.Join(dir, n+"-Convert-Response-Send-200_OK.xml")
		if _, err := os.Stat(conv); err != nil || strings.HasPrefix(base, "Prepare-") {
			t.Logf("unpaired (no N-Convert-Response-Send): %s", strings.TrimPrefix(req, corpustest.Locate()))
			continue
		}
		paired++
		resp := filepath.Join(dir, n+"-Prepare-Response-200_OK.json")
		t.Run(strings.TrimPrefix(filepath.Join(dir, n), corpustest.Locate()), func(t *testing.T) {
			want, ts, algName := prepareResponse(t, resp)
			at, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				t.Fatalf("timestamp %q: %v", ts, err)
			}
			alg := DigestSHA256
			if algName == "RS1" {
				alg = DigestSHA1
			}
			_, root, err := Parse(readFileBytes(t, conv))
			if err != nil {
				t.Fatal(err)
			}
			res, err := PrepareParameters(root, alg, WithAuthorTime(at))
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != want {
				t.Fatalf("digest mismatch:\n got %s\nwant %s", decodeB64(res.Digest), decodeB64(want))
			}
			if d, err := PrepareDigest(root, alg, WithAuthorTime(at)); err != nil || d != want {
				t.Errorf("PrepareDigest = %q, %v; want PrepareParameters' digest", d, err)
			}
			if res.Timestamp != ts {
				t.Errorf("timestamp %q, want %q", res.Timestamp, ts)
			}
			if res.Algorithm != algName {
				t.Errorf("algorithm %q, want %q", res.Algorithm, algName)
			}
			matched++
		})
	}
	t.Logf("$prepare digests: %d of %d paired corpus responses reproduced (%d Prepare-Requests in the corpus)", matched, paired, len(reqs))
	if paired == 0 {
		t.Fatal("no Prepare-Request has a paired Convert-Response-Send")
	}
}

// TestVerifySignatureConvertResponsesCorpus runs VerifySignature over the v3
// EPS made from every send bundle. Their signatures are test props, not
// signatures of these prescriptions: some are placeholders (empty
// SignatureValue and X509Certificate), the others were copied from other
// test data (one DigestValue recurs across different prescriptions). So
// each must fail cleanly with ErrSignatureFormat (naming the path) or
// ErrSignatureDigest, never pass and never fail some other way.
func TestVerifySignatureConvertResponsesCorpus(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool {
		return strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml")
	})
	var placeholder, copied, unsigned int
	for _, f := range files {
		_, root, err := Parse(readFileBytes(t, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		err = VerifySignature(root)
		var e *Error
		switch {
		case errors.Is(err, ErrSignatureFormat) && errors.As(err, &e) && strings.HasSuffix(e.Path, "/author/signatureText"):
			unsigned++
		case errors.Is(err, ErrSignatureFormat) && errors.As(err, &e) && strings.Contains(e.Path, "/signatureText/"):
			placeholder++
		case errors.Is(err, ErrSignatureDigest):
			copied++
		default:
			t.Errorf("%s: VerifySignature = %v, want a format error with a path or a digest mismatch", f, err)
		}
	}
	t.Logf("%d Convert-Response-Send files: %d placeholder signatures, %d signatures of other prescriptions, %d unsigned", len(files), placeholder, copied, unsigned)
}
