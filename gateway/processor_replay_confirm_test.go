package gateway

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/cancels/cancelstest"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// replayRig is the simulator upstream, a real Redis keeping EPS's answers,
// the processor, and a lossy one whose answers cannot be recorded (the
// process dies between EPS's answer and the record).
type replayRig struct {
	sim   *sim.Server
	p     *EPSProcessor
	lossy *EPSProcessor
	reg   *prometheus.Registry
}

func newReplayRig(t *testing.T, st store.Store, now func() time.Time) *replayRig {
	t.Helper()
	s, client := startSim(t)
	return newReplayRigOn(t, s, client, st, now)
}

func newReplayRigOn(t *testing.T, s *sim.Server, client *upstream.Client, st store.Store, now func() time.Time) *replayRig {
	t.Helper()
	r := &replayRig{sim: s, reg: prometheus.NewRegistry(),
		p:     NewEPSProcessor(mapping.NewRegistry(), client, now, nil, quietLog()).WithOutcomeLog(st, time.Hour),
		lossy: NewEPSProcessor(mapping.NewRegistry(), client, now, nil, quietLog()).WithOutcomeLog(&failSecondPut{OutcomeLog: st}, time.Hour)}
	if err := r.p.RegisterMetrics(r.reg); err != nil {
		t.Fatal(err)
	}
	return r
}

// nominatedReleaseFCG71 is the project's nominated release request
// (testdata/release) for the pharmacy FCG71, the nominated pharmacy of the
// prescriptions the tests send.
func nominatedReleaseFCG71(t *testing.T) []byte {
	t.Helper()
	fixture, err := os.ReadFile("../testdata/release/nominated-release-request-060102.xml")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.Replace(string(fixture), `extension="FQ202"`, `extension="FCG71"`, 1))
}

// in makes an ebXML inbound message with a fresh MessageId.
func replayIn(interaction string, payload []byte) *Inbound {
	return &Inbound{Transport: TransportEbXML, Interaction: interaction, MessageID: strings.ToUpper(ids.NewUUID()), Payload: payload}
}

// answer processes in and returns its one answer.
func (r *replayRig) answer(t *testing.T, in *Inbound) Answer {
	t.Helper()
	out, err := r.p.Process(context.Background(), in)
	if err != nil {
		t.Fatalf("%s: %v", in.Interaction, err)
	}
	if len(out.Answers) != 1 {
		t.Fatalf("%s: %d answers", in.Interaction, len(out.Answers))
	}
	return out.Answers[0]
}

// ack processes in and returns the MCCI typeCode.
func (r *replayRig) ack(t *testing.T, in *Inbound) string {
	t.Helper()
	return processedAck(t, r.p, in)
}

// lose processes in with the lossy processor: EPS applies it, its answer
// is not recorded.
func (r *replayRig) lose(t *testing.T, in *Inbound) {
	t.Helper()
	calls := r.sim.Stats().Requests
	before := calls["process-message"] + calls["task"] + calls["claim"]
	if _, err := r.lossy.Process(context.Background(), in); err == nil || !IsDeferred(err) {
		t.Fatalf("%s whose answer could not be recorded = %v, want deferred", in.Interaction, err)
	}
	calls = r.sim.Stats().Requests
	if calls["process-message"]+calls["task"]+calls["claim"] != before+1 {
		t.Fatalf("%s did not reach EPS", in.Interaction)
	}
}

// prescribeRelease has the fixture prescription (nominated to FCG71)
// prescribed and released to FCG71.
func (r *replayRig) prescribeRelease(t *testing.T) {
	t.Helper()
	payload, _ := legacyPrescription(t, rxFixture)
	if tc := r.ack(t, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	rel := r.answer(t, replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)))
	if !strings.Contains(string(rel.Payload), rxID) {
		t.Fatalf("release answered %s without the prescription", rel.Interaction)
	}
}

// dispensed also sends the not-dispensed notification and returns its
// dispense notification id.
func (r *replayRig) dispensed(t *testing.T) {
	t.Helper()
	r.prescribeRelease(t)
	if tc := r.ack(t, replayIn(v3.DispenseNotification, legacyNotDispensed(t))); tc != "AA" {
		t.Fatalf("dispense notification answered %s", tc)
	}
}

// legacyPartlyDispensed is the project's partial dispense notification
// (testdata/dispense/dn-partial-first.xml) for the fixture prescription,
// under a fresh transmission id.
func legacyPartlyDispensed(t *testing.T) []byte {
	t.Helper()
	s := strings.ReplaceAll(string(cancelstest.Testdata(t, "dispense/dn-partial-first.xml")), "7D4A21-0FH542-C1B00X", rxID)
	s = strings.ReplaceAll(s, "6C3D6F0E-2A1B-4E7C-9D55-0B1A2C3D4E11", cancelstest.RxLineItem)
	s = strings.ReplaceAll(s, "F0000000-0000-4000-8000-000000000002", strings.ToUpper(ids.NewUUID()))
	return []byte(s)
}

// answerOnceDeferred processes in until it is answered, as the inbox
// would after an answer lost on the wire surfaces as a deferral (at most 3
// times), and returns its one answer.
func (r *replayRig) answerOnceDeferred(t *testing.T, in *Inbound) Answer {
	t.Helper()
	for range 3 {
		out, err := r.p.Process(context.Background(), in)
		if err != nil && IsDeferred(err) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", in.Interaction, err)
		}
		if len(out.Answers) != 1 {
			t.Fatalf("%s: %d answers", in.Interaction, len(out.Answers))
		}
		return out.Answers[0]
	}
	t.Fatalf("%s never answered", in.Interaction)
	return Answer{}
}

// rxStatus is the simulator's status of the fixture prescription.
func (r *replayRig) rxStatus(t *testing.T) sim.PrescriptionStatus {
	t.Helper()
	p, ok := r.sim.State().Get(rxID)
	if !ok {
		t.Fatal("EPS does not hold the prescription")
	}
	return p.Status
}

// legacyClaim makes a Dispense Claim for the fixture prescription from FCG71.
func legacyClaim(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/claim/claim-exemption-evidence.xml")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), "7D4A21-0FH542-C1B00X", rxID))
}

// legacyWithdraw makes a Dispenser Withdraw of the fixture prescription's
// last dispense notification (dnID) by FCG71.
func legacyWithdraw(t *testing.T, dnID string) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/withdraw/withdraw-erd.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "7D4A21-0FH542-C1B00X", rxID)
	s = strings.Replace(s, `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE">
              <id extension="7654321"`, `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE">
              <id extension="FCG71"`, 1)
	s = strings.Replace(s, "A1000000-0000-4000-8000-000000000002", dnID, 1)
	return []byte(s)
}

// refusedUnderNewID processes in's payload again under a new MessageId
// (no earlier attempt of porxgate's): EPS's 202 Duplicate HL7 ID Error
// must stay a refusal, AR.
func (r *replayRig) refusedUnderNewID(t *testing.T, in *Inbound) {
	t.Helper()
	again := *in
	again.MessageID = strings.ToUpper(ids.NewUUID())
	if tc := r.ack(t, &again); tc != "AR" {
		t.Fatalf("%s's payload under a new MessageId answered %s, want AR (202: EPS took it, not from this attempt)", in.Interaction, tc)
	}
}

// replayCount reads porxgate_replays_total for interaction and source.
func replayCount(t *testing.T, reg *prometheus.Registry, interaction, source string) float64 {
	t.Helper()
	return labelledCounter(t, reg, "porxgate_replays_total", map[string]string{"interaction": interaction, "source": source})
}

// labelledCounter gathers reg and returns the counter name with labels (0
// when absent).
func labelledCounter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestLostAnswerReplayConfirmed: for each of prescription-order, claim,
// return, withdrawal and cancellation, EPS processes the message, its
// answer is lost (the process dies before recording it), and the message
// is processed again: EPS refuses the repeat as a message it took already
// (400, Spine's 202 Duplicate HL7 ID Error: the same Bundle, Claim or Task
// identifier), porxgate confirms through the tracker that EPS holds what
// the first sending did, and answers as the first processing would have —
// AA, or the Cancel Response with R-0001 (R-0002 for a cancellation left
// pending with the dispenser) — never the refusal. The same payload under
// a new MessageId (no earlier attempt of porxgate's: another system's use
// of the HL7 id, as far as porxgate can tell) stays refused, AR 202, as
// EPS refuses it. Before, porxgate confirmed these only from the state
// refusals (already claimed, R-0006…) and passed EPS's 202 on: AR, a false
// rejection.
func TestLostAnswerReplayConfirmed(t *testing.T) {
	st, _ := redisStore(t)
	t.Run("claim", func(t *testing.T) {
		r := newReplayRig(t, st, nil)
		r.dispensed(t)
		claim := replayIn(v3.DispenseClaimInformation, legacyClaim(t))
		r.lose(t, claim)
		if got := r.rxStatus(t); got != sim.StatusClaimed {
			t.Fatalf("EPS holds the prescription %s after the lost claim, want claimed", got)
		}
		if tc := r.ack(t, claim); tc != "AA" {
			t.Fatalf("replayed claim answered %s, want AA (EPS applied it)", tc)
		}
		if tc := r.ack(t, claim); tc != "AA" {
			t.Fatalf("second replay answered %s, want AA from the record", tc)
		}
		r.refusedUnderNewID(t, claim)
		if c := replayCount(t, r.reg, v3.DispenseClaimInformation, replayConfirmed); c != 1 {
			t.Errorf("confirmed claim replays counted %v, want 1", c)
		}
		if c := replayCount(t, r.reg, v3.DispenseClaimInformation, replayRecorded); c != 1 {
			t.Errorf("recorded claim replays counted %v, want 1", c)
		}
	})
	t.Run("return", func(t *testing.T) {
		r := newReplayRig(t, st, nil)
		r.prescribeRelease(t)
		ret := replayIn(v3.DispenseProposalReturn, legacyReturn(t, rxID))
		r.lose(t, ret)
		if got := r.rxStatus(t); got != sim.StatusToBeDispensed {
			t.Fatalf("EPS holds the prescription %s after the lost return", got)
		}
		if tc := r.ack(t, ret); tc != "AA" {
			t.Fatalf("replayed return answered %s, want AA (EPS applied it)", tc)
		}
		r.refusedUnderNewID(t, ret)
	})
	t.Run("withdraw", func(t *testing.T) {
		r := newReplayRig(t, st, nil)
		r.dispensed(t)
		held, _ := r.sim.State().Get(rxID)
		if len(held.Dispenses) != 1 {
			t.Fatalf("EPS holds %d dispenses", len(held.Dispenses))
		}
		wd := replayIn(v3.DispenserWithdraw, legacyWithdraw(t, held.Dispenses[0].ID))
		r.lose(t, wd)
		if got := r.rxStatus(t); got != sim.StatusWithDispenser {
			t.Fatalf("EPS holds the prescription %s after the lost withdrawal, want with dispenser", got)
		}
		if tc := r.ack(t, wd); tc != "AA" {
			t.Fatalf("replayed withdrawal answered %s, want AA (EPS applied it)", tc)
		}
		r.refusedUnderNewID(t, wd)
	})
	t.Run("cancel", func(t *testing.T) {
		r := newReplayRig(t, st, nil)
		payload, _ := legacyPrescription(t, rxFixture)
		if tc := r.ack(t, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription answered %s", tc)
		}
		cancel := replayIn(v3.CancelRequest, legacyCancel(t, rxFixture))
		r.lose(t, cancel)
		if got := r.rxStatus(t); got != sim.StatusCancelled {
			t.Fatalf("EPS holds the prescription %s after the lost cancellation", got)
		}
		a := r.answer(t, cancel)
		if a.Interaction != v3.CancelResponse || cancelCodeOf(t, a.Payload) != "0001" {
			t.Fatalf("replayed cancellation answered %s code %s, want a Cancel Response 0001 (cancelled)", a.Interaction, cancelCodeOf(t, a.Payload))
		}
		again := *cancel
		again.MessageID = strings.ToUpper(ids.NewUUID())
		if a := r.answer(t, &again); a.Interaction != v3.ApplicationAcknowledgement {
			t.Fatalf("the cancellation's payload under a new MessageId answered %s, want an MCCI AR (202)", a.Interaction)
		} else if tc, _ := ackOf(t, a.Payload); tc != "AR" {
			t.Fatalf("the cancellation's payload under a new MessageId answered %s, want AR (202)", tc)
		}
		if c := replayCount(t, r.reg, v3.CancelRequest, replayConfirmed); c != 1 {
			t.Errorf("confirmed cancel replays counted %v, want 1", c)
		}
	})
	t.Run("pending cancel", func(t *testing.T) {
		r := newReplayRig(t, st, nil)
		r.prescribeRelease(t)
		cancel := replayIn(v3.CancelRequest, legacyCancel(t, rxFixture))
		r.lose(t, cancel)
		if held, _ := r.sim.State().Get(rxID); !held.Items[0].CancelPending {
			t.Fatal("EPS holds no pending cancellation after the lost cancellation")
		}
		a := r.answer(t, cancel)
		if a.Interaction != v3.CancelResponse || cancelCodeOf(t, a.Payload) != "0002" {
			t.Fatalf("replayed cancellation answered %s, want a Cancel Response 0002 (pending with the dispenser)", a.Interaction)
		}
	})
	t.Run("prescription-order", func(t *testing.T) {
		r := newReplayRig(t, st, nil)
		payload, _ := legacyPrescription(t, rxFixture)
		order := replayIn(v3.ParentPrescription, payload)
		r.lose(t, order)
		if tc := r.ack(t, order); tc != "AA" {
			t.Fatalf("replayed prescription answered %s, want AA (EPS holds it)", tc)
		}
		r.refusedUnderNewID(t, order)
		if r.sim.State().Len() != 1 {
			t.Fatalf("EPS holds %d prescriptions, want 1", r.sim.State().Len())
		}
	})
}

// TestReplayRefusalStandsWhenStatePredatesAttempt: when the state EPS
// holds was reached before porxgate's first attempt (the tracker's
// lastModified, here porxgate's clock 10 minutes ahead of the attempt), a
// refused replay was refused the first time too: the refusal stands and
// is counted as refused.
func TestReplayRefusalStandsWhenStatePredatesAttempt(t *testing.T) {
	st, _ := redisStore(t)
	r := newReplayRig(t, st, nil)
	payload, _ := legacyPrescription(t, rxFixture) // to be dispensed: never with FCG71
	if tc := r.ack(t, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	s, client := r.sim, r.p.api.(*upstream.Client)
	late := newReplayRigOn(t, s, client, st, func() time.Time { return time.Now().Add(10 * time.Minute) })
	ret := replayIn(v3.DispenseProposalReturn, legacyReturn(t, rxID))
	late.lose(t, ret) // EPS refuses it; the refusal is not recorded
	if tc := processedAck(t, late.p, ret); tc == "AA" {
		t.Fatal("a return EPS refused the first time was answered AA on its replay")
	}
	if c := replayCount(t, late.reg, v3.DispenseProposalReturn, replayRefused); c != 1 {
		t.Errorf("refused replays counted %v, want 1", c)
	}
}

// TestDroppedAnswerConfirmed: EPS processes a message and drops the
// connection without answering (the answer lost on the wire, not in
// porxgate); whether the upstream client's retry or a later processing
// sends it again, EPS refuses the repeat — a claim as already claimed, a
// partial dispense notification as a message it already has (202
// Duplicate HL7 ID Error) — and porxgate answers AA after the tracker
// confirms it; EPS holds what the message did, once. (Before the simulator
// refused a dispense notification sent again, it applied the partial
// dispense twice.)
func TestDroppedAnswerConfirmed(t *testing.T) {
	st, _ := redisStore(t)
	tests := []struct {
		name      string
		setup     func(r *replayRig, t *testing.T)
		op        string
		in        func(t *testing.T) *Inbound
		status    sim.PrescriptionStatus
		dispenses int
	}{
		{"claim", (*replayRig).dispensed, "claim",
			func(t *testing.T) *Inbound { return replayIn(v3.DispenseClaimInformation, legacyClaim(t)) }, sim.StatusClaimed, 1},
		{"partial dispense notification", (*replayRig).prescribeRelease, "process-message",
			func(t *testing.T) *Inbound { return replayIn(v3.DispenseNotification, legacyPartlyDispensed(t)) }, sim.StatusWithDispenserActive, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReplayRig(t, st, nil)
			tt.setup(r, t)
			r.sim.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{tt.op}})
			if tc, _ := ackOf(t, r.answerOnceDeferred(t, tt.in(t)).Payload); tc != "AA" {
				t.Fatalf("%s whose answer EPS dropped answered %s, want AA", tt.name, tc)
			}
			held, _ := r.sim.State().Get(rxID)
			if r.sim.Stats().FaultsInjected != 1 || held.Status != tt.status || len(held.Dispenses) != tt.dispenses {
				t.Fatalf("faults %d; EPS holds the prescription %s with %d dispense notifications, want %s with %d",
					r.sim.Stats().FaultsInjected, held.Status, len(held.Dispenses), tt.status, tt.dispenses)
			}
		})
	}
}

// TestReleaseRecoveryCounted: a nominated release whose answer EPS drops
// is recovered and counted porxgate_release_recoveries_total{result="recovered"}.
func TestReleaseRecoveryCounted(t *testing.T) {
	st, _ := redisStore(t)
	r := newReplayRig(t, st, nil)
	payload, _ := legacyPrescription(t, rxFixture)
	if tc := r.ack(t, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	rel := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	r.sim.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
	for range 3 {
		out, err := r.p.Process(context.Background(), rel)
		if err == nil {
			if len(out.Answers) != 1 || !strings.Contains(string(out.Answers[0].Payload), rxID) {
				t.Fatal("release whose answer EPS dropped did not deliver the prescription")
			}
			break
		}
		if !IsDeferred(err) {
			t.Fatal(err)
		}
	}
	if c := labelledCounter(t, r.reg, "porxgate_release_recoveries_total", map[string]string{"result": recoveryRecovered}); c != 1 {
		t.Errorf("recoveries counted %v, want 1", c)
	}
}

// TestConfirmReaders: the readers of the claim, return/withdraw Task and
// EPS cancel answer porxgate confirms refuse malformed input, and read
// well-formed input.
func TestConfirmReaders(t *testing.T) {
	claim := `{"resourceType":"Claim","prescription":{"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-GroupIdentifier",` +
		`"extension":[{"url":"shortForm","valueIdentifier":{"value":"aaaaaa-a99968-00001a"}}]}]}}`
	if sf, err := sentClaim([]byte(claim)); err != nil || sf != "AAAAAA-A99968-00001A" {
		t.Errorf("sentClaim = %q, %v", sf, err)
	}
	task := `{"resourceType":"Task","groupIdentifier":{"value":"aaaaaa-a99968-00001a"},"owner":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"FCG71"}}}`
	if sf, disp, err := sentTask([]byte(task)); err != nil || sf != "AAAAAA-A99968-00001A" || disp != "FCG71" {
		t.Errorf("sentTask = %q %q, %v", sf, disp, err)
	}
	for _, bad := range []string{"", "{", `{"resourceType":"Claim"}`, `{"resourceType":"Claim","prescription":{}}`,
		`{"resourceType":"Task"}`, `{"resourceType":"Task","groupIdentifier":{}}`, `{"resourceType":"Bundle"}`, `[]`} {
		if _, err := sentClaim([]byte(bad)); err == nil {
			t.Errorf("sentClaim(%q) succeeded", bad)
		}
		if _, _, err := sentTask([]byte(bad)); err == nil {
			t.Errorf("sentTask(%q) succeeded", bad)
		}
	}
	tests := []struct {
		name, body string
		want       int
	}{
		{"not JSON", "{", 0},
		{"no entries", `{"resourceType":"Bundle"}`, 0},
		{"entry not an object", `{"resourceType":"Bundle","entry":[7,"x",null]}`, 0},
		{"no status history", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","identifier":[{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"i1"}]}}]}`, 0},
		{"one R-0006 item", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","groupIdentifier":{"value":"x"},` +
			`"identifier":[{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"i1"}],` +
			`"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory","extension":[{"url":"status","valueCoding":{"code":"R-0006"}}]}]}}]}`, 1},
	}
	for _, tt := range tests {
		var doc map[string]any
		_ = json.Unmarshal([]byte(tt.body), &doc)
		if got, _ := cancelCodings(doc, cancelHistoryAlready); len(got) != tt.want {
			t.Errorf("%s: %d R-0006 items, want %d", tt.name, len(got), tt.want)
		}
	}
}

// TestReachedSince: a tracker state modified before porxgate's attempt
// (beyond the clock allowance) was not reached by it; unknown times do not
// refuse.
func TestReachedSince(t *testing.T) {
	at := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, lastModified string
		attempt            time.Time
		want               bool
	}{
		{"after the attempt", "2026-01-02T10:00:05+00:00", at, true},
		{"within the clock allowance", "2026-01-02T09:59:00+00:00", at, true},
		{"before the attempt", "2026-01-02T09:50:00+00:00", at, false},
		{"no attempt time (older record)", "2026-01-02T09:50:00+00:00", time.Time{}, true},
		{"no lastModified", "", at, true},
		{"unreadable lastModified", "yesterday", at, true},
	}
	for _, tt := range tests {
		if got := reachedSince(cancels.TrackerView{LastModified: tt.lastModified}, tt.attempt); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzConfirmReaders: the confirmation readers never panic.
func FuzzConfirmReaders(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Claim","prescription":{"extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-GroupIdentifier","extension":[{"url":"shortForm","valueIdentifier":{"value":"x"}}]}]}}`))
	f.Add([]byte(`{"resourceType":"Task","groupIdentifier":{"value":"x"},"contained":[{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"FCG71"}]}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionStatusHistory","extension":[{"url":"status","valueCoding":7}]}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = sentClaim(b)
		_, _, _ = sentTask(b)
		var doc map[string]any
		if json.Unmarshal(b, &doc) == nil {
			_, _ = cancelCodings(doc, "")
			_, _ = cancelCodings(doc, cancelHistoryAlready)
		}
	})
}
