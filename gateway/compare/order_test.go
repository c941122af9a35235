package compare

import (
	"strings"
	"testing"
)

// cancelResponseLike builds a cancel response whose patient has the name
// parts and address lines given, in document order.
func cancelResponseLike(given []string, lines []string) string {
	var b strings.Builder
	b.WriteString(`<PORX_IN050101UK31 xmlns="urn:hl7-org:v3"><ControlActEvent><subject><CancellationResponse>` +
		`<recordTarget><Patient><id root="2.16.840.1.113883.2.1.4.1" extension="9449305552"/><addr use="H">`)
	for _, l := range lines {
		b.WriteString(`<streetAddressLine>` + l + `</streetAddressLine>`)
	}
	b.WriteString(`<postalCode>NG10 1NP</postalCode></addr><patientPerson><name use="L"><prefix>MISS</prefix>`)
	for _, g := range given {
		b.WriteString(`<given>` + g + `</given>`)
	}
	b.WriteString(`<family>CORY</family></name></patientPerson></Patient></recordTarget>` +
		`</CancellationResponse></subject></ControlActEvent></PORX_IN050101UK31>`)
	return b.String()
}

// TestCompareNamePartOrder: an HL7 v3 name (PN) and address (AD) are each
// a sequence of parts: the first given name is the one a person is
// called by, the first address line is the first line on the envelope.
// Compared as unordered siblings, answers that swapped a patient's given
// names or address lines matched.
func TestCompareNamePartOrder(t *testing.T) {
	base := cancelResponseLike([]string{"ETTA", "MAE"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"})
	tests := []struct {
		name   string
		other  string
		differ []string // substrings the differences must contain; none: match
	}{
		{"same name and address", cancelResponseLike([]string{"ETTA", "MAE"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"}), nil},
		{"given names swapped", cancelResponseLike([]string{"MAE", "ETTA"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"}),
			[]string{"patientPerson/name/given@(position): a has 1, b has 2", "patientPerson/name/given@(position): a has 2, b has 1"}},
		{"address lines swapped", cancelResponseLike([]string{"ETTA", "MAE"}, []string{"Long Eaton", "123 Dale Avenue", "Nottingham"}),
			[]string{"Patient/addr/streetAddressLine@(position): a has 1, b has 2"}},
		{"a given name changed", cancelResponseLike([]string{"ETTA", "MAY"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"}),
			[]string{"patientPerson/name/given: a has MAE, b has MAY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diffs, err := Compare([]byte(base), []byte(tt.other), []byte(req), "a", "b")
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(diffs, "\n")
			if len(tt.differ) == 0 {
				if len(diffs) != 0 {
					t.Fatalf("want a match, got %v", diffs)
				}
				return
			}
			if len(diffs) == 0 {
				t.Fatal("want differences, got a match")
			}
			for _, want := range tt.differ {
				if !strings.Contains(all, want) {
					t.Errorf("differences %q lack %q", all, want)
				}
			}
		})
	}
}
