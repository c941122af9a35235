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
	tests := []diffCase{
		{"same name and address", cancelResponseLike([]string{"ETTA", "MAE"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"}), nil},
		{"given names swapped", cancelResponseLike([]string{"MAE", "ETTA"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"}),
			[]string{"patientPerson/name/given@(position): a has 1, b has 2", "patientPerson/name/given@(position): a has 2, b has 1"}},
		{"address lines swapped", cancelResponseLike([]string{"ETTA", "MAE"}, []string{"Long Eaton", "123 Dale Avenue", "Nottingham"}),
			[]string{"Patient/addr/streetAddressLine@(position): a has 1, b has 2"}},
		{"a given name changed", cancelResponseLike([]string{"ETTA", "MAY"}, []string{"123 Dale Avenue", "Long Eaton", "Nottingham"}),
			[]string{"patientPerson/name/given: a has MAE, b has MAY"}},
	}
	runDiffCases(t, base, tests)
}
