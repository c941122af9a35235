package task_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	"github.com/porxgate/porxgate/mapping/task"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestEPSCannotTake: a return without reversalOf, a withdraw without a
// dispense notification reference, a withdraw by an SDS user id and a
// return by a dispenser without telecom (all MIM-conformant) make Tasks
// EPS's translation fails on, and a withdraw of a type other than LD one
// EPS would tell Spine as LD; each is named by
// its v3 element, without a MIM rule. The project's EPS-shaped Tasks, and
// the Tasks of a return with reversalOf and a withdraw by ODS code, pass.
func TestEPSCannotTake(t *testing.T) {
	ret := string(maptest.Testdata(t, "return/return-erd.xml"))
	wdSDS := string(maptest.Testdata(t, "withdraw/withdraw-erd.xml"))
	wdODS := strings.Replace(wdSDS, `<id extension="7654321" root="1.2.826.0.1285.0.2.0.65" />
            </agentPersonSDS>
          </AgentPersonSDS>
        </author>
        <pertinentInformation3`, `<id extension="FCG71" root="1.2.826.0.1285.0.2.0.65" />
            </agentPersonSDS>
          </AgentPersonSDS>
        </author>
        <pertinentInformation3`, 1)
	if wdODS == wdSDS {
		t.Fatal("withdraw fixture lacks its author's agentPersonSDS")
	}
	noRev := regexp.MustCompile(`(?s)\s*<reversalOf .*?</reversalOf>`).ReplaceAllString(ret, "")
	noRef := regexp.MustCompile(`(?s)\s*<pertinentInformation4 .*?</pertinentInformation4>`).ReplaceAllString(wdODS, "")
	otherType := strings.Replace(wdODS, `<value code="LD" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.109"`, `<value code="ZZ" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.109"`, 1)
	if otherType == wdODS {
		t.Fatal("withdraw fixture is not of type LD")
	}
	noTel := strings.Replace(ret, `<telecom use="WP" value="tel:01632960123" />`, "", 1)
	if noTel == ret {
		t.Fatal("return fixture lacks its dispenser's telecom")
	}
	tests := []struct {
		name, interaction, v3 string
		toFHIR                func([]byte, core.Env) ([]byte, core.Meta, error)
		element               string // "" when EPS can take it
	}{
		{"return with reversalOf", v3.DispenseProposalReturn, ret, task.ReturnToFHIR, ""},
		{"return without reversalOf", v3.DispenseProposalReturn, noRev, task.ReturnToFHIR, "/DispenseProposalReturn/reversalOf"},
		{"return without reversalOf, SM", "PORX_IN100101SM31", noRev, task.ReturnToFHIR, "/DispenseProposalReturn/reversalOf"},
		{"return by a dispenser without telecom", v3.DispenseProposalReturn, noTel, task.ReturnToFHIR, "/DispenseProposalReturn/author/AgentPerson/telecom"},
		{"withdraw by ODS code", v3.DispenserWithdraw, wdODS, task.WithdrawToFHIR, ""},
		{"withdraw by SDS user id", v3.DispenserWithdraw, wdSDS, task.WithdrawToFHIR, "/ETPWithdraw/author/AgentPersonSDS/agentPersonSDS/id"},
		{"withdraw without notification ref", v3.DispenserWithdraw, noRef, task.WithdrawToFHIR, "/ETPWithdraw/pertinentInformation4"},
		{"withdraw of a type other than LD", v3.DispenserWithdraw, otherType, task.WithdrawToFHIR, "/ETPWithdraw/pertinentInformation2/pertinentWithdrawType/value"},
		{"withdraw of type LD with another display", v3.DispenserWithdraw, strings.Replace(wdODS, `displayName="Last Dispense"`, `displayName="last dispense"`, 1), task.WithdrawToFHIR, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := tt.toFHIR([]byte(tt.v3), core.Env{NewID: func() string { return "00000000-0000-4000-8000-000000000001" }})
			if err != nil {
				t.Fatal(err)
			}
			dispensetest.EPSRefusal(t, task.EPSCannotTake(tt.interaction, body), tt.interaction, tt.element)
		})
	}
	for _, name := range []string{"Return--acute-another-dispenser.json", "Return--erd-issue.json", "Withdraw--acute-medication-update.json", "Withdraw--erd-issue.json"} {
		in := v3.DispenserWithdraw
		if strings.HasPrefix(name, "Return") {
			in = v3.DispenseProposalReturn
		}
		if err := task.EPSCannotTake(in, maptest.Testdata(t, "eps-fhir/"+name)); err != nil {
			t.Errorf("%s: %v, want nil (an EPS-shaped Task)", name, err)
		}
	}
}
