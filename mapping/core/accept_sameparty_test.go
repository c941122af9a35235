package core

import (
	"strings"
	"testing"

	v3 "github.com/porxgate/porxgate/v3"
)

// TestSamePartyDatatypeExtras: an author and a responsible party that
// differ only by what their datatypes allow unread (an II's
// assigningAuthorityName or displayable, a coded value's codeSystemName or
// codeSystemVersion, an xsi:type, a schema location) are one person, as
// without them; a different value or another attribute is another party.
// Before, an xsi:type or an assigningAuthorityName on one of them made the
// prescriber a second person: the FHIR gained an
// Extension-DM-ResponsiblePractitioner that the message without it has
// not (found by the variation tests, PORXGATE_VARIANTS=full). A person's
// name with its parts in another order (PN allows any) is the same name;
// before, it too made the prescriber a second person.
func TestSamePartyDatatypeExtras(t *testing.T) {
	const base = `<AgentPerson xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" classCode="AGNT">` +
		`<id root="1.2.826.0.1285.0.2.0.67" extension="100102238986"/>` +
		`<code code="R8000" codeSystem="1.2.826.0.1285.0.2.1.104" displayName="Clinical Practitioner Access Role"/>` +
		`<telecom use="WP" value="tel:01234567890"/>` +
		`<agentPerson><name><prefix>DR</prefix><given>ANNA</given><given>MAY</given><family>SMITH</family></name></agentPerson></AgentPerson>`
	for _, tc := range []struct {
		name, from, to string
		same           bool
	}{
		{"identical", "", "", true},
		{"attributes in another order", `use="WP" value="tel:01234567890"`, `value="tel:01234567890" use="WP"`, true},
		{"another value, attributes in order", `value="tel:01234567890"`, `value="tel:01234567891"`, false},
		{"assigningAuthorityName", `extension="100102238986"`, `extension="100102238986" assigningAuthorityName="SDS"`, true},
		{"displayable", `extension="100102238986"`, `extension="100102238986" displayable="true"`, true},
		{"xsi:type on the id", `<id root`, `<id xsi:type="II" root`, true},
		{"codeSystemName", `codeSystem="1.2.826.0.1285.0.2.1.104"`, `codeSystem="1.2.826.0.1285.0.2.1.104" codeSystemName="SDS job role" codeSystemVersion="1"`, true},
		{"schema location", `classCode="AGNT"`, `classCode="AGNT" xsi:schemaLocation="urn:hl7-org:v3 UKCT_MT120201UK04.xsd"`, true},
		{"another id", `extension="100102238986"`, `extension="100102238987"`, false},
		{"another use", `use="WP"`, `use="H"`, false},
		{"an attribute no datatype allows unread", `<telecom use`, `<telecom extra="1" use`, false},
		{"the name's family part first", `<prefix>DR</prefix><given>ANNA</given><given>MAY</given><family>SMITH</family>`, `<family>SMITH</family><prefix>DR</prefix><given>ANNA</given><given>MAY</given>`, true},
		{"the given names swapped", `<given>ANNA</given><given>MAY</given>`, `<given>MAY</given><given>ANNA</given>`, false},
		{"a part more", `<family>SMITH</family>`, `<family>SMITH</family><suffix>JR</suffix>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := strings.Replace(base, tc.from, tc.to, 1)
			if tc.from != "" && other == base {
				t.Fatal("the case changes nothing")
			}
			a := mustRoot(t, base)
			b := mustRoot(t, other)
			if got := SameParty(a.El, b.El, nil); got != tc.same {
				t.Errorf("SameParty = %v, want %v", got, tc.same)
			}
			if got := SameParty(b.El, a.El, nil); got != tc.same {
				t.Errorf("SameParty (the other way) = %v, want %v", got, tc.same)
			}
		})
	}
}

func mustRoot(t *testing.T, xml string) v3.Node {
	t.Helper()
	_, root, err := v3.Parse([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	return root
}
