package dispense_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/dispense"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
)

// TestDispenseFixturesRoundTrip takes every dispense notification and
// rebuild fixture of testdata v3 → FHIR → v3 and wants the fixture back.
func TestDispenseFixturesRoundTrip(t *testing.T) {
	dispensetest.RoundTripFixtures(t, "dispense", "rebuild")
}

// TestDispenserStructuredName: a legacy dispenser whose name has parts
// (use, prefix, given, family) reaches FHIR as the one practitioner shape
// the EPS API takes, a logical reference with the name as display (EPS
// refuses a contained Practitioner: "PractitionerRole.practitioner should
// be an Identifier"), with the parts in porxgate's extension so that the
// v3 comes back whole; a display changed since wins over the kept parts.
// Before, the FHIR held a contained Practitioner, which EPS refused.
func TestDispenserStructuredName(t *testing.T) {
	msg := maptest.Testdata(t, "dispense/dn-extras.xml")
	body, meta, err := dispense.DispenseToFHIR(msg, dispensetest.Env())
	if err != nil {
		t.Fatal(err)
	}
	mds := dispensetest.Dispenses(decodeBundle(t, body))
	if len(mds) == 0 {
		t.Fatal("no MedicationDispense")
	}
	for i, md := range mds {
		for _, r := range md.Contained {
			if _, ok := r.(*fhir.Practitioner); ok {
				t.Errorf("MedicationDispense %d contains a Practitioner, which EPS refuses", i)
			}
		}
	}
	role, ok := mds[0].Contained[0].(*fhir.PractitionerRole)
	if !ok || role.Practitioner == nil {
		t.Fatalf("first contained resource %T, want the PractitionerRole with its practitioner", mds[0].Contained[0])
	}
	pr := role.Practitioner
	kept := fhir.FindExtension(pr.Extension, core.ExtensionPersonName)
	if pr.Reference != "" || pr.Identifier == nil || pr.Display != "MS ANITA PHARMACIST" || kept == nil || kept.ValueHumanName == nil || kept.ValueHumanName.Use != "usual" {
		t.Fatalf("practitioner %+v; want a logical reference, display \"MS ANITA PHARMACIST\" and the name kept with its use", pr)
	}

	tests := []struct {
		name     string
		display  string
		wantName string // the v3 name element's content, white space removed
	}{
		{"kept parts", "MS ANITA PHARMACIST", `<nameuse="L"><prefix>MS</prefix><given>ANITA</given><family>PHARMACIST</family></name>`},
		{"display changed", "ANITA JONES", `<name>ANITAJONES</name>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := strings.Replace(string(body), `"display":"MS ANITA PHARMACIST"`, `"display":"`+tt.display+`"`, -1)
			v3msg, err := dispense.DispenseToV3([]byte(edited), meta, dispensetest.Env())
			if err != nil {
				t.Fatal(err)
			}
			flat := strings.Join(strings.Fields(string(v3msg)), "")
			if !strings.Contains(flat, tt.wantName) {
				t.Errorf("v3 has no %s:\n%s", tt.wantName, v3msg)
			}
		})
	}
}

func decodeBundle(t *testing.T, body []byte) *fhir.Bundle {
	t.Helper()
	var b fhir.Bundle
	if err := fhir.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	return &b
}

// TestRebuildComponentContextConduction: a rebuild component's
// contextConductionInd is a BL the PORX_MT136002UK31 schema defaults to
// true; one written false comes back false. Before, the reader took either
// value and the writer always wrote true, so porxgate's own round trip
// changed the message.
func TestRebuildComponentContextConduction(t *testing.T) {
	base := string(maptest.Testdata(t, "rebuild/rebuild-540101.xml"))
	const comp = `<component contextConductionInd="true" typeCode="COMP">`
	if strings.Count(base, comp) < 2 {
		t.Fatal("fixture: want two rebuild components")
	}
	msg := []byte(strings.Replace(base, comp, `<component contextConductionInd="false" typeCode="COMP">`, 1))
	dispensetest.RoundTrip(t, dispense.RebuildToFHIR, dispense.RebuildToV3, msg)
}

// TestDispenserAddressParts: the dispensing organisation's address (AD)
// may give its text in any of the parts the datatype has (city, county,
// houseNumber, streetName...), not only streetAddressLine. Each textual
// part reaches FHIR as an address line, in the order sent (the EPS API
// writes every line as a streetAddressLine, so Spine gets the same text in
// the same order); the first postalCode is the postcode. An addressKey
// (a PAF key, no text of the address) is not a line. Before, every part but
// streetAddressLine and the first postalCode was dropped.
func TestDispenserAddressParts(t *testing.T) {
	base := string(maptest.Testdata(t, "dispense/dn-full-two-items.xml"))
	const old = `<streetAddressLine>12 High Street</streetAddressLine>
                    <streetAddressLine>Exampleton</streetAddressLine>
                    <postalCode>EX1 2AB</postalCode>`
	tests := []struct {
		name, parts string
		lines       []string
		postalCode  string
	}{
		{"street lines", old, []string{"12 High Street", "Exampleton"}, "EX1 2AB"},
		{"city and county", `<streetAddressLine>12 High Street</streetAddressLine><city>Exampleton</city><county>Testshire</county><postalCode>EX1 2AB</postalCode>`,
			[]string{"12 High Street", "Exampleton", "Testshire"}, "EX1 2AB"},
		{"house number and street name", `<houseNumber>12</houseNumber><streetName>High Street</streetName><city>Exampleton</city><postalCode>EX1 2AB</postalCode>`,
			[]string{"12", "High Street", "Exampleton"}, "EX1 2AB"},
		{"second postal code", `<streetAddressLine>12 High Street</streetAddressLine><postalCode>EX1 2AB</postalCode><postalCode>EX1 9ZZ</postalCode>`,
			[]string{"12 High Street", "EX1 9ZZ"}, "EX1 2AB"},
		{"address key", `<streetAddressLine>12 High Street</streetAddressLine><postalCode>EX1 2AB</postalCode><addressKey>12345678</addressKey>`,
			[]string{"12 High Street"}, "EX1 2AB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := dispenserOrganization(t, base, old, tc.parts)
			if len(org.Address) != 1 {
				t.Fatalf("want one dispensing Organization with one address, got %+v", org)
			}
			a := org.Address[0]
			if strings.Join(a.Line, "|") != strings.Join(tc.lines, "|") || a.PostalCode != tc.postalCode {
				t.Errorf("address lines %q postcode %q, want %q %q", a.Line, a.PostalCode, tc.lines, tc.postalCode)
			}
		})
	}
}

// TestDispenserOrganisationTelecomWithoutNumber: the dispensing
// organisation may give a telecom that holds no number (telecom 0..1 in
// UKCT_MT120201UK03's Organization, a null flavour such as <telecom nullFlavor="NI"/>, or a
// use without a value), which Spine takes. The EPS API refuses a dispense
// notification any of whose Organization entries has a telecom without a
// value or a use (bundle-validator.ts validateTelecoms: 400, "Required field
// bundle.entry[i].resource.telecom[j].value is missing."), so such a
// telecom is left out of the Organization: it had no number to keep, and
// the EPS API writes the dispenser's telecom for an organisation without
// one. Before, it became a ContactPoint with neither, and EPS refused the
// notification.
func TestDispenserOrganisationTelecomWithoutNumber(t *testing.T) {
	base := string(maptest.Testdata(t, "dispense/dn-full-two-items.xml"))
	const old = `<telecom use="WP" value="tel:01632960999" />`
	tests := []struct {
		name, telecoms string
		values         []string // the Organization's telecom values, in order
	}{
		{"a number", old, []string{"01632960999"}},
		{"null flavour alone", `<telecom nullFlavor="NI" />`, nil},
		{"null flavour with a use", `<telecom nullFlavor="UNK" use="WP" />`, nil},
		{"use without a value", `<telecom use="WP" />`, nil},
		// A second telecom beside the number is refused as a repeat (0..1
		// in the CMET's Organization): mapping's TestOrganizationOnceOnly.
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			org := dispenserOrganization(t, base, old, tc.telecoms)
			var values []string
			for j, cp := range org.Telecom {
				if cp.Value == "" || cp.Use == "" {
					t.Errorf("Organization telecom[%d] %+v: EPS refuses a telecom without a value or a use", j, cp)
				}
				values = append(values, cp.Value)
			}
			if strings.Join(values, "|") != strings.Join(tc.values, "|") {
				t.Errorf("Organization telecom values %q, want %q", values, tc.values)
			}
		})
	}
}

// dispenserOrganization maps the dispense notification base with old
// replaced by repl to FHIR and returns its one Organization entry, the
// dispensing organisation.
func dispenserOrganization(t *testing.T, base, old, repl string) *fhir.Organization {
	t.Helper()
	msg := strings.Replace(base, old, repl, 1)
	if !strings.Contains(base, old) || !strings.Contains(msg, repl) {
		t.Fatalf("the fixture has no %s", old)
	}
	body, _, err := dispense.DispenseToFHIR([]byte(msg), dispensetest.Env())
	if err != nil {
		t.Fatal(err)
	}
	var orgs []*fhir.Organization
	for _, e := range decodeBundle(t, body).Entry {
		if o, ok := e.Resource.(*fhir.Organization); ok {
			orgs = append(orgs, o)
		}
	}
	if len(orgs) != 1 {
		t.Fatalf("want one dispensing Organization, got %d", len(orgs))
	}
	return orgs[0]
}
