package gateway

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// releaseAnswerJSON is a $release answer with the given prescription
// Bundles (raw) as passedPrescriptions.
func releaseAnswerJSON(prescriptions ...string) string {
	var entries []string
	for _, p := range prescriptions {
		entries = append(entries, `{"fullUrl":"urn:uuid:x","resource":`+p+`}`)
	}
	return `{"resourceType":"Parameters","id":"p1","parameter":[` +
		`{"name":"passedPrescriptions","resource":{"resourceType":"Bundle","type":"searchset","total":` + strconv.Itoa(len(entries)) + `,"entry":[` + strings.Join(entries, ",") + `]}},` +
		`{"name":"failedPrescriptions","resource":{"resourceType":"Bundle","type":"searchset","total":0,"entry":[]}}]}`
}

// prescriptionJSON is a prescription-order Bundle with one line item.
func prescriptionJSON(shortForm, item string) string {
	return `{"resourceType":"Bundle","type":"message","entry":[{"resource":{"resourceType":"MedicationRequest",` +
		`"groupIdentifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"` + shortForm + `"},` +
		`"identifier":[{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"` + item + `"}],` +
		`"dispenseRequest":{"performer":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"FCG71"}},"quantity":{"value":1.50}}}}]}`
}

// TestReleaseAnswerParsing: released ids, merging (values byte for byte)
// and malformed answers.
func TestReleaseAnswerParsing(t *testing.T) {
	a := prescriptionJSON("AAAAAA-A99968-00001A", "i1")
	b := prescriptionJSON("BBBBBB-A99968-00002B", "i2")
	if got := releasedIDs([]byte(releaseAnswerJSON(a))); !slices.Equal(got, []string{"AAAAAA-A99968-00001A"}) {
		t.Errorf("releasedIDs = %v", got)
	}
	doc, err := parseReleaseAnswer([]byte(releaseAnswerJSON(a)))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := parseReleaseAnswer([]byte(releaseAnswerJSON(b)))
	more, _, _ := other.passed()
	merged, err := doc.addPassed(more)
	if err != nil {
		t.Fatal(err)
	}
	if got := releasedIDs(merged); !slices.Equal(got, []string{"AAAAAA-A99968-00001A", "BBBBBB-A99968-00002B"}) {
		t.Errorf("merged ids = %v", got)
	}
	if !strings.Contains(string(merged), `"value":1.50`) || !strings.Contains(string(merged), `"total":2`) {
		t.Errorf("merge changed values or total:\n%s", merged)
	}
	if ods := nominatedPharmacy([]byte(a)); ods != "FCG71" {
		t.Errorf("nominated pharmacy %q", ods)
	}
	req := `{"resourceType":"Parameters","parameter":[{"name":"owner","resource":{"resourceType":"Organization","identifier":[{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"FCG71"}]}}]}`
	if o := releaseOwner([]byte(req)); o != "FCG71" {
		t.Errorf("owner %q", o)
	}
	pr := string(withGroupIdentifier([]byte(req), "AAAAAA-A99968-00001A"))
	if !strings.Contains(pr, `"name":"group-identifier"`) || releaseOwner([]byte(pr)) != "FCG71" {
		t.Errorf("patient release = %s", pr)
	}
	for _, bad := range []string{"", "{", `{"parameter":5}`, `{"resourceType":"OperationOutcome"}`, `{"parameter":[{"name":"passedPrescriptions","resource":7}]}`} {
		if ids := releasedIDs([]byte(bad)); len(ids) != 0 {
			t.Errorf("releasedIDs(%q) = %v", bad, ids)
		}
		if d, err := parseReleaseAnswer([]byte(bad)); err == nil {
			if _, err := d.addPassed(nil); err == nil && !strings.Contains(bad, "passedPrescriptions") {
				t.Errorf("addPassed on %q succeeded", bad)
			}
		}
		if releaseOwner([]byte(bad)) != "" || nominatedPharmacy([]byte(bad)) != "" {
			t.Errorf("owner or pharmacy read from %q", bad)
		}
	}
}

// FuzzReleaseAnswer: the release-answer readers never panic, and a merge
// keeps every id already released.
func FuzzReleaseAnswer(f *testing.F) {
	f.Add([]byte(releaseAnswerJSON(prescriptionJSON("AAAAAA-A99968-00001A", "i1"))))
	f.Add([]byte(`{"parameter":[{"name":"passedPrescriptions","resource":{"entry":[{"resource":{}}]}}]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ids := releasedIDs(b)
		_ = releaseOwner(b)
		_ = nominatedPharmacy(b)
		_ = withGroupIdentifier(b, "X")
		d, err := parseReleaseAnswer(b)
		if err != nil {
			return
		}
		merged, err := d.addPassed(nil)
		if err != nil {
			return
		}
		if got := releasedIDs(merged); len(got) != len(ids) {
			t.Errorf("merge changed the released ids: %v → %v", ids, got)
		}
	})
}

// TestNominationAdditionMatchesBundle: the narrow decode that indexes a
// nomination finds what the whole Bundle decode finds, on every
// prescription the project has, and nothing in what is not one.
func TestNominationAdditionMatchesBundle(t *testing.T) {
	files, err := filepath.Glob("../testdata/prescribe/*.json")
	files = append(files, "../internal/loadgen/prescription.json")
	if err != nil || len(files) == 1 {
		t.Fatalf("no prescriptions: %v", err)
	}
	nominated := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, wantOK := "", false
		if b, err := fhir.ParseBundle(raw); err == nil {
			if sp, err := sentPrescriptionIn(b); err == nil {
				if ods := nominatedIn(b); ods != "" {
					want, wantOK = nominationSet(ods)+" "+sp.ShortFormID, true
				}
			}
		}
		a, ok := nominationAddition(raw)
		got := ""
		if ok {
			got = a.Set + " " + strings.Join(a.Members, ",")
		}
		if ok != wantOK || got != want {
			t.Errorf("%s: nominationAddition = %q (%v), want %q (%v)", filepath.Base(f), got, ok, want, wantOK)
		}
		if ok {
			nominated++
		}
	}
	if nominated == 0 {
		t.Error("no nominated prescription among the fixtures: the test checks nothing")
	}
	for _, bad := range []string{``, `{`, `{"entry":[{"resource":{"resourceType":"MedicationRequest"}}]}`, `[]`} {
		if a, ok := nominationAddition([]byte(bad)); ok {
			t.Errorf("nominationAddition(%q) = %+v", bad, a)
		}
	}
}

// TestReleaseRecoveryDeliversOnlyWhatThisReleaseReleased: a prescription
// porxgate submitted, nominated to FCG71, was released to FCG71 an hour
// ago by another path (the pharmacy's other system talking to EPS
// directly, or a release whose delivery porxgate could not take off the
// nominations). A nominated release through porxgate then loses its answer
// (the simulator drops it after releasing): the recovery must deliver what
// that release released, not the prescription the pharmacy downloaded an
// hour before it — that would be a second delivery of one prescription.
func TestReleaseRecoveryDeliversOnlyWhatThisReleaseReleased(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, p, "F0000000-0000-4000-8000-000000000001")
	const earlier = "C1D2E3-A99968-00A1BM"
	if _, err := s.State().Release(sim.ReleaseRequest{Owner: "FCG71", ShortFormID: earlier}, time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("release by the other path: %v", err)
	}
	in := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: "F0000000-0000-4000-8000-000000000002",
		Payload: nominatedReleaseFCG71(t)}
	s.SetFaults(sim.Faults{DropAfter: 1})
	var out *Outcome
	for range 3 { // a lost answer may surface as an error first: processed again, as the inbox would
		o, err := p.Process(context.Background(), in)
		if err == nil {
			out = o
			break
		}
		if !IsDeferred(err) {
			t.Fatalf("release: %v", err)
		}
	}
	if out == nil {
		t.Fatal("release never answered")
	}
	if s.Stats().FaultsInjected != 1 {
		t.Fatalf("faults injected %d, want 1 (the dropped answer)", s.Stats().FaultsInjected)
	}
	for _, a := range out.Answers {
		if strings.Contains(string(a.Payload), earlier) {
			t.Fatalf("the release delivered %s, which the pharmacy downloaded an hour before this release", earlier)
		}
	}
}

// failingTracker is the simulator's client with its tracker unreachable.
type failingTracker struct{ *upstream.Client }

func (failingTracker) TrackerGet(context.Context, url.Values) (*upstream.Response, error) {
	return nil, errors.New("EPS tracker: connection reset")
}

// TestReleaseRecoveryTrackerDownIsAFailure: a nominated release loses its
// answer after EPS released the prescription, and the EPS tracker cannot
// be asked during the recovery. The prescription is now with the pharmacy,
// which never saw it: the recovery failed, and must say so (metric result
// "failed", an error line naming the prescription and the dispenser) rather
// than count it as "nothing to recover" in silence.
func TestReleaseRecoveryTrackerDownIsAFailure(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	reg := prometheus.NewRegistry()
	p := NewEPSProcessor(mapping.NewRegistry(), failingTracker{client}, nil, nil, log).WithOutcomeLog(st, time.Hour)
	if err := p.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	submitNominated(t, p, "F1000000-0000-4000-8000-000000000001")
	in := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: "F1000000-0000-4000-8000-000000000002",
		Payload: nominatedReleaseFCG71(t)}
	s.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
	for range 3 {
		if _, err := p.Process(context.Background(), in); err == nil {
			break
		} else if !IsDeferred(err) {
			t.Fatalf("release: %v", err)
		}
	}
	if rx, ok := s.State().Get("C1D2E3-A99968-00A1BM"); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v", rx)
	}
	if c := labelledCounter(t, reg, "porxgate_release_recoveries_total", map[string]string{"result": recoveryFailed}); c != 1 {
		t.Errorf("failed recoveries counted %v, want 1 (none: %v)", c,
			labelledCounter(t, reg, "porxgate_release_recoveries_total", map[string]string{"result": recoveryNone}))
	}
	if !strings.Contains(logs.String(), "C1D2E3-A99968-00A1BM") || !strings.Contains(logs.String(), "FCG71") {
		t.Errorf("no log line names the prescription that may be stranded with FCG71:\n%s", logs.String())
	}
}

// TestReleaseCrashBeforeRecordRecovered: EPS released the nominated
// prescription and answered, but the gateway could not record the answer
// (a crash between EPS's answer and the store's write). The message
// processed again is answered with the prescription — recovered, not an
// empty release — and a second replay answers from the record without a
// second delivery elsewhere.
func TestReleaseCrashBeforeRecordRecovered(t *testing.T) {
	st, _ := redisStore(t)
	r := newReplayRig(t, st, nil)
	payload, _ := legacyPrescription(t, rxFixture)
	if tc := r.ack(t, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	rel := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	if _, err := r.lossy.Process(context.Background(), rel); err == nil || !IsDeferred(err) {
		t.Fatalf("release whose answer could not be recorded = %v, want deferred", err)
	}
	if rx, ok := r.sim.State().Get(rxID); !ok || rx.Dispenser != "FCG71" {
		t.Fatalf("EPS holds %+v", rx)
	}
	for i := range 2 {
		a := r.answer(t, rel)
		if a.Interaction != v3.NominatedReleaseResponse || !strings.Contains(string(a.Payload), rxID) {
			t.Fatalf("replay %d answered %s without the prescription EPS released: stranded", i+1, a.Interaction)
		}
	}
	other := r.answer(t, replayIn(v3.NominatedReleaseRequest, rel.Payload))
	if strings.Contains(string(other.Payload), rxID) {
		t.Error("a later nominated release delivered the prescription again")
	}
}

// TestReleaseRecoveryPrunesTheIndex: the nomination index holds every
// prescription porxgate submitted nominated to a pharmacy until a release
// answer delivers it, and each recovery asks the EPS tracker about every
// member. A prescription that can no longer be released to the pharmacy
// (cancelled before its release, expired) was never delivered, so it
// stayed in the index for good (its set's TTL is renewed by every new
// nomination), and every later recovery asked about it again. A recovery
// that finds such a prescription takes it off the index.
func TestReleaseRecoveryPrunesTheIndex(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	submitNominated(t, p, "F2000000-0000-4000-8000-000000000001")
	const expired = "C1D2E3-A99968-00A1BM"
	if err := s.State().Expire(expired, time.Now()); err != nil {
		t.Fatalf("expire on EPS: %v", err)
	}
	ix := st.(ReleaseIndex)
	if m, _ := ix.SetMembers(context.Background(), nominationSet("FCG71")); len(m) != 1 {
		t.Fatalf("index holds %v, want the prescription", m)
	}
	in := &Inbound{Transport: TransportEbXML, Interaction: v3.NominatedReleaseRequest, MessageID: "F2000000-0000-4000-8000-000000000002",
		Payload: nominatedReleaseFCG71(t)}
	s.SetFaults(sim.Faults{DropAfter: 1, Ops: []string{"release"}})
	for range 3 {
		if _, err := p.Process(context.Background(), in); err == nil {
			break
		} else if !IsDeferred(err) {
			t.Fatalf("release: %v", err)
		}
	}
	if s.Stats().FaultsInjected != 1 {
		t.Fatalf("faults injected %d, want 1", s.Stats().FaultsInjected)
	}
	if m, err := ix.SetMembers(context.Background(), nominationSet("FCG71")); err != nil || len(m) != 0 {
		t.Errorf("after the recovery the index still holds %v (%v): an expired prescription is asked about in every later recovery", m, err)
	}
}

// TestRefusedPrescriptionLeavesNoNomination: a prescription EPS refuses
// at its first sending is not stored by EPS and can never be released, so
// the nomination noted for it before the call is taken off the index
// again; a prescription refused as a duplicate of one EPS holds keeps the
// nomination of the one it duplicates.
func TestRefusedPrescriptionLeavesNoNomination(t *testing.T) {
	s, client := startSim(t)
	st, _ := redisStore(t)
	p := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
	ix := st.(ReleaseIndex)
	members := func() []string {
		t.Helper()
		m, err := ix.SetMembers(context.Background(), nominationSet("FCG71"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	s.SetFaults(sim.Faults{Force5xx: 1, Status: 400, Ops: []string{"process-message"}})
	refused := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "F3000000-0000-4000-8000-000000000001", Payload: payload}
	if tc := processedAck(t, p, refused); tc == "AA" {
		t.Fatal("the refused prescription was accepted")
	}
	if m := members(); len(m) != 0 {
		t.Errorf("the index holds %v after EPS refused the prescription", m)
	}
	accepted := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "F3000000-0000-4000-8000-000000000002", Payload: payload}
	if tc := processedAck(t, p, accepted); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	dup := &Inbound{Transport: TransportEbXML, Interaction: v3.ParentPrescription, MessageID: "F3000000-0000-4000-8000-000000000003", Payload: payload}
	if tc := processedAck(t, p, dup); tc == "AA" {
		t.Fatal("the duplicate was accepted")
	}
	if m := members(); len(m) != 1 || m[0] != "C1D2E3-A99968-00A1BM" {
		t.Errorf("the index holds %v, want the accepted prescription", m)
	}
}
