package release

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestReleasedStatus holds the status read from the elements themselves
// (releasedStatus) to the one read through a Reader, as before: where it
// answers, the Reader reads the same code and displayName and records no
// problem; where it leaves the status to the Reader, the Reader records
// one, or reads no code.
func TestReleasedStatus(t *testing.T) {
	const oid = v3.OIDItemStatus
	tests := []struct {
		name, rel string
		ok        bool
	}{
		{"as Spine writes it", `<value code="0007" codeSystem="` + oid + `" displayName="To Be Dispensed"/>`, true},
		{"no codeSystem", `<value code="0007" displayName="To Be Dispensed"/>`, true},
		{"no displayName", `<value code="0007" codeSystem="` + oid + `"/>`, true},
		{"empty code", `<value code="" codeSystem="` + oid + `"/>`, true},
		{"prefixed attributes", `<value xmlns:p="urn:p" p:code="0001" p:codeSystem="urn:x"/>`, false},
		{"other codeSystem", `<value code="0007" codeSystem="urn:x"/>`, false},
		{"no code", `<value codeSystem="` + oid + `"/>`, false},
		{"no value", `<code code="IS"/>`, false},
		{"two values, the first read", `<value code="0001"/><value code="0002" codeSystem="urn:x"/>`, true},
		{"comment before", `<!-- c --><value code="0001"/>`, true},
	}
	for _, tt := range tests {
		for _, act := range []string{"pertinentItemStatus", ""} {
			doc := `<pertinentInformation4 xmlns="urn:hl7-org:v3"><seperatableInd value="false"/><pertinentItemStatus>` + tt.rel + `</pertinentItemStatus></pertinentInformation4>`
			if act == "" { // no act at all
				doc = `<pertinentInformation4 xmlns="urn:hl7-org:v3"><seperatableInd value="false"/></pertinentInformation4>`
			}
			r, rel, err := v3.Parse([]byte(doc))
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got, ok := releasedStatus(rel.El, "pertinentItemStatus", oid)
			val := rel.Child("pertinentItemStatus").Child("value")
			want := statusName{core.V3Code(val, oid), val.OptAttr("displayName")}
			if act == "" {
				if ok {
					t.Errorf("%s without its act: read %v", tt.name, got)
				}
				continue
			}
			if ok != tt.ok {
				t.Errorf("%s: read %v, want %v", tt.name, ok, tt.ok)
			}
			if ok && (got != want || r.Err() != nil) {
				t.Errorf("%s: %v, the Reader reads %v (%v)", tt.name, got, want, r.Err())
			}
			if !ok && r.Err() == nil && want.code != "" {
				t.Errorf("%s: left to the Reader, which reads %v without a problem", tt.name, want)
			}
		}
	}
}
