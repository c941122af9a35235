package compare

import (
	"strings"
	"testing"
)

const req = `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="AAAAAAAA-1111-4111-8111-111111111111"/>
<effectiveTime value="20260301101500"/><lineItem><id root="BBBBBBBB-2222-4222-8222-222222222222"/></lineItem></PORX_IN020101UK31>`

// ack builds an MCCI answer with the given parts.
func ack(msgID, created, typeCode, detail, display string) string {
	return `<?xml version="1.0"?><hl7:MCCI_IN010000UK13 xmlns:hl7="urn:hl7-org:v3"><hl7:id root="` + msgID + `"/>
<hl7:creationTime value="` + created + `"/><hl7:communicationFunctionSnd><hl7:device><hl7:id extension="99999"/></hl7:device></hl7:communicationFunctionSnd>
<hl7:acknowledgement typeCode="` + typeCode + `"><hl7:messageRef><hl7:id root="AAAAAAAA-1111-4111-8111-111111111111"/></hl7:messageRef>
<hl7:acknowledgementDetail><hl7:code code="` + detail + `" displayName="` + display + `"/></hl7:acknowledgementDetail></hl7:acknowledgement>
<!-- a comment --><hl7:ControlActEvent><hl7:author1><hl7:AgentSystemSDS><hl7:id extension="SPINE"/></hl7:AgentSystemSDS></hl7:author1>
<hl7:effectiveTime value="20260301101500"/><hl7:item><hl7:id root="BBBBBBBB-2222-4222-8222-222222222222"/><hl7:quantity value="28"/></hl7:item></hl7:ControlActEvent></hl7:MCCI_IN010000UK13>`
}

func TestCompareNormalisation(t *testing.T) {
	base := ack("11111111-0000-4000-8000-000000000001", "20260301101502", "AE", "0004", "With another dispenser")
	tests := []diffCase{
		{"own message id, creation time and sender ignored", strings.NewReplacer(
			"11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002",
			"20260301101502", "20260301111111", `extension="99999"`, `extension="12345"`).Replace(base), nil},
		{"display text ignored, code compared", strings.Replace(base, "With another dispenser", "Prescription with another dispenser", 1), nil},
		{"originalText element's wording ignored", strings.Replace(base, `displayName="With another dispenser"/>`,
			`displayName="With another dispenser"><hl7:originalText>Prescription - with another dispenser </hl7:originalText></hl7:code>`, 1), nil},
		{"code compared beside an originalText element", strings.Replace(base, `code="0004" displayName="With another dispenser"/>`,
			`code="0005" displayName="With another dispenser"><hl7:originalText/></hl7:code>`, 1), []string{"acknowledgementDetail/code@code", "a has 0004, b has 0005"}},
		{"answering system (ControlActEvent author) ignored", strings.Replace(base, `extension="SPINE"`, `extension="PORXGATE"`, 1), nil},
		{"namespace prefix ignored", strings.NewReplacer("hl7:", "", `xmlns:hl7=`, `xmlns=`).Replace(base), nil},
		{"ack type compared", strings.Replace(base, `typeCode="AE"`, `typeCode="AA"`, 1), []string{"acknowledgement@typeCode", "a has AE, b has AA"}},
		{"detail code compared", strings.Replace(base, `code="0004"`, `code="0005"`, 1), []string{"acknowledgementDetail/code@code"}},
		{"request-derived line item id compared", strings.Replace(base, "BBBBBBBB-2222-4222-8222-222222222222", "CCCCCCCC-3333-4333-8333-333333333333", 1), []string{"item/id@root", "<generated>"}},
		{"request timestamp compared", strings.Replace(base, `<hl7:effectiveTime value="20260301101500"/>`, `<hl7:effectiveTime value="20260302101500"/>`, 1), []string{"effectiveTime@value"}},
		{"quantity compared", strings.Replace(base, `value="28"`, `value="56"`, 1), []string{"quantity@value", "28", "56"}},
		{"missing element", strings.Replace(base, `<hl7:quantity value="28"/>`, ``, 1), []string{"only a has 28"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs, err := Compare([]byte(base), []byte(tt.other), []byte(req), "a", "b")
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.differ) == 0 {
				if len(diffs) != 0 {
					t.Fatalf("want a match, got %v", diffs)
				}
				return
			}
			all := strings.Join(diffs, "\n")
			for _, want := range tt.differ {
				if !strings.Contains(all, want) {
					t.Errorf("differences %q lack %q", all, want)
				}
			}
		})
	}
}

func TestNormaliseMalformed(t *testing.T) {
	for _, in := range []string{"", "not xml", "<a>", "<?xml version=\"1.0\"?>", "<a><b></a>"} {
		if _, err := Normalise([]byte(in), []byte(req)); err == nil {
			t.Errorf("Normalise(%q): no error", in)
		}
	}
	if _, err := Normalise([]byte("<a/>"), []byte("garbage <")); err != nil {
		t.Errorf("an unreadable request must not stop normalisation: %v", err)
	}
	if _, err := Compare([]byte("<a/>"), []byte("<"), nil, "fhir", "legacy"); err == nil || !strings.Contains(err.Error(), "legacy answer") {
		t.Errorf("Compare names the unreadable side: %v", err)
	}
}

func TestRootTagAndHL7Of(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<?xml version="1.0"?><!-- c --><hl7:MCCI_IN010000UK13 xmlns:hl7="x"/>`, "MCCI_IN010000UK13"},
		{`<PORX_IN070103UK31>`, "PORX_IN070103UK31"},
		{`no xml`, ""},
		{`<`, ""},
	}
	for _, tt := range tests {
		if got := rootTag([]byte(tt.in)); got != tt.want {
			t.Errorf("rootTag(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := hl7Of("text/plain", "", []byte("oops")); err == nil {
		t.Error("hl7Of accepted a non-XML answer")
	}
	if _, err := hl7Of(`multipart/related; boundary="x"`, "", []byte("--x--")); err == nil {
		t.Error("hl7Of accepted a multipart answer without a payload")
	}
}

func FuzzNormalise(f *testing.F) {
	f.Add(ack("11111111-0000-4000-8000-000000000001", "20260301101502", "AA", "", ""), req)
	f.Add("<a b='20260301101502'>x</a>", "")
	f.Fuzz(func(t *testing.T, answer, request string) {
		facts, err := Normalise([]byte(answer), []byte(request))
		if err != nil {
			return
		}
		if d := Diff(facts, facts, "a", "b"); len(d) != 0 {
			t.Fatalf("an answer differs from itself: %v", d)
		}
	})
}

// releaseLike builds an answer with two line items, each a product code and
// a quantity, in the order given.
func releaseLike(items ...[2]string) string {
	var b strings.Builder
	b.WriteString(`<PORX_IN070101UK31 xmlns="urn:hl7-org:v3"><ControlActEvent><subject><ParentPrescription>`)
	for _, it := range items {
		b.WriteString(`<pertinentInformation2><pertinentLineItem><product><code code="` + it[0] +
			`" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/></product><quantity value="` + it[1] + `" unit="1"/></pertinentLineItem></pertinentInformation2>`)
	}
	b.WriteString(`</ParentPrescription></subject></ControlActEvent></PORX_IN070101UK31>`)
	return b.String()
}

// TestCompareKeepsWhatBelongsTogether: sibling order is not significant,
// but which values belong to which element is. Two line items whose
// quantities are swapped between products carry the same path=value
// facts; compared as a flat multiset they matched, though the patient
// would get 56 of what was prescribed as 28.
func TestCompareKeepsWhatBelongsTogether(t *testing.T) {
	base := releaseLike([2]string{"39720311000001101", "28"}, [2]string{"322237000", "56"})
	tests := []diffCase{
		{"same items in another order", releaseLike([2]string{"322237000", "56"}, [2]string{"39720311000001101", "28"}), nil},
		{"quantities swapped between products", releaseLike([2]string{"39720311000001101", "56"}, [2]string{"322237000", "28"}),
			[]string{"pertinentLineItem/quantity@value: a has 28, b has 56", "pertinentLineItem/quantity@value: a has 56, b has 28"}},
		{"one quantity changed", releaseLike([2]string{"322237000", "56"}, [2]string{"39720311000001101", "14"}),
			[]string{"pertinentLineItem/quantity@value: a has 28, b has 14"}},
		{"one item missing", releaseLike([2]string{"322237000", "56"}),
			[]string{"product/code@code: only a has 39720311000001101", "quantity@value: only a has 28"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs, err := Compare([]byte(base), []byte(tt.other), nil, "a", "b")
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.differ) == 0 {
				if len(diffs) != 0 {
					t.Fatalf("want a match, got %v", diffs)
				}
				return
			}
			all := strings.Join(diffs, "\n")
			if len(diffs) == 0 {
				t.Fatal("want differences, got a match")
			}
			for _, want := range tt.differ {
				if !strings.Contains(all, want) {
					t.Errorf("differences %q lack %q", all, want)
				}
			}
			if strings.Contains(all, "39720311000001101") && tt.name != "one item missing" {
				t.Errorf("differences %q report the product codes, which both answers have alike", all)
			}
		})
	}
}

// FuzzCompare: element by element, Compare finds at least every
// difference the flat facts show, and an answer matches itself.
func FuzzCompare(f *testing.F) {
	f.Add(releaseLike([2]string{"1", "28"}, [2]string{"2", "56"}), releaseLike([2]string{"1", "56"}, [2]string{"2", "28"}), req)
	f.Add(ack("11111111-0000-4000-8000-000000000001", "20260301101502", "AE", "0004", ""),
		ack("11111111-0000-4000-8000-000000000001", "20260301101502", "AA", "", ""), req)
	f.Fuzz(func(t *testing.T, a, b, request string) {
		fa, errA := Normalise([]byte(a), []byte(request))
		fb, errB := Normalise([]byte(b), []byte(request))
		diffs, err := Compare([]byte(a), []byte(b), []byte(request), "a", "b")
		if (errA != nil || errB != nil) != (err != nil) {
			t.Fatalf("Normalise errors %v, %v but Compare error %v", errA, errB, err)
		}
		if err != nil {
			return
		}
		if flat := Diff(fa, fb, "a", "b"); len(flat) > 0 && len(diffs) == 0 {
			t.Fatalf("the facts differ (%v) but Compare matched", flat)
		}
		if self, _ := Compare([]byte(a), []byte(a), []byte(request), "a", "b"); len(self) != 0 {
			t.Fatalf("an answer differs from itself: %v", self)
		}
	})
}

// releaseResponse is a release response releasing one prescription with
// one line item; the prescription's id, line item id and author time come
// from the prescription, not from the release request.
func releaseResponse(ownID, ownTime, rxID, itemID, authored string) string {
	return `<PORX_IN070101UK31 xmlns="urn:hl7-org:v3"><id root="` + ownID + `"/><creationTime value="` + ownTime + `"/>
<ControlActEvent><subject><PrescriptionReleaseResponse><id root="` + ownID + `"/><effectiveTime value="` + ownTime + `"/>
<component><ParentPrescription><id root="` + rxID + `"/><effectiveTime value="` + authored + `"/>
<pertinentInformation1><pertinentPrescription><author><time value="` + authored + `"/></author>
<pertinentInformation2><pertinentLineItem><id root="` + itemID + `"/><quantity value="28"/></pertinentLineItem></pertinentInformation2>
</pertinentPrescription></pertinentInformation1></ParentPrescription></component>
<inFulfillmentOf><priorDownloadRequestRef><id root="AAAAAAAA-1111-4111-8111-111111111111"/></priorDownloadRequestRef></inFulfillmentOf>
</PrescriptionReleaseResponse></subject></ControlActEvent></PORX_IN070101UK31>`
}

// TestCompareReleasedPrescriptionData: a released prescription's ids and
// times are the prescription's, held alike by both environments, but do
// not occur in the release request; they were taken for generated ones
// ("<generated>", "<timestamp>"), so that a release naming another line
// item, another prescription or another author time matched. Inside a
// released ParentPrescription they are now compared; the release
// response's own id and time are still not.
func TestCompareReleasedPrescriptionData(t *testing.T) {
	const (
		rx       = "C3D4E5F6-A7B8-4C9D-8E0F-1A2B3C4D5E61"
		item     = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C01"
		authored = "20240502152005"
	)
	base := releaseResponse("11111111-0000-4000-8000-000000000001", "20260301101502", rx, item, authored)
	tests := []diffCase{
		{"own id and time ignored", releaseResponse("22222222-0000-4000-8000-000000000002", "20260301111111", rx, item, authored), nil},
		{"line item id compared", releaseResponse("11111111-0000-4000-8000-000000000001", "20260301101502", rx, "B1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C01", authored),
			[]string{"pertinentLineItem/id@root: a has " + item}},
		{"prescription id compared", releaseResponse("11111111-0000-4000-8000-000000000001", "20260301101502", "D3D4E5F6-A7B8-4C9D-8E0F-1A2B3C4D5E61", item, authored),
			[]string{"ParentPrescription/id@root: a has " + rx}},
		{"author time compared", releaseResponse("11111111-0000-4000-8000-000000000001", "20260301101502", rx, item, "20240502160000"),
			[]string{"author/time@value: a has 20240502152005, b has 20240502160000"}},
		{"id case ignored", releaseResponse("11111111-0000-4000-8000-000000000001", "20260301101502", strings.ToLower(rx), item, authored), nil},
	}
	runDiffCases(t, base, tests)
}

// diffCase is an answer compared with a base answer.
type diffCase struct {
	name   string
	other  string
	differ []string // substrings the differences must contain; none: match
}

// runDiffCases compares base ("a") with each case's answer ("b"), both
// answering req.
func runDiffCases(t *testing.T, base string, cases []diffCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			diffs, err := Compare([]byte(base), []byte(tt.other), []byte(req), "a", "b")
			if err != nil {
				t.Fatal(err)
			}
			wantDiffs(t, diffs, tt.differ)
		})
	}
}

// wantDiffs checks diffs: a match when differ is empty, else differences
// containing each of differ.
func wantDiffs(t *testing.T, diffs, differ []string) {
	t.Helper()
	if len(differ) == 0 {
		if len(diffs) != 0 {
			t.Fatalf("want a match, got %v", diffs)
		}
		return
	}
	if len(diffs) == 0 {
		t.Fatal("want differences, got a match")
	}
	all := strings.Join(diffs, "\n")
	for _, want := range differ {
		if !strings.Contains(all, want) {
			t.Errorf("differences %q lack %q", all, want)
		}
	}
}
