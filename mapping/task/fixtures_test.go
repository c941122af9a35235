package task_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	"github.com/porxgate/porxgate/mapping/task"
)

// TestTaskFixturesRoundTrip takes every return and withdraw fixture of
// testdata v3 → FHIR → v3 and wants the fixture back.
func TestTaskFixturesRoundTrip(t *testing.T) {
	dispensetest.RoundTripFixtures(t, "return", "withdraw")
}

// TestTaskRelationshipIndicators: indicators the schemas leave open and the
// readers take either way come back as sent: a return reason's and a
// withdraw id's contextConductionInd (BL, schema default true; the EPS API
// writes false) and a return's reversalOf inversionInd. EPS FHIR has no
// element for them; porxgate's extension keeps the value EPS would not
// write. Before, the writers always wrote EPS's value, so porxgate's own
// round trip changed the message.
func TestTaskRelationshipIndicators(t *testing.T) {
	ret := string(maptest.Testdata(t, "return/return-erd.xml"))
	wdr := string(maptest.Testdata(t, "withdraw/withdraw-erd.xml"))
	tests := []struct {
		name     string
		base     string
		old, new string
		toFHIR   func([]byte, core.Env) ([]byte, core.Meta, error)
		toV3     func([]byte, core.Meta, core.Env) ([]byte, error)
	}{
		{"return reason conduction", ret, `<pertinentInformation3 contextConductionInd="false" typeCode="PERT">`, `<pertinentInformation3 contextConductionInd="true" typeCode="PERT">`, task.ReturnToFHIR, task.ReturnToV3},
		{"return reversal inversion", ret, `<reversalOf inversionInd="true" negationInd="false" typeCode="REV">`, `<reversalOf inversionInd="false" negationInd="false" typeCode="REV">`, task.ReturnToFHIR, task.ReturnToV3},
		{"withdraw id conduction", wdr, `<pertinentInformation3 contextConductionInd="false" typeCode="PERT">`, `<pertinentInformation3 contextConductionInd="true" typeCode="PERT">`, task.WithdrawToFHIR, task.WithdrawToV3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.base, tt.old) {
				t.Fatalf("fixture lacks %s", tt.old)
			}
			dispensetest.RoundTrip(t, tt.toFHIR, tt.toV3, []byte(strings.Replace(tt.base, tt.old, tt.new, 1)))
		})
	}
}
