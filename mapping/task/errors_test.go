package task_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	"github.com/porxgate/porxgate/mapping/task"
)

func TestReturnWithdrawV3Malformed(t *testing.T) {
	dispensetest.RunV3Errors(t, task.ReturnToFHIR, string(maptest.Testdata(t, "return/return-erd.xml")), []dispensetest.V3ErrorCase{
		{Name: "repeat not a number", Old: `<value value="2" />`, New: `<value value="two" />`, Want: []string{"PORX_IN100101UK31", "pertinentRepeatInstanceInfo/value"}, All: false},
		{Name: "repeat instance 0", Old: `<value value="2" />`, New: `<value value="0" />`, Want: []string{"PORX_IN100101UK31", "pertinentRepeatInstanceInfo/value", "issue number"}, All: false},
		{Name: "repeat instance negative", Old: `<value value="2" />`, New: `<value value="-1" />`, Want: []string{"pertinentRepeatInstanceInfo/value", "issue number"}, All: false},
		{Name: "return reason code system", Old: `codeSystem="2.16.840.1.113883.2.1.3.2.4.16.28"`, New: `codeSystem="1.2.3"`, Want: []string{"pertinentReturnReason/value"}, All: false},
	})
	dispensetest.RunV3Errors(t, task.WithdrawToFHIR, string(maptest.Testdata(t, "withdraw/withdraw-erd.xml")), []dispensetest.V3ErrorCase{
		{Name: "missing NHS number root", Old: `root="2.16.840.1.113883.2.1.4.1"`, New: `root="1.2.3"`, Want: []string{"PORX_IN510101UK31", "recordTarget/patient/id"}, All: false},
		{Name: "repeat instance 0", Old: `<value value="3" />`, New: `<value value="0" />`, Want: []string{"PORX_IN510101UK31", "pertinentRepeatInstanceInfo/value", "issue number"}, All: false},
		{Name: "missing withdraw reason", Old: "pertinentInformation5", New: "pertinentInformation6", Want: []string{"ETPWithdraw/pertinentInformation"}, All: true},
		// Before, the reader looked for the session user above a missing
		// ETPWithdraw and panicked (found by FuzzWithdrawV3ToFHIR).
		{Name: "no ETPWithdraw", Old: "", New: `<PORX_IN510101UK31 xmlns="urn:hl7-org:v3"></PORX_IN510101UK31>`, Want: []string{"PORX_IN510101UK31", "missing mandatory element"}},
	})
}

// TestReturnWithdrawV3RepeatedElements: every element the PORX_MT121301UK31
// and PORX_MT136001UK31 schemas allow once is refused when it comes twice,
// naming the second. Before, the readers took the first and dropped the
// rest unsaid (a second return or withdraw reason, a second repeat instance,
// which Spine's withdraw schematron refuses as "only a single repeat
// instance ref may be provided").
func TestReturnWithdrawV3RepeatedElements(t *testing.T) {
	const r = "ControlActEvent/subject/DispenseProposalReturn"
	dispensetest.RunV3Repeats(t, task.ReturnToFHIR, string(maptest.Testdata(t, "return/return-erd.xml")), []string{
		r + "/id", r + "/effectiveTime", r + "/author", r + "/pertinentInformation1", r + "/pertinentInformation2",
		r + "/pertinentInformation3", r + "/reversalOf", r + "/author/AgentPerson",
		r + "/pertinentInformation3/pertinentReturnReason/value", r + "/reversalOf/priorPrescriptionReleaseResponseRef",
		r + "/reversalOf/priorPrescriptionReleaseResponseRef/id",
	})
	const w = "ControlActEvent/subject/ETPWithdraw"
	dispensetest.RunV3Repeats(t, task.WithdrawToFHIR, string(maptest.Testdata(t, "withdraw/withdraw-erd.xml")), []string{
		w + "/id", w + "/effectiveTime", w + "/recordTarget", w + "/author", w + "/pertinentInformation1", w + "/pertinentInformation2",
		w + "/pertinentInformation3", w + "/pertinentInformation5", w + "/author/AgentPersonSDS",
		w + "/author/AgentPersonSDS/id", w + "/author/AgentPersonSDS/agentPersonSDS", w + "/author/AgentPersonSDS/agentPersonSDS/id",
		w + "/pertinentInformation2/pertinentWithdrawType/value", w + "/pertinentInformation5/pertinentWithdrawReason/value",
		w + "/pertinentInformation4/pertinentDispenseNotificationRef", w + "/pertinentInformation4/pertinentDispenseNotificationRef/id",
	})
}

// TestWithdrawLastDispenseOneNotification: a withdraw of type LD (last
// dispense) names at most one dispense notification; Spine's schematron
// for PORX_IN510101UK31 faults one naming more ("only a single dispense
// notification ref may be provided", ErrorBase1634.UNABLE_TO_PROCESS), so
// porxgate refuses it too, naming the second reference. Before, porxgate
// sent EPS a withdraw of the first and kept the others in its own
// extension, where EPS never saw them. A withdraw of another type may name
// several (the schematron asks nothing of them), and one of type LD with a
// single reference is read as ever.
func TestWithdrawLastDispenseOneNotification(t *testing.T) {
	one := string(maptest.Testdata(t, "withdraw/withdraw-erd.xml"))
	ref := one[strings.Index(one, "<pertinentInformation4 "):]
	ref = ref[:strings.Index(ref, "</pertinentInformation4>")+len("</pertinentInformation4>")]
	if strings.Count(one, "<pertinentDispenseNotificationRef ") != 1 || !strings.Contains(one, `<value code="LD"`) {
		t.Fatal("fixture: want an LD withdraw naming one dispense notification")
	}
	two := strings.Replace(one, ref, ref+"\n        "+strings.Replace(ref, "A1000000-0000-4000-8000-000000000002", "A1000000-0000-4000-8000-000000000003", 1), 1)
	dispensetest.RunV3Errors(t, task.WithdrawToFHIR, two, []dispensetest.V3ErrorCase{
		{Name: "LD with two notifications", Old: "", New: two,
			Want: []string{"PORX_IN510101UK31", "ETPWithdraw/pertinentInformation4[2]", "only a single dispense notification"}},
	})
	other := strings.Replace(two, `<value code="LD" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.109" displayName="Last Dispense" />`,
		`<value code="AD" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.109" />`, 1)
	for name, msg := range map[string]string{"LD, one notification": one, "another type, two notifications": other} {
		t.Run(name, func(t *testing.T) {
			dispensetest.RoundTrip(t, task.WithdrawToFHIR, task.WithdrawToV3, []byte(msg))
		})
	}
}

// TestRepeatInstanceXSIType: a return's or withdraw's repeat instance is an
// INT observation value; an xsi:type naming that datatype, which Spine's
// schema validator takes (xmlns:xsi on the root), is taken and gives the
// message's own Task, and another datatype is refused with the datatype
// rule. Before, the reader refused any xsi:type there as an unexpected
// attribute.
func TestRepeatInstanceXSIType(t *testing.T) {
	const xsi = ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`
	tests := []struct {
		name, file, root, value string
		toFHIR                  func([]byte, core.Env) ([]byte, core.Meta, error)
	}{
		{"return", "return/return-erd.xml", `<PORX_IN100101UK31 xmlns="urn:hl7-org:v3">`, `<value value="2" />`, task.ReturnToFHIR},
		{"withdraw", "withdraw/withdraw-erd.xml", `<PORX_IN510101UK31 xmlns="urn:hl7-org:v3">`, `<value value="3" />`, task.WithdrawToFHIR},
	}
	for _, tt := range tests {
		msg := string(maptest.Testdata(t, tt.file))
		if !strings.Contains(msg, tt.root) || !strings.Contains(msg, tt.value) {
			t.Fatalf("%s: fixture lacks %q or %q", tt.file, tt.root, tt.value)
		}
		own, _, err := tt.toFHIR([]byte(msg), dispensetest.Env())
		if err != nil {
			t.Fatal(err)
		}
		msg = strings.Replace(msg, tt.root, strings.TrimSuffix(tt.root, ">")+xsi, 1)
		for _, typ := range []string{"INT", "PQ"} {
			t.Run(tt.name+" "+typ, func(t *testing.T) {
				typed := strings.Replace(msg, tt.value, strings.Replace(tt.value, "<value ", `<value xsi:type="`+typ+`" `, 1), 1)
				body, _, err := tt.toFHIR([]byte(typed), dispensetest.Env())
				if typ != "INT" {
					if err == nil || !strings.Contains(err.Error(), `pertinentRepeatInstanceInfo/value/@xsi:type: "PQ" is not allowed by the element's datatype (want INT) [MIM rule: datatype]`) {
						t.Fatalf("err = %v, want the datatype rule", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(body) != string(own) {
					t.Errorf("Task differs from the message's own:\n got %s\nwant %s", body, own)
				}
			})
		}
	}
}
