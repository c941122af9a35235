package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// epsFatal is the EPS API's answer to a request its translation throws on
// (coordinator utils/server-extensions.ts fatalResponse, HTTP 500).
const epsFatal = `{"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"exception","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/http-error-codes","code":"SERVER_ERROR","display":"500: The Server has encountered an error processing the request."}]}}]}`

// failingEPS runs, on a loopback socket, an EPS whose tracker knows no
// prescription and that fails every other request with HTTP 500 as the EPS API fails one its translation cannot read, and
// returns a client pointed at it and the count of requests it was posted
// (Tasks, Claims, $release and $process-message).
func failingEPS(t *testing.T) (*upstream.Client, *atomic.Int64) {
	t.Helper()
	var tasks atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			tasks.Add(1)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.Method == http.MethodGet { // the tracker: a claim's patient is looked up first
			_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","total":0}`))
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(epsFatal))
	}))
	t.Cleanup(srv.Close)
	c, err := upstream.New(upstream.Config{BaseURL: srv.URL + "/FHIR/R4",
		Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, &tasks
}

// TestTaskEPSCannotTakeRefusedAtOnce: a return without reversalOf, a
// withdraw without its dispense notification reference, a withdraw whose
// author is an SDS user id, and a return or claim whose dispenser
// (AgentPerson) has no telecom, and a dispense notification or release
// request from such a dispenser, are MIM-conformant, but the EPS API's
// translations fail on each with HTTP 500 every time. They are
// answered at once with an MCCI AE 5000 naming the element EPS needs, and
// never sent to EPS (where they would wait an hour for the poison rule and
// the sender would hear nothing). A return, a withdraw, a claim, a dispense
// notification and a release request EPS can take still reach it.
func TestTaskEPSCannotTakeRefusedAtOnce(t *testing.T) {
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	withdrawByODS := strings.Replace(read("withdraw/withdraw-erd.xml"), `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE">
              <id extension="7654321"`, `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE">
              <id extension="FCG71"`, 1)
	noRef := regexp.MustCompile(`(?s)\s*<pertinentInformation4 .*?</pertinentInformation4>`)
	// The dispenser's own telecom: the first telecom after its job role code.
	noTelecom := func(v3msg string) string {
		t.Helper()
		re := regexp.MustCompile(`(codeSystem="1\.2\.826\.0\.1285\.0\.2\.1\.104" ?/>)\s*<telecom [^>]*/>`)
		out := re.ReplaceAllString(v3msg, "$1")
		if out == v3msg {
			t.Fatal("fixture has no dispenser telecom")
		}
		return out
	}
	cases := []struct {
		name, interaction, payload string
		// element is the v3 element the refusal names; "" when EPS is called.
		element string
	}{
		{"return without reversalOf", v3.DispenseProposalReturn, read("return/return-no-reversal.xml"), "DispenseProposalReturn/reversalOf"},
		{"withdraw without dispense notification ref", v3.DispenserWithdraw, noRef.ReplaceAllString(withdrawByODS, ""), "ETPWithdraw/pertinentInformation4"},
		{"withdraw by SDS user id", v3.DispenserWithdraw, read("withdraw/withdraw-erd.xml"), "ETPWithdraw/author/AgentPersonSDS/agentPersonSDS/id"},
		{"return by a dispenser without telecom", v3.DispenseProposalReturn, noTelecom(read("return/return-erd.xml")), "DispenseProposalReturn/author/AgentPerson/telecom"},
		{"claim by a dispenser without telecom", v3.DispenseClaimInformation, noTelecom(read("claim/claim-nothing-dispensed.xml")), "legalAuthenticator/AgentPerson/telecom"},
		{"dispense notification by a dispenser without telecom", v3.DispenseNotification, noTelecom(read("dispense/dn-full-two-items.xml")),
			"DispenseNotification/pertinentInformation1/pertinentSupplyHeader/author/AgentPerson/telecom"},
		{"dispense notification with an owing item without supply", v3.DispenseNotification, read("dispense/dn-owing.xml"),
			"DispenseNotification/pertinentInformation1/pertinentSupplyHeader/pertinentInformation1/pertinentSuppliedLineItem/component"},
		{"nominated release by a dispenser without telecom", v3.NominatedReleaseRequest, noTelecom(read("release/nominated-release-request-060102.xml")),
			"NominatedPrescriptionReleaseRequest/author/AgentPerson/telecom"},
		{"return with reversalOf", v3.DispenseProposalReturn, read("return/return-erd.xml"), ""},
		{"dispense notification", v3.DispenseNotification, read("dispense/dn-full-two-items.xml"), ""},
		{"nominated release", v3.NominatedReleaseRequest, read("release/nominated-release-request-060102.xml"), ""},
		{"withdraw by ODS code", v3.DispenserWithdraw, withdrawByODS, ""},
		{"claim", v3.DispenseClaimInformation, read("claim/claim-nothing-dispensed.xml"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, tasks := failingEPS(t)
			p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
			out, err := p.Process(context.Background(), replayIn(tc.interaction, []byte(tc.payload)))
			if tc.element == "" {
				if err == nil || !IsDeferred(err) || tasks.Load() == 0 {
					t.Fatalf("Process = %+v, %v after %d requests sent; want EPS called and the message deferred", out, err, tasks.Load())
				}
				return
			}
			if err != nil {
				t.Fatalf("Process: %v (%d requests sent to EPS)", err, tasks.Load())
			}
			if n := tasks.Load(); n != 0 {
				t.Errorf("%d requests sent to EPS, want none", n)
			}
			if len(out.Answers) != 1 || out.Answers[0].Interaction != v3.ApplicationAcknowledgement {
				t.Fatalf("outcome %+v, want one MCCI answer", out)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(out.Answers[0].Payload); err != nil {
				t.Fatal(err)
			}
			if tc, _ := ackOf(t, out.Answers[0].Payload); tc != "AE" {
				t.Errorf("typeCode %s, want AE", tc)
			}
			code := doc.FindElement("//justifyingDetectedIssueEvent/code")
			if code == nil {
				t.Fatalf("no reason code in\n%s", out.Answers[0].Payload)
			}
			if got := code.SelectAttrValue("codeSystem", "") + " " + code.SelectAttrValue("code", ""); got != v3.OIDDispenseErrorCode+" 5000" {
				t.Errorf("reason %s, want %s 5000", got, v3.OIDDispenseErrorCode)
			}
			if d := code.SelectAttrValue("displayName", ""); !strings.Contains(d, tc.element) || !strings.Contains(d, "EPS") {
				t.Errorf("displayName %q does not name %s and EPS", d, tc.element)
			}
		})
	}
}

// TestWithdrawTypeEPSCannotSay: a withdraw of a type other than LD (last
// dispense), which Spine's schematron takes, is answered at once with an
// MCCI AE 5000 naming the withdraw type, and EPS (the simulator) keeps the
// dispense. Before, EPS was sent the Task, wrote it to Spine as LD of the
// notification named and answered AA: the sender was told its withdraw was
// done when another one was.
func TestWithdrawTypeEPSCannotSay(t *testing.T) {
	r := newReplayRig(t, newMemoryStore(), nil)
	r.dispensed(t)
	held, _ := r.sim.State().Get(rxID)
	if len(held.Dispenses) != 1 {
		t.Fatalf("EPS holds %d dispenses", len(held.Dispenses))
	}
	ld := `<value code="LD" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.109" displayName="Last Dispense" />`
	payload := string(legacyWithdraw(t, held.Dispenses[0].ID))
	other := strings.Replace(payload, ld, `<value code="ZZ" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.109" displayName="a type other than Last Dispense" />`, 1)
	if other == payload {
		t.Fatal("withdraw fixture is not of type LD")
	}
	a := r.answer(t, replayIn(v3.DispenserWithdraw, []byte(other)))
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(a.Payload); err != nil {
		t.Fatal(err)
	}
	if tc, _ := ackOf(t, a.Payload); tc != "AE" {
		t.Errorf("withdraw of type ZZ answered %s, want AE", tc)
	}
	code := doc.FindElement("//justifyingDetectedIssueEvent/code")
	if code == nil || code.SelectAttrValue("code", "") != "5000" || !strings.Contains(code.SelectAttrValue("displayName", ""), "pertinentWithdrawType") {
		t.Errorf("reason %v, want 5000 naming pertinentWithdrawType\n%s", code, a.Payload)
	}
	if held, _ := r.sim.State().Get(rxID); len(held.Dispenses) != 1 {
		t.Errorf("EPS holds %d dispenses after the refused withdraw, want 1 (nothing withdrawn)", len(held.Dispenses))
	}
}
