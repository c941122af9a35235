package core

import (
	"reflect"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestReadAddressParts: an AD's first postalCode is the postcode (even an
// empty one, after which the next is the postcode), every other part that
// holds text a line in the order sent, a delimiter, addressKey, desc, id
// or useablePeriod no line; an AD without parts is its text; no lines is
// no Line at all. ReadAddresses and ReadTelecoms read every addr and
// telecom but a null-flavoured one beside a known one, and none is nil.
func TestReadAddressParts(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		want      []fhir.Address
		telecoms  []fhir.ContactPoint
	}{
		{"lines and postcode", `<addr use="WP"><streetAddressLine>1 HIGH ST</streetAddressLine><!--c--><city>LEEDS</city><postalCode>LS1 1AA</postalCode><postalCode>LS1 1AB</postalCode></addr>`,
			[]fhir.Address{{Use: "work", Line: []string{"1 HIGH ST", "LEEDS", "LS1 1AB"}, PostalCode: "LS1 1AA"}}, nil},
		{"an empty first postcode", `<addr><postalCode/><postalCode>LS1 1AB</postalCode><city>LEEDS</city></addr>`,
			[]fhir.Address{{Line: []string{"LEEDS"}, PostalCode: "LS1 1AB"}}, nil},
		{"parts that are no lines", `<addr><delimiter>,</delimiter><addressKey>1</addressKey><desc>d</desc><id root="1"/><useablePeriod/><postalCode>LS1 1AA</postalCode></addr>`,
			[]fhir.Address{{PostalCode: "LS1 1AA"}}, nil},
		{"text", `<addr use="H"> 1 HIGH ST, LEEDS <!--c--></addr>`, []fhir.Address{{Use: "home", Text: "1 HIGH ST, LEEDS"}}, nil},
		{"null-flavoured beside a known one", `<addr nullFlavor="NI"/><telecom nullFlavor="NI"/><addr><city>LEEDS</city></addr><telecom value="tel:01"/><telecom use="H" value="tel:02"/>`,
			[]fhir.Address{{Line: []string{"LEEDS"}}}, []fhir.ContactPoint{{System: "phone", Value: "01"}, {System: "phone", Value: "02", Use: "home"}}},
		{"none", `<id root="1"/>`, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, root, err := v3.Parse([]byte(`<r xmlns="urn:hl7-org:v3">` + tc.xml + `</r>`))
			if err != nil {
				t.Fatal(err)
			}
			got := ReadAddresses(root)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadAddresses = %#v, want %#v", got, tc.want)
			}
			if tel := ReadTelecoms(root); !reflect.DeepEqual(tel, tc.telecoms) {
				t.Errorf("ReadTelecoms = %#v, want %#v", tel, tc.telecoms)
			}
			if err := r.Err(); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

// TestReadNameParts: a PN's parts in the order sent (prefixes, given
// names, suffixes as lists; a second family name joined to the first with
// a space, an empty one left out), a PN without parts its text, and a
// comment or text between the parts no part.
func TestReadNameParts(t *testing.T) {
	for _, tc := range []struct {
		name, xml string
		want      fhir.HumanName
	}{
		{"parts", `<name use="L"><prefix>DR</prefix> <given>ANNA</given><!--c--><given>MAY</given><family>SMITH</family><family/><family>JONES</family><suffix>OBE</suffix><suffix>MD</suffix></name>`,
			fhir.HumanName{Use: "usual", Prefix: []string{"DR"}, Given: []string{"ANNA", "MAY"}, Family: "SMITH JONES", Suffix: []string{"OBE", "MD"}}},
		{"an empty first family", `<name><family/><family>JONES</family></name>`, fhir.HumanName{Family: "JONES"}},
		{"text", `<name> DR ANNA SMITH </name>`, fhir.HumanName{Text: "DR ANNA SMITH"}},
		{"another part", `<name><delimiter>,</delimiter></name>`, fhir.HumanName{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, root, err := v3.Parse([]byte(`<r xmlns="urn:hl7-org:v3">` + tc.xml + `</r>`))
			if err != nil {
				t.Fatal(err)
			}
			if got := ReadName(root.Child("name")); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadName = %#v, want %#v", got, tc.want)
			}
			if err := r.Err(); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}
