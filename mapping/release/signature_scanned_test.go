package release_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/porxgate/porxgate/mapping/release"
)

// signatureTwists are put at the end of a released prescription's
// signatureText: the first two leave its signature to be trusted as the
// message's scanner read it, the others to be read again in full (a
// comment, a CDATA section or processing instruction, "</signatureText>"
// inside one, a nested signatureText), or read either way (references, a
// prefixed element, its prefix declared on it or not at all).
var signatureTwists = []string{
	``,
	`<x xmlns="urn:x">&amp;&#65;&lt;</x>`,
	`<p:x xmlns:p="urn:p"/>`,
	`<q:x/>`,
	`<!-- c -->`,
	`<!-- </signatureText> -->`,
	`<x xmlns="urn:x"><![CDATA[</signatureText>]]></x>`,
	`<x xmlns="urn:x"><![CDATA[a]]></x>`,
	`<?pi x?>`,
	`<?pi </signatureText>?>`,
	`<signatureText/>`,
}

// TestReleaseSignatureTwists checks that a release response reads into the
// same FHIR, or the same refusal, whether its signatures are checked as
// its Space's scanner read them or read again in full (without a Scratch):
// each twist in turn in each prescription.
func TestReleaseSignatureTwists(t *testing.T) {
	n := len(signatureTwists)
	src := scaledReleaseResponse(t, n)
	const end = "</signatureText>"
	if c := bytes.Count(src, []byte(end)); c != n {
		t.Fatalf("%d signatures, want %d", c, n)
	}
	shared := relEnv().Scratch // one Scratch for every message, as served
	for k := 0; k < n; k++ {
		// Prescription i gets twist (i+k) mod n.
		var msg []byte
		rest := src
		for i := 0; i < n; i++ {
			at := bytes.Index(rest, []byte(end))
			msg = append(append(msg, rest[:at]...), signatureTwists[(i+k)%n]...)
			msg = append(msg, end...)
			rest = rest[at+len(end):]
		}
		msg = append(msg, rest...)
		t.Run(fmt.Sprintf("rotation %d", k), func(t *testing.T) {
			full := relEnv()
			full.Scratch = nil
			want, _, wantErr := release.ReleaseResponseToFHIR(msg, full)
			scanned := relEnv()
			scanned.Scratch = shared
			got, _, err := release.ReleaseResponseToFHIR(msg, scanned)
			t.Logf("%d bytes, error %.120v", len(want), wantErr)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("error %v, want %v", err, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("FHIR differs from the full check's (%d and %d bytes)", len(got), len(want))
			}
		})
	}
}
