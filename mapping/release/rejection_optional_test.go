package release_test

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// TestReleaseRejectionOptionalReason: a Prescription Release Rejection
// without its reason (pertinentInformation 0..1 in PORX_MT121201UK30), or
// whose reason has no code or no value (CV 0..1 each), is taken. Spine
// always writes all three (prescriptionReleaseRejection_PORX_MT121201UK30.xsl
// in nhsdigitalmait/SPINE_schema spine2_xslt), and the EPS API reads the
// value alone (spine-response-handler.ts ReleaseRejectionHandler:
// pertinentInformation?.pertinentRejectionReason?.value): without the code
// the outcome is the same; without a value it has no code to map and
// answers its server error, one issue "invalid" with no details. porxgate
// makes the same OperationOutcome, and the v3 comes back from it whole
// (the rejection carried). Before, each was refused as a missing
// mandatory element.
func TestReleaseRejectionOptionalReason(t *testing.T) {
	noReason := fhir.Issue{Severity: "error", Code: "invalid"}
	for _, file := range []string{"release-rejection-110101-expired.xml", "release-rejection-110101-with-another-dispenser.xml"} {
		base := string(maptest.Testdata(t, "release/"+file))
		baseOO := rejectionOutcome(t, []byte(base))
		tests := []struct {
			name, cut string
			// want is the outcome's issue, nil for the base's.
			want *fhir.Issue
		}{
			{"no reason code", `\s*<code code="PRRR"[^>]*/>`, nil},
			{"no reason value", `\s*<value code="[^"]*"[^>]*/>`, &noReason},
			{"no reason", `(?s)\s*<pertinentInformation\b.*</pertinentInformation>`, &noReason},
		}
		for _, tc := range tests {
			t.Run(strings.TrimSuffix(file, ".xml")+" "+tc.name, func(t *testing.T) {
				msg := regexp.MustCompile(tc.cut).ReplaceAllString(base, "")
				if msg == base {
					t.Fatal("the case changes nothing")
				}
				oo := rejectionOutcome(t, []byte(msg))
				want := baseOO.Issue[0]
				if tc.want != nil {
					want = *tc.want
				}
				got := oo.Issue[0]
				got.Diagnostics, want.Diagnostics = "", "" // the reason's text goes with it
				if len(oo.Issue) != 1 || !reflect.DeepEqual(got, want) {
					t.Errorf("issues %+v, want one %+v", oo.Issue, want)
				}
				relRoundTrip(t, []byte(msg))
			})
		}
	}
}

// hasMixedContent reports whether an element of the XML document data
// holds text other than white space beside a child element.
func hasMixedContent(data []byte) bool {
	doc := etree.NewDocument()
	if doc.ReadFromBytes(data) != nil || doc.Root() == nil {
		return false
	}
	mixed := false
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		text, kids := false, false
		for _, t := range e.Child {
			switch c := t.(type) {
			case *etree.CharData:
				text = text || !c.IsWhitespace()
			case *etree.Element:
				kids = true
				walk(c)
			}
		}
		mixed = mixed || text && kids
	}
	walk(doc.Root())
	return mixed
}

// rejectionOutcome maps a release rejection to its OperationOutcome.
func rejectionOutcome(t *testing.T, msg []byte) *fhir.OperationOutcome {
	t.Helper()
	body, _, err := release.ReleaseRejectionToFHIR(msg, relEnv())
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	return decodeOutcomeT(t, body)
}

// FuzzReleaseRejectionV3ToFHIR: no release rejection, however malformed,
// makes the reader panic, and one it reads comes back from its
// OperationOutcome as it was (seeds in testdata/fuzz: the rejection
// without its reason, its code or its value), unless it has text beside
// child elements: the schemas allow no mixed content, and porxgate's
// readers and core.SameElement do not look at such text (a gap of every
// reader, seed mixed-content-text).
func FuzzReleaseRejectionV3ToFHIR(f *testing.F) {
	f.Add(maptest.Testdata(f, "release/"+"release-rejection-110101-with-another-dispenser.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env := relEnv()
		body, meta, err := release.ReleaseRejectionToFHIR(data, env)
		if err != nil {
			return
		}
		back, err := release.ReleaseRejectionToV3(body, meta, env)
		if err != nil {
			t.Fatalf("FHIR read from v3 does not write back: %v\n%s", err, body)
		}
		if hasMixedContent(data) {
			return
		}
		if d, err := conformance.Compare(data, back, conformance.Rules{FHIRRequest: data}); err != nil || d != nil {
			t.Fatalf("v3 → FHIR → v3 differs: %v %v", d, err)
		}
	})
}
