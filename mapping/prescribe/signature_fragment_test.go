package prescribe

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCheckSignatureFragment: what a Provenance signature may hold to be
// put in signatureText, malformed input above all, and that the fast check
// answers as the check on the tree does wherever the fast scanner reads
// the fragment.
func TestCheckSignatureFragment(t *testing.T) {
	sig := `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>AbC=</SignatureValue></Signature>`
	tests := []struct {
		name, in, want, err string
	}{
		{"signature", sig, sig, ""},
		{"byte order mark and declaration dropped", "\xef\xbb\xbf<?xml version=\"1.0\"?>\n" + sig, "\n" + sig, ""},
		{"white space kept", "\n  " + sig + "\n", "\n  " + sig + "\n", ""},
		{"two elements", "<a/><b/>", "<a/><b/>", ""},
		{"comment beside an element", "<!-- c --><a/>", "<!-- c --><a/>", ""},
		{"CDATA, read on the tree", "<a><![CDATA[x]]></a>", "<a><![CDATA[x]]></a>", ""},
		{"prefixed element", `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`, `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`, ""},
		{"unterminated declaration", `<?xml version="1.0"` + sig, "", "unterminated XML declaration"},
		{"text only", "signed on paper", "", "no XML element"},
		{"empty", "", "", "no XML element"},
		{"comment only", "<!-- nothing -->", "", "no XML element"},
		{"unclosed element", "<Signature>", "", "*"},
		{"stray end tag", "</Signature>", "", "*"},
		{"mismatched end tag", "<a></b>", "", "*"},
		{"bad attribute", `<a b=c/>`, "", "*"},
		{"undefined entity", "<a>&nbsp;</a>", "", "*"},
		{"directive", "<!DOCTYPE a><a/>", "", "*"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkSignatureFragment([]byte(tc.in))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err == "" && string(got) != tc.want:
				t.Errorf("got %q, want %q", got, tc.want)
			case tc.err == "*" && err == nil:
				t.Errorf("accepted %q", got)
			case tc.err != "" && tc.err != "*" && (err == nil || err.Error() != tc.err):
				t.Errorf("error %v, want %q", err, tc.err)
			}
			checkFastAsTree(t, []byte(tc.in))
		})
	}
}

// checkFastAsTree checks that checkSignatureFragment accepts and refuses
// data as the check on the tree alone does.
func checkFastAsTree(t *testing.T, data []byte) {
	t.Helper()
	got, err := checkSignatureFragment(data)
	data, berr := fragmentBody(data)
	if berr != nil {
		return // refused before either check
	}
	buf := append(append([]byte("<w>"), data...), "</w>"...)
	terr := checkFragmentTree(buf)
	if (err == nil) != (terr == nil) {
		t.Fatalf("fast check: %v, on the tree: %v", err, terr)
	}
	if err == nil && !bytes.Equal(got, data) {
		t.Fatalf("fast check gave %q, want %q", got, data)
	}
}

// FuzzCheckSignatureFragment checks, for any data, that the fast check
// and the check on the tree agree (seeds in
// testdata/fuzz/FuzzCheckSignatureFragment).
func FuzzCheckSignatureFragment(f *testing.F) {
	f.Add([]byte(`<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastAsTree(t, data)
		// checkReadSignature of the same bytes wrapped where they stand.
		_, want := checkSignatureFragment(data)
		raw := append(append([]byte("<signatureText>"), data...), "</signatureText>"...)
		got := checkReadSignature(raw, raw[len("<signatureText>"):len(raw)-len("</signatureText>")])
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("checked where it stands: %v, as a copy: %v", got, want)
		}
	})
}

// TestSignatureCheckedAsRead checks what ReadParentPrescriptionWritten
// relies on when it checks the signature bytes it read instead of
// decoding the base64 it made of them: decodeSignature of
// signatureData's base64 answers as checkSignatureFragment of its bytes,
// for the signatures of the signed messages and for malformed ones.
func TestSignatureCheckedAsRead(t *testing.T) {
	var sigs [][]byte
	for _, m := range scratchMessages(t) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(m); err != nil {
			t.Fatal(err)
		}
		pp := doc.FindElement("//ParentPrescription")
		if pp == nil || !IsSigned(pp) {
			continue
		}
		_, node := v3.NewReader("PORX_IN020101UK31", pp)
		st := node.Opt("pertinentInformation1").Opt("pertinentPrescription").Opt("author").Opt("signatureText")
		for _, raw := range [][]byte{m, nil} { // the message's bytes, and the element serialised
			b64, rs := signatureData(raw, st, nil)
			b := rs.bytes
			if b64 != base64String(b, nil) {
				t.Fatalf("signatureData's base64 is not of its bytes")
			}
			sigs = append(sigs, b)
		}
	}
	if len(sigs) == 0 {
		t.Fatal("no signed message")
	}
	sigs = append(sigs, []byte("not a signature"), []byte("<a>"), []byte("\xef\xbb\xbf<?xml version=\"1.0\"?><a/>"),
		[]byte("<?xml version=\"1.0\""), []byte("<!DOCTYPE a><a/>"), []byte(" <a/> "), []byte("<a></b>"), []byte("&amp;"))
	for _, b := range sigs {
		got, gotErr := checkSignatureFragment(b)
		want, wantErr := decodeSignature(base64String(b, nil))
		if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%.40q: checked as read %q, %v; decoded %q, %v", b, got, gotErr, want, wantErr)
		}
	}
}

// TestCheckReadSignature holds checkReadSignature to checkSignatureFragment
// for fragments that raw wraps in a signatureText element without
// attributes (checked where they stand), and for those it does not (checked
// as a copy): among them fragments whose wrapped document has another
// shape than <w>…</w>, such as an end tag of the wrapper within them, or a
// comment or CDATA section that holds one, as a release response's span
// cut at the first "</signatureText>" gives them.
func TestCheckReadSignature(t *testing.T) {
	sig := `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/><SignatureValue>AbC=</SignatureValue></Signature>`
	frags := []string{
		sig, "\n  " + sig + "\n", "<a/><b/>", "<!-- c --><a/>", "<a><![CDATA[x]]></a>", "<a>&amp;&#x41;</a>",
		`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`,
		"\xef\xbb\xbf" + sig, "<?xml version=\"1.0\"?>" + sig, " <?xml version=\"1.0\"?><a/>", `<?xml version="1.0"` + sig,
		"<?p x?><a/>", "text only", "<!-- nothing -->", "<Signature>", "</Signature>", "<a></b>", `<a b=c/>`,
		"<a>&nbsp;</a>", "<!DOCTYPE a><a/>", "<a/></signatureText><signatureText>", "x</signatureText><signatureText><a/>",
		"<a/></signatureText><!-- ", "<a/></signatureText ><?p ", "<a/></w><w>", "<signatureText><a/>",
		"<a><!-- ", "<a><![CDATA[ ", "<a/><!-- <a> -->", "<a/><signatureText/>", "<a", "<a/>]]>",
	}
	for _, f := range frags {
		_, wantErr := checkSignatureFragment([]byte(f))
		for _, wrap := range []struct{ open, end string }{
			{"<signatureText>", "</signatureText>"},            // checked where it stands
			{`<signatureText a="1">`, "</signatureText>"},      // a copy
			{"<hl7:signatureText>", "</hl7:signatureText>"},    // a copy
			{"<r><signatureText>", "</signatureText><x/></r>"}, // where it stands, inside a message
		} {
			raw := []byte(wrap.open + f + wrap.end)
			got := checkReadSignature(raw, raw[len(wrap.open):len(wrap.open)+len(f)])
			if (got == nil) != (wantErr == nil) || got != nil && got.Error() != wantErr.Error() {
				t.Errorf("%q in %s: %v, want %v", f, wrap.open, got, wantErr)
			}
		}
		// Bytes equal to the wrapped ones but not them: a copy is checked.
		raw := []byte("<signatureText>" + f + "</signatureText>")
		if got := checkReadSignature(raw, []byte(f)); (got == nil) != (wantErr == nil) {
			t.Errorf("%q apart from raw: %v, want %v", f, got, wantErr)
		}
	}
}

// TestWrappedSignature checks which bytes count as sig wrapped in raw.
func TestWrappedSignature(t *testing.T) {
	raw := []byte(`<r><signatureText><a/></signatureText><signatureText a="1"><b/></signatureText></r>`)
	at := func(s string) []byte {
		i := bytes.Index(raw, []byte(s))
		return raw[i : i+len(s)]
	}
	tests := []struct {
		name string
		sig  []byte
		want string
	}{
		{"wrapped", at("<a/>"), "<signatureText><a/></signatureText>"},
		{"start tag with an attribute", at("<b/>"), ""},
		{"not all of the content", at("<a/>")[:2], ""},
		{"a copy", []byte("<a/>"), ""},
		{"empty", at("<a/>")[:0], ""},
		{"all of raw", raw, ""},
		{"raw's start", raw[:3], ""},
		{"raw's end", raw[len(raw)-4:], ""},
	}
	for _, tt := range tests {
		if got := wrappedSignature(raw, tt.sig); string(got) != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCheckReadSignatureInPlace checks that a wrapped signature is checked
// where it stands: without the copy that checkSignatureFragment makes (the
// one allocation left is CheckXML's copy of the root's name).
func TestCheckReadSignatureInPlace(t *testing.T) {
	raw := []byte(`<r><signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></signatureText></r>`)
	sig := raw[len("<r><signatureText>") : len(raw)-len("</signatureText></r>")]
	inPlace := testing.AllocsPerRun(10, func() {
		if err := checkReadSignature(raw, sig); err != nil {
			t.Fatal(err)
		}
	})
	copied := testing.AllocsPerRun(10, func() {
		if _, err := checkSignatureFragment(sig); err != nil {
			t.Fatal(err)
		}
	})
	if inPlace > 1 || inPlace >= copied {
		t.Errorf("%v allocations where it stands, %v as a copy: want at most 1, and fewer", inPlace, copied)
	}
}
