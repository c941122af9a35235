package mapping_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/release"
)

// TestReleaseRequestDispensingPerson: a release request's AgentPerson
// (UKCT_MT120201UK03) names its person by a choice of agentPerson or
// agentPersonSDS, one of which must be there. The EPS API's $release writes
// the agent's practitioner, by SDS user id, into the v3 it sends Spine and
// fails (HTTP 500, a TypeError in its translation) on a PractitionerRole
// without one, so an SDS person is the practitioner's sds-user-id, and a
// request naming no person, which Spine refuses, is refused naming the
// element. Before, both were taken and the agent sent without a
// practitioner: EPS answered 500 and the gateway retried the request until
// it went to the dead letters.
func TestReleaseRequestDispensingPerson(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "release", "nominated-release-request-060102.xml"))
	if err != nil {
		t.Fatal(err)
	}
	base := string(data)
	const person = `<agentPerson classCode="PSN" determinerCode="INSTANCE">
              <id root="1.2.826.0.1285.0.2.1.54" extension="7654321"/>
              <name>
                <prefix>MS</prefix>
                <given>PRIYA</given>
                <family>SHAH</family>
              </name>
            </agentPerson>`
	if !strings.Contains(base, person) {
		t.Fatal("the fixture's agentPerson was not found")
	}
	tests := []struct {
		name, person string
		wantUser     string // the agent's practitioner sds-user-id
		wantErr      string // or the path of the refusal
	}{
		{"agentPerson", person, "7654321", ""},
		{"agentPersonSDS", `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE"><id root="1.2.826.0.1285.0.2.0.65" extension="555254239107"/></agentPersonSDS>`, "555254239107", ""},
		{"agentPersonSDS of another root", `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE"><id root="1.2.3" extension="555254239107"/></agentPersonSDS>`, "", "AgentPerson/agentPersonSDS/id"},
		{"no person", ``, "", "AgentPerson/agentPerson"},
	}
	tr := mapping.NewRegistry().ByInteraction("PORX_IN060102UK30")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := []byte(strings.Replace(base, person, tc.person, 1))
			body, _, err := tr.ToFHIR(msg, variantEnv(msg))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := fhir.DecodeResource(body)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := res.(*fhir.Parameters)
			if !ok || p.Find(release.ParamAgent) == nil {
				t.Fatalf("no agent in %s", body)
			}
			role, _ := p.Find(release.ParamAgent).Resource.(*fhir.PractitionerRole)
			if role == nil || role.Practitioner == nil || role.Practitioner.Identifier == nil ||
				role.Practitioner.Identifier.System != fhir.SystemSDSUser || role.Practitioner.Identifier.Value != tc.wantUser {
				t.Errorf("agent practitioner %+v, want sds-user-id %s", role, tc.wantUser)
			}
		})
	}
}
