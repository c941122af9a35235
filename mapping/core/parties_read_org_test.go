package core

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestReadOrganizationLicence checks the licence's organisation as
// ReadOrganization gives it: without a type, or with the type not
// specified (999), the partOf reference's identifier and display and no
// resource; with a type, a resource of its own with the next id, partOf
// its fullUrl; no licence, no partOf; a licence's organisation without id
// refused at its path. The ids are drawn in the same order in each case.
func TestReadOrganizationLicence(t *testing.T) {
	const org = `<representedOrganization><id root="1.2.826.0.1285.0.1.10" extension="A83008"/><name>SURGERY</name>`
	lic := func(inner string) string {
		return `<healthCareProviderLicense><Organization>` + inner + `</Organization></healthCareProviderLicense>`
	}
	const licID = `<id root="1.2.826.0.1285.0.1.10" extension="84H"/>`
	tests := []struct {
		name, xml  string
		partOf     *fhir.Reference
		parentType string
		problem    string
	}{
		{"no type", org + lic(licID+`<name>CCG</name>`) + `</representedOrganization>`,
			&fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: "84H"}, Display: "CCG"}, "", ""},
		{"type not specified", org + lic(licID+`<code codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94" code="999"/>`) + `</representedOrganization>`,
			&fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS, Value: "84H"}}, "", ""},
		{"typed", org + lic(licID+`<code codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94" code="005"/><name>TRUST</name>`) + `</representedOrganization>`,
			&fhir.Reference{Reference: "urn:uuid:00000000-0000-4000-8000-000000000002"}, "005", ""},
		{"no licence", org + `</representedOrganization>`, nil, "", ""},
		{"licence organisation without id", org + lic(`<name>CCG</name>`) + `</representedOrganization>`,
			&fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemODS}, Display: "CCG"}, "",
			"/representedOrganization/healthCareProviderLicense/Organization/id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, n := parseNode(t, tt.xml)
			o, parent := ReadOrganization(n, CountingIDs())
			if o.ID != "00000000-0000-4000-8000-000000000001" || o.Identifier[0].Value != "A83008" || o.Name != "SURGERY" {
				t.Errorf("organisation %+v", o)
			}
			if !samePartOf(o.PartOf, tt.partOf) {
				t.Errorf("partOf %+v, want %+v", o.PartOf, tt.partOf)
			}
			switch {
			case tt.parentType == "" && parent != nil:
				t.Errorf("a licence resource %+v, want none", parent)
			case tt.parentType != "" && (parent == nil || parent.ID != "00000000-0000-4000-8000-000000000002" ||
				parent.Type[0].Coding[0].Code != tt.parentType || parent.Identifier[0].Value != "84H" || parent.Name != "TRUST"):
				t.Errorf("licence resource %+v, want type %s", parent, tt.parentType)
			}
			var paths []string
			for _, e := range v3.Errors(r.Err()) {
				paths = append(paths, e.Path)
			}
			if tt.problem == "" && len(paths) > 0 || tt.problem != "" && (len(paths) != 1 || paths[0] != tt.problem) {
				t.Errorf("problems at %q, want %q", paths, tt.problem)
			}
		})
	}
}

// parseNode parses xml, its root put in the v3 namespace, and returns its
// Reader and root Node.
func parseNode(t *testing.T, xml string) (*v3.Reader, v3.Node) {
	t.Helper()
	end := strings.IndexByte(xml, '>')
	r, n, err := v3.Parse([]byte(xml[:end] + ` xmlns="urn:hl7-org:v3"` + xml[end:]))
	if err != nil {
		t.Fatal(err)
	}
	return r, n
}

func samePartOf(a, b *fhir.Reference) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Reference != b.Reference || a.Display != b.Display || (a.Identifier == nil) != (b.Identifier == nil) {
		return false
	}
	return a.Identifier == nil || a.Identifier.System == b.Identifier.System && a.Identifier.Value == b.Identifier.Value && a.Identifier.Use == b.Identifier.Use
}

// TestReadAgentPersonURLs: the role's references and RoleURL are the
// fullUrls of the ids drawn, with a person and without.
func TestReadAgentPersonURLs(t *testing.T) {
	const org = `<representedOrganization><id root="1.2.826.0.1285.0.1.10" extension="A83008"/></representedOrganization>`
	for _, tt := range []struct {
		name, xml string
		person    bool
	}{
		{"with a person", `<AgentPerson><id root="1.2.826.0.1285.0.2.0.67" extension="100102238986"/><agentPerson><id root="1.2.826.0.1285.0.2.1.54" extension="G8000000"/></agentPerson>` + org + `</AgentPerson>`, true},
		{"without", `<AgentPerson><id root="1.2.826.0.1285.0.2.0.67" extension="100102238986"/>` + org + `</AgentPerson>`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, n := parseNode(t, tt.xml)
			a := ReadAgentPerson(n, CountingIDs(), AuthorPersonID)
			if got := a.RoleURL(); got != FullURL(a.Role.ID) {
				t.Errorf("RoleURL %q for id %q", got, a.Role.ID)
			}
			if a.Role.Organization.Reference != FullURL(a.Organization.ID) {
				t.Errorf("organisation reference %q for id %q", a.Role.Organization.Reference, a.Organization.ID)
			}
			if (a.Practitioner != nil) != tt.person {
				t.Fatalf("practitioner %+v", a.Practitioner)
			}
			if tt.person && a.Role.Practitioner.Reference != FullURL(a.Practitioner.ID) {
				t.Errorf("practitioner reference %q for id %q", a.Role.Practitioner.Reference, a.Practitioner.ID)
			}
			if a.Role.ID == a.Organization.ID || tt.person && a.Practitioner.ID == a.Role.ID {
				t.Errorf("ids not fresh: %q %q", a.Role.ID, a.Organization.ID)
			}
		})
	}
}

// TestReadNameListsApart: the prefixes, given names and suffixes ReadName
// takes from one list stay apart: appending to one leaves the next as it
// was, and a name with only given names has no prefixes or suffixes.
func TestReadNameListsApart(t *testing.T) {
	_, root := parseNode(t, `<r><name><suffix>OBE</suffix><given>ANNA</given><prefix>DR</prefix><given>MAY</given><suffix>MD</suffix></name><name><given>JO</given></name></r>`)
	hn := ReadName(root.Child("name"))
	_ = append(hn.Prefix, "X")
	_ = append(hn.Given, "Y")
	if len(hn.Prefix) != 1 || hn.Prefix[0] != "DR" || len(hn.Given) != 2 || hn.Given[0] != "ANNA" || hn.Given[1] != "MAY" ||
		len(hn.Suffix) != 2 || hn.Suffix[0] != "OBE" || hn.Suffix[1] != "MD" {
		t.Errorf("name %+v", hn)
	}
	if only := ReadName(root.All("name")[1]); only.Prefix != nil || only.Suffix != nil || len(only.Given) != 1 || only.Given[0] != "JO" {
		t.Errorf("name %+v", only)
	}
}
