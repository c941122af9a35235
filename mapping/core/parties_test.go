package core

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// partiesBundle is a small bundle of the people of a prescription.
func partiesBundle() *fhir.Bundle {
	b := &fhir.Bundle{ResourceType: "Bundle"}
	b.Add("urn:uuid:org", &fhir.Organization{
		Identifier: []fhir.Identifier{{System: fhir.SystemODS, Value: "A83008"}},
		Name:       "HALLGARTH SURGERY",
		Telecom:    []fhir.ContactPoint{{System: "phone", Value: "0115 9737320", Use: "work"}},
		Address:    []fhir.Address{{Use: "work", Line: []string{"CHEAPSIDE"}, City: "SHILDON", District: "COUNTY DURHAM", PostalCode: "DL4 2HP"}},
		PartOf:     &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: "84H"}, Display: "NHS COUNTY DURHAM CCG"},
	})
	b.Add("urn:uuid:prac", &fhir.Practitioner{
		Identifier: []fhir.Identifier{{System: fhir.SystemGMC, Value: "C6095103"}, {System: fhir.SystemDIN, Value: "977677"}},
		Name:       []fhir.HumanName{{Family: "BOIN", Given: []string{"C"}, Prefix: []string{"DR"}}},
		Telecom:    []fhir.ContactPoint{{Value: "01234 000000", Use: "work"}},
	})
	b.Add("urn:uuid:loc", &fhir.Location{Address: &fhir.Address{Line: []string{"MUSGROVE PARK"}, PostalCode: "TA1 5DA"}})
	return b
}

func agentXML(t *testing.T, b *fhir.Bundle, role *fhir.PractitionerRole, opts AgentPersonOptions) (string, error) {
	t.Helper()
	c := NewBundleContext(b, v3.ParentPrescription)
	parent := etree.NewElement("author")
	AddAgentPerson(c, parent, role, "PractitionerRole", opts)
	var buf bytes.Buffer
	parent.WriteTo(&buf, &etree.WriteSettings{})
	return buf.String(), c.Err()
}

func TestAddAgentPerson(t *testing.T) {
	ref := func(u string) *fhir.Reference { return &fhir.Reference{Reference: u} }
	tests := []struct {
		name     string
		role     *fhir.PractitionerRole
		opts     AgentPersonOptions
		want     []string
		wantErr  string
		notWants []string
	}{
		{"author takes the GMC number without its C", &fhir.PractitionerRole{
			Identifier:   []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: "200102238987"}},
			Code:         []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: fhir.CodeSystemJobRole, Code: "R8000"}}}},
			Practitioner: ref("urn:uuid:prac"), Organization: ref("urn:uuid:org"),
			Telecom: []fhir.ContactPoint{{Value: "01234 567890", Use: "work"}},
		}, AgentPersonOptions{PersonID: AuthorPersonID, ProviderLicense: true}, []string{
			`<id root="1.2.826.0.1285.0.2.0.67" extension="200102238987"/>`,
			`<code code="R8000" codeSystem="1.2.826.0.1285.0.2.1.104"/>`,
			`<telecom use="WP" value="tel:01234567890"/>`,
			`<id root="1.2.826.0.1285.0.2.1.54" extension="6095103"/>`,
			`<streetAddressLine>CHEAPSIDE</streetAddressLine><streetAddressLine>SHILDON</streetAddressLine><streetAddressLine>COUNTY DURHAM</streetAddressLine><postalCode>DL4 2HP</postalCode>`,
			`<healthCareProviderLicense classCode="PROV"><Organization classCode="ORG" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.1.10" extension="84H"/>`,
		}, "", nil},
		{"responsible party takes the DIN; telecom falls back to the practitioner", &fhir.PractitionerRole{
			Practitioner: ref("urn:uuid:prac"), Organization: ref("urn:uuid:org"),
		}, AgentPersonOptions{PersonID: ResponsiblePartyPersonID}, []string{
			`<telecom use="WP" value="tel:01234000000"/>`,
			`extension="977677"`,
		}, "", []string{"healthCareProviderLicense", `root="1.2.826.0.1285.0.2.0.67"`}},
		{"spurious code beats the DIN", &fhir.PractitionerRole{
			Identifier:   []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: "1"}, {System: SystemSpuriousCode, Value: "666666"}},
			Practitioner: ref("urn:uuid:prac"), Organization: ref("urn:uuid:org"),
		}, AgentPersonOptions{PersonID: ResponsiblePartyPersonID}, []string{`extension="666666"`}, "", nil},
		{"organisation only: the person is named after the organisation", &fhir.PractitionerRole{
			Practitioner: &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemGMC, Value: "C1234567"}},
			Organization: ref("urn:uuid:org"),
		}, AgentPersonOptions{PersonID: ResponsiblePartyPersonID, ProviderLicense: true}, []string{
			`<telecom use="WP" value="tel:01159737320"/><agentPerson classCode="PSN" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.1.54" extension="1234567"/><name>HALLGARTH SURGERY</name>`,
		}, "", nil},
		{"organisation by identifier, address from the role's location", &fhir.PractitionerRole{
			Practitioner: ref("urn:uuid:prac"),
			Organization: &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: "RBA"}, Display: "TAUNTON"},
			Location:     []fhir.Reference{{Reference: "urn:uuid:loc"}},
			Telecom:      []fhir.ContactPoint{{Value: "01823 333444", Use: "work"}},
		}, AgentPersonOptions{PersonID: AuthorPersonID, ProviderLicense: true}, []string{
			`<id root="1.2.826.0.1285.0.1.10" extension="RBA"/><code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/><name>TAUNTON</name><telecom use="WP" value="tel:01823333444"/><addr><streetAddressLine>MUSGROVE PARK</streetAddressLine>`,
		}, "", nil},
		{"two professional codes", &fhir.PractitionerRole{
			Practitioner: &fhir.Reference{Reference: "urn:uuid:prac2"}, Organization: ref("urn:uuid:org"),
		}, AgentPersonOptions{PersonID: AuthorPersonID}, nil, "Bundle.entry[3].resource.identifier: expected exactly one professional code", nil},
		{"unknown telecom use", &fhir.PractitionerRole{
			Practitioner: ref("urn:uuid:prac"), Organization: ref("urn:uuid:org"),
			Telecom: []fhir.ContactPoint{{Value: "1", Use: "old"}},
		}, AgentPersonOptions{}, nil, "PractitionerRole.telecom[0].use: unhandled telecom use", nil},
		{"no organisation", &fhir.PractitionerRole{Practitioner: ref("urn:uuid:prac")}, AgentPersonOptions{}, nil,
			"PractitionerRole.organization: missing mandatory organization", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := partiesBundle()
			b.Add("urn:uuid:prac2", &fhir.Practitioner{Identifier: []fhir.Identifier{{System: fhir.SystemGMC, Value: "1"}, {System: fhir.SystemNMC, Value: "2"}}})
			got, err := agentXML(t, b, tt.role, tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("AgentPerson lacks %s\n%s", w, got)
				}
			}
			for _, w := range tt.notWants {
				if strings.Contains(got, w) {
					t.Errorf("AgentPerson has %s\n%s", w, got)
				}
			}
		})
	}
}

// TestAgentPersonRoundTrip reads an AgentPerson into FHIR and writes it
// back: the same v3 must come out.
func TestAgentPersonRoundTrip(t *testing.T) {
	const in = `<AgentPerson xmlns="urn:hl7-org:v3" classCode="AGNT"><id root="1.2.826.0.1285.0.2.0.67" extension="100102238986"/><code code="S8000:G8000:R8000" codeSystem="1.2.826.0.1285.0.2.1.104"/><telecom use="WP" value="tel:01234567890"/><telecom use="MC" value="tel:07700900123"/><agentPerson classCode="PSN" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.1.54" extension="G9999999"/><name use="L"><prefix>DR</prefix><given>Thomas</given><family>Edwards</family><suffix>MD</suffix></name></agentPerson><representedOrganization classCode="ORG" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.1.10" extension="A99968"/><code code="003" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/><name>SOMERSET BOWEL CANCER SCREENING CENTRE</name><telecom use="WP" value="tel:01823333444"/><addr><streetAddressLine>MUSGROVE PARK HOSPITAL</streetAddressLine><postalCode>TA1 5DA</postalCode></addr><healthCareProviderLicense classCode="PROV"><Organization classCode="ORG" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.1.10" extension="RBA"/><code code="001" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/><name>TAUNTON AND SOMERSET NHS FOUNDATION TRUST</name></Organization></healthCareProviderLicense></representedOrganization></AgentPerson>`
	r, root, err := v3.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	env := FixedEnv()
	res := ReadAgentPerson(root, env.NewID, AuthorPersonID)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	b := &fhir.Bundle{ResourceType: "Bundle", Entry: res.Entries()}
	got, err := agentXML(t, b, res.Role, AgentPersonOptions{PersonID: AuthorPersonID, ProviderLicense: true})
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(got); err != nil {
		t.Fatal(err)
	}
	if !SameElement(root.El, doc.Root().SelectElement("AgentPerson"), nil) {
		t.Errorf("AgentPerson changed on the way back:\n in %s\nout %s", in, got)
	}
}

// TestPatientRoundTrip reads recordTarget/Patient into FHIR and writes it
// back.
func TestPatientRoundTrip(t *testing.T) {
	const in = `<Patient xmlns="urn:hl7-org:v3" classCode="PAT"><id root="2.16.840.1.113883.2.1.4.1" extension="9449305552"/><addr use="H"><streetAddressLine>14 Park Row</streetAddressLine><postalCode>LS1 5HD</postalCode></addr><addr use="TMP"><streetAddressLine>Ward 4</streetAddressLine></addr><telecom use="MC" value="tel:07700900123"/><patientPerson classCode="PSN" determinerCode="INSTANCE"><name use="L"><prefix>MRS</prefix><given>ÉOWYN</given><family>O'REILLY</family></name><name use="PREVIOUS-MAIDEN"><family>SMITH</family></name><administrativeGenderCode code="2" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25"/><birthTime value="19611231"/><playedProviderPatient classCode="PAT"><subjectOf typeCode="SBJ"><patientCareProvision classCode="PCPR" moodCode="EVN"><code code="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.37"/><responsibleParty typeCode="RESP"><healthCareProvider classCode="PROV"><id root="1.2.826.0.1285.0.1.10" extension="V81999"/></healthCareProvider></responsibleParty></patientCareProvision></subjectOf></playedProviderPatient></patientPerson></Patient>`
	r, root, err := v3.Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := ReadPatient(root, "p1")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if p.GeneralPractitioner[0].Identifier.Value != UnknownGPODSCode || p.Gender != "female" || p.BirthDate != "1961-12-31" {
		t.Errorf("patient read as %+v", p)
	}
	c := NewBundleContext(&fhir.Bundle{}, v3.ParentPrescription)
	parent := etree.NewElement("recordTarget")
	AddPatient(c, parent, p, "Patient")
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
	if !SameElement(root.El, parent.SelectElement("Patient"), nil) {
		var buf bytes.Buffer
		parent.WriteTo(&buf, &etree.WriteSettings{})
		t.Errorf("Patient changed on the way back:\n in %s\nout %s", in, buf.String())
	}
}

// TestSameElementAttributes: attributes compare the same in any order, a
// declaration of the v3 default namespace or of a prefix not counted (the
// prefixes of names are compared; another default namespace counts),
// whether or not the lists are written in the same order (the quick
// in-order check and the look-up must agree).
func TestSameElementAttributes(t *testing.T) {
	el := func(attrs ...string) *etree.Element {
		e := etree.NewElement("id")
		for i := 0; i+1 < len(attrs); i += 2 {
			e.CreateAttr(attrs[i], attrs[i+1])
		}
		return e
	}
	tests := []struct {
		name string
		a, b *etree.Element
		want bool
	}{
		{"same order", el("root", "1.2", "extension", "A"), el("root", "1.2", "extension", "A"), true},
		{"other order", el("root", "1.2", "extension", "A"), el("extension", "A", "root", "1.2"), true},
		{"value differs", el("root", "1.2", "extension", "A"), el("root", "1.2", "extension", "a"), false},
		{"one more", el("root", "1.2"), el("root", "1.2", "extension", "A"), false},
		{"v3 declaration in one", el("xmlns", v3.Namespace, "root", "1.2"), el("root", "1.2"), true},
		{"prefix declaration in one", el("xmlns:x", "urn:x", "root", "1.2"), el("root", "1.2"), true},
		{"other default namespace in one", el("xmlns", "urn:x", "root", "1.2"), el("root", "1.2"), false},
		{"prefix differs", el("xsi:type", "CV"), el("x:type", "CV"), false},
		{"none", el(), el(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameElement(tt.a, tt.b, nil); got != tt.want {
				t.Errorf("SameElement = %v, want %v", got, tt.want)
			}
			if got := SameElement(tt.b, tt.a, nil); got != tt.want {
				t.Errorf("SameElement reversed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAddGenderAsAddCV checks that addGender writes what AddCV writes for
// every code, those with a Fixed and the others.
func TestAddGenderAsAddCV(t *testing.T) {
	for _, code := range []string{"0", "1", "2", "9", "3", "", "10", "x"} {
		gotDoc, got := v3.NewDocument("patientPerson")
		wantDoc, want := v3.NewDocument("patientPerson")
		addGender(got, code)
		v3.AddCV(want, "administrativeGenderCode", code, v3.OIDGender, "")
		if g, w := WriteIndented(gotDoc), WriteIndented(wantDoc); !bytes.Equal(g, w) {
			t.Errorf("code %q:\n%s\nwant:\n%s", code, g, w)
		}
	}
}
