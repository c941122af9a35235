package gateway

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// startSim runs the EPS simulator on a loopback socket and returns a client
// pointed at it with quick retries.
func startSim(t *testing.T) (*sim.Server, *upstream.Client) {
	t.Helper()
	return startSimWith(t, sim.Options{}, upstream.Config{
		Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}})
}

// startSimWith runs the EPS simulator with opts on a loopback socket and
// returns a client configured as cfg (its BaseURL set to the simulator, and
// its TokenURL too when it has an APIKey and no TokenURL).
func startSimWith(t *testing.T, opts sim.Options, cfg upstream.Config) (*sim.Server, *upstream.Client) {
	t.Helper()
	s, root := serveSim(t, opts)
	cfg.BaseURL = root + "/FHIR/R4"
	if cfg.APIKey != "" && cfg.TokenURL == "" {
		cfg.TokenURL = root + "/oauth2/token"
	}
	c, err := upstream.New(cfg, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return s, c
}

// serveSim runs the simulator with opts on a loopback socket until the test
// ends and returns it with its root URL.
func serveSim(t *testing.T, opts sim.Options) (*sim.Server, string) {
	t.Helper()
	opts.Logger = quietLog()
	s := sim.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, "http://" + ln.Addr().String()
}

// legacyPrescription makes a UK-family ParentPrescription from one of the
// project's own FHIR fixtures, as a legacy prescribing system would send it.
func legacyPrescription(t *testing.T, fixture string) ([]byte, string) {
	t.Helper()
	body, err := os.ReadFile("../testdata/prescribe/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := prescribemap.PrescribeToV3(body, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatalf("making the legacy prescription: %v", err)
	}
	_, root, err := v3.Parse(payload)
	if err != nil {
		t.Fatal(err)
	}
	return payload, root.Child("id").Attr("root")
}

// ackOf reads the acknowledgement typeCode and messageRef of an MCCI payload.
func ackOf(t *testing.T, payload []byte) (typeCode, ref string) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(payload); err != nil {
		t.Fatalf("answer not XML: %v", err)
	}
	ack := doc.FindElement("//acknowledgement")
	if ack == nil {
		t.Fatalf("no acknowledgement in\n%s", payload)
	}
	return ack.SelectAttrValue("typeCode", ""), ack.FindElement("messageRef/id").SelectAttrValue("root", "")
}

// TestPrescriptionThroughEPS sends a legacy ParentPrescription over ebXML
// through the gateway to the EPS simulator and checks the MCCI answers the
// legacy MHS receives: AA for the new prescription, and a rejection when
// the same prescription comes again under a new message id.
func TestPrescriptionThroughEPS(t *testing.T) {
	s, client := startSim(t)
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))

	payload, hl7ID := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	answers := func() []received {
		var out []received
		for _, m := range mhs.messages() {
			if m.msg != nil && m.msg.Action == v3.ApplicationAcknowledgement {
				out = append(out, m)
			}
		}
		return out
	}
	first := newReq(newID(t, 1))
	first.payload = payload
	if code, body := sendEb(t, g.base, first); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the MCCI answer", func() bool { return len(answers()) == 1 })
	got := answers()[0]
	if tc, ref := ackOf(t, got.msg.Payload.Body); tc != "AA" || ref != hl7ID {
		t.Fatalf("first answer typeCode %s messageRef %s; want AA %s\n%s", tc, ref, hl7ID, got.msg.Payload.Body)
	}
	if got.msg.RefToMessageID != first.messageID || got.msg.ConversationID != first.conversationID {
		t.Errorf("answer RefToMessageId %s ConversationId %s; want %s %s", got.msg.RefToMessageID, got.msg.ConversationID, first.messageID, first.conversationID)
	}
	if n := s.State().Len(); n != 1 {
		t.Fatalf("EPS holds %d prescriptions, want 1", n)
	}

	again := newReq(newID(t, 2))
	again.payload = payload
	if code, body := sendEb(t, g.base, again); code != 202 {
		t.Fatalf("second ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the second MCCI answer", func() bool { return len(answers()) == 2 })
	tc, ref := ackOf(t, answers()[1].msg.Payload.Body)
	if tc == "AA" || ref != hl7ID {
		t.Fatalf("duplicate prescription answered %s for %s; want a rejection for %s", tc, ref, hl7ID)
	}
	if !strings.Contains(string(answers()[1].msg.Payload.Body), "justifyingDetectedIssueEvent") && tc != "AR" {
		t.Errorf("rejection carries no reason:\n%s", answers()[1].msg.Payload.Body)
	}
	if n := s.State().Len(); n != 1 {
		t.Fatalf("EPS holds %d prescriptions after the duplicate, want 1", n)
	}
}

// TestUnreadablePrescriptionRejected checks that a payload the mapping
// cannot read is answered with a rejection naming the element path, and
// that nothing reaches EPS.
func TestUnreadablePrescriptionRejected(t *testing.T) {
	s, client := startSim(t)
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	payload, hl7ID := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	broken := []byte(strings.Replace(string(payload), "<recordTarget", "<recordTargetX", 1))
	broken = []byte(strings.Replace(string(broken), "</recordTarget>", "</recordTargetX>", 1))
	r := newReq(newID(t, 3))
	r.payload = broken
	if code, body := sendEb(t, g.base, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the rejection", func() bool {
		for _, m := range mhs.messages() {
			if m.msg != nil && m.msg.Action == v3.ApplicationAcknowledgement {
				return true
			}
		}
		return false
	})
	for _, m := range mhs.messages() {
		if m.msg == nil || m.msg.Action != v3.ApplicationAcknowledgement {
			continue
		}
		tc, ref := ackOf(t, m.msg.Payload.Body)
		if tc == "AA" || ref != hl7ID {
			t.Fatalf("unreadable prescription answered %s for %s", tc, ref)
		}
	}
	if n := s.State().Len(); n != 0 {
		t.Fatalf("EPS holds %d prescriptions, want 0", n)
	}
}

// TestBreakerOpenHoldsMessages checks issue 6's promise for async messages:
// while EPS fails and the breaker is open, an accepted prescription waits
// in the store (no dead letter, however many retry intervals pass) and is
// sent once, and only once, when EPS recovers.
func TestBreakerOpenHoldsMessages(t *testing.T) {
	s, client := startSimWith(t, sim.Options{Faults: sim.Faults{Force5xx: -1}}, upstream.Config{
		Retry:   upstream.RetryConfig{MaxAttempts: 1},
		Breaker: upstream.BreakerConfig{ConsecutiveFailures: 1, Timeout: 100 * time.Millisecond, MaxRequestsHalfOpen: 1}})

	mhs := startMHS(t, "ack")
	cfg := testConfig()
	cfg.ProcessRetries = 1
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	payload, hl7ID := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	r := newReq(newID(t, 4))
	r.payload = payload
	if code, body := sendEb(t, g.base, r); code != 202 {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the breaker to open", func() bool { return client.BreakerStates()["process-message"] == "open" })
	time.Sleep(10 * cfg.ProcessRetryInterval) // many retry intervals: more than ProcessRetries attempts' worth
	if code, body := get(t, g.adminBase(t)+PathDeadLetters); code != 200 || strings.Contains(body, r.messageID) {
		t.Fatalf("message dead-lettered while EPS was down: %d %s", code, body)
	}
	s.SetFaults(sim.Faults{})
	waitFor(t, "the MCCI answer after recovery", func() bool {
		for _, m := range mhs.messages() {
			if m.msg != nil && m.msg.Action == v3.ApplicationAcknowledgement {
				return true
			}
		}
		return false
	})
	for _, m := range mhs.messages() {
		if m.msg != nil && m.msg.Action == v3.ApplicationAcknowledgement {
			if tc, ref := ackOf(t, m.msg.Payload.Body); tc != "AA" || ref != hl7ID {
				t.Fatalf("answer after recovery %s for %s, want AA for %s", tc, ref, hl7ID)
			}
		}
	}
	if n := s.State().Len(); n != 1 {
		t.Fatalf("EPS holds %d prescriptions, want 1", n)
	}
}

// TestReleaseThroughEPS prescribes through the gateway, then the nominated
// pharmacy downloads over ebXML: its MHS receives a Nominated Release
// Response holding the prescription; a second download finds nothing more
// and is answered with a Prescription Release Rejection. The simulator
// releases in the EPS API's own shape; the dispenser still gets the
// prescription's people and dates as they were sent, also when its author
// and responsible party are one role under two codes (which EPS releases
// as one PractitionerRole: before, such a release answer was refused).
func TestReleaseThroughEPS(t *testing.T) {
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	oneRole := etree.NewDocument()
	if err := oneRole.ReadFromBytes(payload); err != nil {
		t.Fatal(err)
	}
	authorRole := oneRole.FindElement("//pertinentPrescription/author/AgentPerson/id").SelectAttrValue("extension", "")
	rp := oneRole.FindElement("//pertinentPrescription/responsibleParty/AgentPerson")
	rp.FindElement("id").CreateAttr("extension", authorRole)
	rp.FindElement("agentPerson/id").CreateAttr("extension", "1234567") // a GMC number, as the EPS API sends one
	shared, err := oneRole.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		payload []byte
	}{{"as sent", payload}, {"author and responsible party one role", shared}} {
		t.Run(tc.name, func(t *testing.T) { releaseThroughEPS(t, tc.payload) })
	}
}

// releaseThroughEPS is TestReleaseThroughEPS for one legacy prescription.
func releaseThroughEPS(t *testing.T, payload []byte) {
	_, client := startSim(t)
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	answersOf := func(action string) []received {
		var out []received
		for _, m := range mhs.messages() {
			if m.msg != nil && m.msg.Action == action {
				out = append(out, m)
			}
		}
		return out
	}

	rx := newReq(newID(t, 10))
	rx.payload = payload
	if code, body := sendEb(t, g.base, rx); code != 202 {
		t.Fatalf("prescription POST = %d\n%s", code, body)
	}
	waitFor(t, "the prescription's MCCI", func() bool { return len(answersOf(v3.ApplicationAcknowledgement)) == 1 })
	if typeCode, _ := ackOf(t, answersOf(v3.ApplicationAcknowledgement)[0].msg.Payload.Body); typeCode != "AA" {
		t.Fatalf("prescription answered %s", typeCode)
	}

	request := nominatedReleaseFCG71(t)
	download := func(n int) {
		r := newReq(newID(t, n))
		r.action = v3.NominatedReleaseRequest
		r.payload = request
		if code, body := sendEb(t, g.base, r); code != 202 {
			t.Fatalf("release POST = %d\n%s", code, body)
		}
	}
	download(11)
	waitFor(t, "the release response", func() bool {
		return len(answersOf(v3.NominatedReleaseResponse)) == 1 || len(answersOf(v3.ReleaseRejection)) == 1 || len(answersOf(v3.ApplicationAcknowledgement)) > 1
	})
	if n := len(answersOf(v3.NominatedReleaseResponse)); n != 1 {
		t.Fatalf("the download was not answered with a release response (%d acknowledgements, %d rejections)",
			len(answersOf(v3.ApplicationAcknowledgement)), len(answersOf(v3.ReleaseRejection)))
	}
	resp := string(answersOf(v3.NominatedReleaseResponse)[0].msg.Payload.Body)
	for _, want := range []string{"C1D2E3-A99968-00A1BM", "<ParentPrescription", "FCG71"} {
		if !strings.Contains(resp, want) {
			t.Errorf("release response lacks %q", want)
		}
	}
	sent, released := etree.NewDocument(), etree.NewDocument()
	if err := sent.ReadFromBytes(payload); err != nil {
		t.Fatal(err)
	}
	if err := released.ReadFromBytes([]byte(resp)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"//pertinentPrescription/author/AgentPerson/agentPerson/id",
		"//pertinentPrescription/responsibleParty/AgentPerson/agentPerson/id",
		"//pertinentPrescription/responsibleParty/AgentPerson/id",
		"//ParentPrescription/effectiveTime",
		"//pertinentPrescription/author/time",
	} {
		value := func(d *etree.Document) string {
			el := d.FindElement(path)
			if el == nil {
				return "(none)"
			}
			return el.SelectAttrValue("extension", el.SelectAttrValue("value", ""))
		}
		if got, want := value(released), value(sent); got != want {
			t.Errorf("%s: released %s, sent %s", path, got, want)
		}
	}
	download(12)
	waitFor(t, "the release rejection", func() bool {
		return len(answersOf(v3.ReleaseRejection)) == 1 || len(answersOf(v3.NominatedReleaseResponse)) == 2
	})
	if n := len(answersOf(v3.NominatedReleaseResponse)); n != 1 {
		t.Fatalf("second download answered with a release response (%d in all); the prescription was released twice", n)
	}
}

// TestSOAPBreakerOpenFailsFast checks issue 6's promise for sync callers:
// with EPS down and the breaker open, a SOAP release request gets a Spine
// fault with a retryable code (206) without the call reaching EPS.
func TestSOAPBreakerOpenFailsFast(t *testing.T) {
	s, client := startSimWith(t, sim.Options{Faults: sim.Faults{Force5xx: -1}}, upstream.Config{
		Retry:   upstream.RetryConfig{MaxAttempts: 1},
		Breaker: upstream.BreakerConfig{ConsecutiveFailures: 1, Timeout: time.Hour, MaxRequestsHalfOpen: 1}})
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc))
	fixture, err := os.ReadFile("../testdata/release/nominated-release-request-060102.xml")
	if err != nil {
		t.Fatal(err)
	}
	_, payload, ok := strings.Cut(string(fixture), "-->")
	if !ok {
		t.Fatal("fixture has no header comment")
	}
	payload = strings.TrimSpace(payload)

	// The first call trips the breaker (EPS answers 503).
	code, body := sendSOAP(t, g.base, soapEnvelope(strings.ToUpper(ids.NewUUID()), v3.NominatedReleaseRequest, payload))
	if code != 500 {
		t.Fatalf("first call = %d\n%s", code, body)
	}
	if client.BreakerStates()["release"] != "open" {
		t.Fatalf("breaker %s after a failure, want open", client.BreakerStates()["release"])
	}
	served := s.Stats().Requests["release"] + s.Stats().FaultsInjected
	code, body = sendSOAP(t, g.base, soapEnvelope(strings.ToUpper(ids.NewUUID()), v3.NominatedReleaseRequest, payload))
	fc, desc := faultCode(t, body)
	if code != 500 || fc != "206" {
		t.Fatalf("call with the breaker open = %d fault %s (%s); want 500 with retryable fault 206", code, fc, desc)
	}
	if s.Stats().Requests["release"]+s.Stats().FaultsInjected != served {
		t.Errorf("a call with the breaker open reached EPS")
	}
}
