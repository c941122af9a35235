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

// cancelResponseRefs builds a cancel response whose CancellationResponse
// holds its references in the order given (each a pertinentInformation
// element by its number).
func cancelResponseRefs(order ...string) string {
	refs := map[string]string{
		"1": `<pertinentInformation1><pertinentLineItemRef><id root="BBBBBBBB-2222-4222-8222-222222222222"/></pertinentLineItemRef></pertinentInformation1>`,
		"2": `<pertinentInformation2><pertinentPrescriptionID><value extension="83C40E-A23856-00123C"/></pertinentPrescriptionID></pertinentInformation2>`,
		"3": `<pertinentInformation3><pertinentResponse><value code="0001"/></pertinentResponse></pertinentInformation3>`,
	}
	var b strings.Builder
	b.WriteString(`<PORX_IN050101UK31 xmlns="urn:hl7-org:v3"><ControlActEvent><subject><CancellationResponse>`)
	for _, o := range order {
		b.WriteString(refs[o])
	}
	b.WriteString(`</CancellationResponse></subject></ControlActEvent></PORX_IN050101UK31>`)
	return b.String()
}

// TestCompareElementOrder: in HL7 v3's XML the elements of a class come
// in the order its schema lays down (the transmission wrapper's, a Cancel
// Response's pertinentInformation2 before pertinentInformation1, as
// Spine writes it); a receiver that validates its messages refuses
// another order. Compared as unordered siblings, an answer with its
// elements out of that order matched Spine's. The order of elements of
// different names is now compared (among those both answers have);
// repeated elements of one name stay unordered, as do the parts of a
// name or an address of different kinds.
func TestCompareElementOrder(t *testing.T) {
	base := cancelResponseRefs("2", "1", "3")
	runDiffCases(t, base, []diffCase{
		{"same order", cancelResponseRefs("2", "1", "3"), nil},
		{"two elements swapped", cancelResponseRefs("1", "2", "3"),
			[]string{"/PORX_IN050101UK31/ControlActEvent/subject/CancellationResponse: order of the children: a has pertinentInformation2 before pertinentInformation1 before pertinentInformation3, b has pertinentInformation1 before pertinentInformation2 before pertinentInformation3"}},
		{"one missing, the rest in order", cancelResponseRefs("2", "3"), []string{"only a has"}},
	})
	ack := `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AA"/><communicationFunctionRcv><device><id extension="200000001285"/></device></communicationFunctionRcv></MCCI_IN010000UK13>`
	runDiffCases(t, ack, []diffCase{
		{"wrapper out of order", `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><communicationFunctionRcv><device><id extension="200000001285"/></device></communicationFunctionRcv><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`,
			[]string{"/MCCI_IN010000UK13: order of the children: a has acknowledgement before communicationFunctionRcv, b has communicationFunctionRcv before acknowledgement"}},
	})
	name := cancelResponseLike([]string{"ETTA"}, []string{"123 Dale Avenue"})
	runDiffCases(t, name, []diffCase{
		{"name and address parts of different kinds in another order", strings.NewReplacer(
			`<prefix>MISS</prefix><given>ETTA</given>`, `<given>ETTA</given><prefix>MISS</prefix>`,
			`<streetAddressLine>123 Dale Avenue</streetAddressLine><postalCode>NG10 1NP</postalCode>`, `<postalCode>NG10 1NP</postalCode><streetAddressLine>123 Dale Avenue</streetAddressLine>`).Replace(name), nil},
	})
}
