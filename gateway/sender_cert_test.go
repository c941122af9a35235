package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestEbXMLSenderBoundToCertificate: a route's certNames bind its party to
// the client certificates its MHS presents over mutual TLS. Another
// supplier whose certificate the same CA signed can no longer send as the
// party (have its answers, prescriptions included, delivered to the
// party's endpoint, act under the party's EPS identity with
// --upstream-identities) nor end the retries of the party's deliveries
// with an eb:Acknowledgment in its name: refused SecurityFailure 910023.
// A party without certNames takes any trusted certificate, as before.
func TestEbXMLSenderBoundToCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	routesFile := writeFile(t, dir, "routes.json", []byte(`{
  "`+senderParty+`": {"url": "https://mhs.dispenser.example/rm", "cpaId": "`+senderCPA+`", "certNames": ["mhs.dispenser.example"]},
  "OTHER-1": {"url": "https://mhs.other.example/rm", "cpaId": "`+senderCPA+`", "certNames": ["mhs.other.example"]},
  "OPEN-1": {"url": "https://mhs.open.example/rm"}
}`))
	cfg.RoutesFile = routesFile
	noMTLS := cfg
	noMTLS.TLSClientCAFile = ""
	if _, err := OpenRoutes(noMTLS); err == nil || !strings.Contains(err.Error(), "--tls-client-ca") {
		t.Fatalf("certNames without mutual TLS: %v", err)
	}
	routes, err := OpenRoutes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := store.NewMemory(nil)
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(newFakeProcessor()), WithRoutes(routes))
	base := serveOverTLS(t, srv, cfg, false)

	dispenser, other := ca.client(t, "mhs.dispenser.example"), ca.client(t, "mhs.other.example")
	tests := []struct {
		name     string
		client   *http.Client
		from     string
		wantCode string // "" for taken
	}{
		{"the party's own certificate", dispenser, senderParty, ""},
		{"another supplier's certificate", other, senderParty, "SecurityFailure"},
		{"that supplier as itself", other, "OTHER-1", ""},
		{"a party without certNames", other, "OPEN-1", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq(newID(t, 960+i))
			r.from = tc.from
			if tc.from == "OPEN-1" {
				r.cpa = "ANY"
			}
			ct, action, body := r.build()
			code, b := post(t, tc.client, base+PathEbXML, ct, action, body)
			if tc.wantCode == "" {
				if code != http.StatusAccepted {
					t.Fatalf("status %d, want 202\n%s", code, b)
				}
				return
			}
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, b)
			}
			if ec, desc := ebErrorOf(t, b); ec != tc.wantCode || !strings.HasPrefix(desc, "910023:") {
				t.Fatalf("MessageError %s %q, want %s 910023", ec, desc, tc.wantCode)
			}
		})
	}

	// A delivery to the party waits for its acknowledgment; another
	// supplier's eb:Acknowledgment in the party's name is refused and the
	// delivery keeps its retries.
	d := deliveryWaiting(t, st, senderParty, 969)
	ack := ackFrom(t, senderParty, d.MessageID)
	code, b := post(t, other, base+PathEbXML, "text/xml", "ebXML", ack)
	if ec, _ := ebErrorOf(t, b); code != http.StatusInternalServerError || ec != "SecurityFailure" {
		t.Fatalf("another supplier's acknowledgment: status %d %s, want 500 SecurityFailure", code, ec)
	}
	if _, ok, err := st.Peek(t.Context(), outbox.Queue, d.MessageID); err != nil || !ok {
		t.Fatalf("the delivery is gone (ok %v, err %v): its retries ended", ok, err)
	}
	if code, b := post(t, dispenser, base+PathEbXML, "text/xml", "ebXML", ack); code != http.StatusAccepted {
		t.Fatalf("the party's acknowledgment: status %d\n%s", code, b)
	}
	if _, ok, _ := st.Peek(t.Context(), outbox.Queue, d.MessageID); ok {
		t.Fatal("the party's acknowledgment did not end the delivery's retries")
	}
}

// deliveryWaiting queues in st an answer to party (MessageId newID(t,
// n)) that waits for its acknowledgment, and returns it.
func deliveryWaiting(t *testing.T, st store.Store, party string, n int) outbox.Delivery {
	t.Helper()
	d := outbox.Delivery{MessageID: strings.ToUpper(newID(t, n)), Kind: outbox.KindAnswer, Party: party,
		Interaction: "PORX_IN070103UK31", ContentType: "text/xml", Body: []byte("x"), CreatedAt: time.Now()}
	it, err := d.Item(time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Enqueue(t.Context(), it); err != nil {
		t.Fatal(err)
	}
	return d
}

// ackFrom is an MHS's asynchronous eb:Acknowledgment (text/xml), from
// party, of our message ref.
func ackFrom(t *testing.T, party, ref string) []byte {
	t.Helper()
	b, err := ebxml.BuildAcknowledgment(&ebxml.Message{FromPartyID: spineParty, ToPartyID: party, CPAID: senderCPA,
		MessageID: ref, ConversationID: ref}, strings.ToUpper(newID(t, 970)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// client is an HTTPS client that trusts ca and presents a client
// certificate ca issues for name.
func (ca *testCA) client(t *testing.T, name string) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	certPEM, keyPEM := ca.issue(t, name, false)
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c}}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
}

// soapFrom is soapEnvelope with asid as the sender's ASID
// (hl7:communicationFunctionSnd).
func soapFrom(asid, messageID, interaction, payload string) []byte {
	return bytes.Replace(soapEnvelope(messageID, interaction, payload), []byte(`extension="200000009876"`), []byte(`extension="`+asid+`"`), 1)
}

// soapOverMutualTLS serves a gateway whose processor answers release
// requests (soapProcessor) over mutual TLS, clients' certificates signed by
// the CA it returns, with --soap-asids soapASIDs; it returns the CA, the
// configuration, the processor and the https base URL.
func soapOverMutualTLS(t *testing.T, soapASIDs string) (*testCA, Config, *fakeProcessor, string) {
	t.Helper()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, t.TempDir(), ca)
	cfg.SOAPASIDs = soapASIDs
	proc := soapProcessor(nil)
	srv := NewServer(cfg, store.NewMemory(nil), fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(proc))
	return ca, cfg, proc, serveOverTLS(t, srv, cfg, false)
}

// TestSOAPSenderBoundToCertificate: --soap-asids binds a SOAP sender's
// ASID to the client certificates its system presents over mutual TLS.
// Another supplier whose certificate the same CA signed can no longer
// claim the ASID in hl7:communicationFunctionSnd (and act under the
// ASID's EPS identity with --upstream-identities, or be answered as it):
// refused with fault 300 (final), 910023 in the description, before any
// processing. An ASID not listed takes any trusted certificate, as
// before; a listing needs mutual TLS to start.
func TestSOAPSenderBoundToCertificate(t *testing.T) {
	const bound, open = "200000009876", "200000001111"
	ca, cfg, proc, base := soapOverMutualTLS(t, bound+"=mhs.dispenser.example, "+bound+"=dispenser-2.example")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ asids, caFile, want string }{
		{bound + "=mhs.dispenser.example", "", "--tls-client-ca"},
		{bound, cfg.TLSClientCAFile, "no certificate name"},
		{"any", cfg.TLSClientCAFile, "ASID=certificate name"},
		{"12=x", cfg.TLSClientCAFile, "12 digits"},
	} {
		c := cfg
		c.SOAPASIDs, c.TLSClientCAFile = bad.asids, bad.caFile
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("--soap-asids %q (client CA %q): %v, want an error saying %q", bad.asids, bad.caFile, err, bad.want)
		}
	}
	dispenser, second, other := ca.client(t, "mhs.dispenser.example"), ca.client(t, "dispenser-2.example"), ca.client(t, "mhs.other.example")
	tests := []struct {
		name   string
		client *http.Client
		asid   string
		taken  bool
	}{
		{"the ASID's own certificate", dispenser, bound, true},
		{"its second certificate", second, bound, true},
		{"another supplier's certificate", other, bound, false},
		{"that supplier under an unbound ASID", other, open, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("6E2F1C2D-0000-4000-8000-0000000009%02d", i)
			code, b := post(t, tc.client, base+PathSOAP, "text/xml", "", soapFrom(tc.asid, id, releaseReq, soapPayload))
			if tc.taken {
				if code != http.StatusOK {
					t.Fatalf("status %d, want 200\n%s", code, b)
				}
				return
			}
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, b)
			}
			if fc, desc := faultCode(t, b); fc != ebxml.TMSCodeMalformed || !strings.HasPrefix(desc, "910023:") || !strings.Contains(desc, tc.asid) {
				t.Fatalf("fault %s %q, want 300 910023 naming the ASID", fc, desc)
			}
			if n := proc.callsFor(id); n != 0 {
				t.Fatalf("processed %d times under the claimed ASID", n)
			}
		})
	}
}

// TestSOAPDuplicateFromAnotherSender: the answer kept for a wsa:MessageID
// (a release response may hold a prescription) is given again only to the
// sender that had it, by ASID. Another sender reusing the id, over its
// own certificate and ASID, is refused with fault 300, 910024, and is not
// processed; the first sender's retry still gets its answer.
func TestSOAPDuplicateFromAnotherSender(t *testing.T) {
	const first, second = "200000009876", "200000001111"
	ca, _, proc, base := soapOverMutualTLS(t, "")
	dispenser, other := ca.client(t, "mhs.dispenser.example"), ca.client(t, "mhs.other.example")
	const id = "6E2F1C2D-0000-4000-8000-000000000990"
	code, answer := post(t, dispenser, base+PathSOAP, "text/xml", "", soapFrom(first, id, releaseReq, soapPayload))
	if code != http.StatusOK || !bytes.Contains(answer, []byte("café")) {
		t.Fatalf("first request: status %d\n%s", code, answer)
	}
	code, b := post(t, other, base+PathSOAP, "text/xml", "", soapFrom(second, id, releaseReq, soapPayload))
	if bytes.Contains(b, []byte("café")) || bytes.Contains(b, []byte("R-"+id)) {
		t.Fatalf("another sender reusing the wsa:MessageID got the first sender's answer (status %d)\n%s", code, b)
	}
	if code != http.StatusInternalServerError {
		t.Fatalf("another sender reusing the wsa:MessageID: status %d, want 500\n%s", code, b)
	}
	if fc, desc := faultCode(t, b); fc != ebxml.TMSCodeMalformed || !strings.HasPrefix(desc, "910024:") {
		t.Fatalf("fault %s %q, want 300 910024", fc, desc)
	}
	code, again := post(t, dispenser, base+PathSOAP, "text/xml", "", soapFrom(first, id, releaseReq, soapPayload))
	if code != http.StatusOK || !bytes.Equal(again, answer) {
		t.Fatalf("the first sender's retry: status %d, not its kept answer\n%s", code, again)
	}
	if n := proc.callsFor(id); n != 1 {
		t.Fatalf("processed %d times, want 1", n)
	}
}

// TestSOAPDuplicateWithoutASID: a request that names no sender ASID is
// its client certificate's: the answer kept for its wsa:MessageID (here
// a release response with a prescription) is given again over that
// certificate only. Before, such a request was no one's: another system,
// over its own certificate and without an ASID either, reusing the
// wsa:MessageID was given the first one's answer. Now it is refused with
// fault 300, 910024, and not processed; the first system's retry still
// gets its answer.
func TestSOAPDuplicateWithoutASID(t *testing.T) {
	ca, _, proc, base := soapOverMutualTLS(t, "")
	dispenser, other := ca.client(t, "mhs.dispenser.example"), ca.client(t, "mhs.other.example")
	const id = "6E2F1C2D-0000-4000-8000-000000000991"
	req := soapFrom("", id, releaseReq, soapPayload)
	code, answer := post(t, dispenser, base+PathSOAP, "text/xml", "", req)
	if code != http.StatusOK || !bytes.Contains(answer, []byte("café")) {
		t.Fatalf("first request: status %d\n%s", code, answer)
	}
	code, b := post(t, other, base+PathSOAP, "text/xml", "", req)
	if bytes.Contains(b, []byte("café")) {
		t.Fatalf("another system reusing the wsa:MessageID without an ASID got the first one's answer (status %d)\n%s", code, b)
	}
	if fc, desc := faultCode(t, b); code != http.StatusInternalServerError || fc != ebxml.TMSCodeMalformed || !strings.HasPrefix(desc, "910024:") {
		t.Fatalf("status %d, fault %s %q; want 500, 300 910024", code, fc, desc)
	}
	code, again := post(t, dispenser, base+PathSOAP, "text/xml", "", req)
	if code != http.StatusOK || !bytes.Equal(again, answer) {
		t.Fatalf("the first system's retry: status %d, not its kept answer\n%s", code, again)
	}
	if n := proc.callsFor(id); n != 1 {
		t.Fatalf("processed %d times, want 1", n)
	}
}

// TestRunRefusesUnboundPartyIdentity: a party with its own EPS identity
// (--upstream-identities) acts under it whoever claims its eb:PartyId or
// ASID. With mutual TLS on, where a binding costs one line, the gateway
// does not start while such a party is bound to no client certificate
// (certNames in --routes, or --soap-asids), and says how to bind it;
// bound either way, it starts. Without mutual TLS, where nothing can bind
// it, the start warns, naming the party.
func TestRunRefusesUnboundPartyIdentity(t *testing.T) {
	const party, asid = "FQ2KM-807341", "200000009876"
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	_, keyPath := writeKey(t, dir, "party.pem")
	idFile := writeFile(t, dir, "identities.json", []byte(`{
  "`+party+`": {"apiKey": "party-app", "kid": "k1", "privateKey": "`+keyPath+`"},
  "`+asid+`": {"apiKey": "soap-app", "kid": "k2", "privateKey": "`+keyPath+`"}
}`))
	routes := func(certNames string) string {
		return writeFile(t, dir, "routes.json", []byte(`{"`+party+`": {"url": "https://mhs.pharmacy.example/rm"`+certNames+`}}`))
	}
	_, base := serveSim(t, sim.Options{})
	withIdentities := func(cfg Config) Config {
		cfg.Addr = "127.0.0.1:0"
		cfg.UpstreamURL = base + "/FHIR/R4"
		cfg.Upstream = UpstreamConfig{TokenURL: base + "/oauth2/token", APIKey: "default-app", Kid: "default-key-1", PrivateKeyFile: keyPath}
		cfg.UpstreamIdentitiesFile = idFile
		return cfg
	}
	mtls := withIdentities(mutualTLSConfig(t, dir, ca))
	plain := withIdentities(testConfig())
	tests := []struct {
		name      string
		cfg       Config
		certNames string
		soapASIDs string
		refused   []string // parties the refusal names; nil: starts
		warned    []string // parties the start's warning names
	}{
		{name: "mutual TLS, neither bound", cfg: mtls, refused: []string{party, asid, "certNames", "--soap-asids"}},
		{name: "mutual TLS, the ASID bound", cfg: mtls, soapASIDs: asid + "=soap.example", refused: []string{party}},
		{name: "mutual TLS, both bound", cfg: mtls, certNames: `, "certNames": ["mhs.pharmacy.example"]`, soapASIDs: asid + "=soap.example"},
		{name: "no mutual TLS", cfg: plain, warned: []string{party, asid}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.RoutesFile, cfg.SOAPASIDs = routes(tc.certNames), tc.soapASIDs
			var logs syncBuffer
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Run(ctx, cfg, slog.New(slog.NewJSONHandler(&logs, nil))) }()
			listening := func() bool {
				for _, l := range logs.lines(t) {
					if l["msg"] == "porxgate listening" {
						return true
					}
				}
				return false
			}
			if tc.refused != nil {
				select {
				case err := <-done:
					for _, want := range tc.refused {
						if err == nil || !strings.Contains(err.Error(), want) {
							t.Fatalf("Run = %v, want a refusal naming %q", err, want)
						}
					}
					if strings.Contains(err.Error(), asid) != slices.Contains(tc.refused, asid) {
						t.Fatalf("Run = %v: names the ASID wrongly", err)
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("Run did not refuse (listening: %v)", listening())
				}
				return
			}
			for !listening() {
				select {
				case err := <-done:
					t.Fatalf("Run = %v, want it to start", err)
				case <-time.After(50 * time.Millisecond):
				}
			}
			var warning string
			for _, l := range logs.lines(t) {
				if l["level"] == "WARN" && strings.Contains(fmt.Sprint(l), "EPS identit") {
					warning = fmt.Sprint(l)
				}
			}
			for _, want := range tc.warned {
				if !strings.Contains(warning, want) {
					t.Errorf("start warning %q does not name %s", warning, want)
				}
			}
			if tc.warned == nil && warning != "" {
				t.Errorf("warned %q with every party bound", warning)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

// TestSenderBindingHoldsAcrossDoors: a party key is one identity whichever
// door claims it. The SOAP door takes its sender ASID from the request
// as written, and the per-party EPS identity is looked up by it: a SOAP
// request claiming an eb:PartyId that certNames binds (as its
// hl7:communicationFunctionSnd id) must meet those certNames; an ebXML
// message claiming an ASID --soap-asids binds (as its eb:From/eb:PartyId)
// must meet those names. Else another supplier's certificate acts under
// the bound party's EPS identity through the other door.
func TestSenderBindingHoldsAcrossDoors(t *testing.T) {
	const asid = "200000009876"
	dir := t.TempDir()
	ca := newCA(t, "HSCN test CA")
	cfg := mutualTLSConfig(t, dir, ca)
	cfg.SOAPASIDs = asid + "=soap.dispenser.example"
	cfg.RoutesFile = writeFile(t, dir, "routes.json", []byte(`{
  "`+senderParty+`": {"url": "https://mhs.dispenser.example/rm", "cpaId": "`+senderCPA+`", "certNames": ["mhs.dispenser.example"]},
  "`+asid+`": {"url": "https://mhs.open.example/rm"}
}`))
	routes, err := OpenRoutes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	proc := soapProcessor(nil)
	st := store.NewMemory(nil)
	srv := NewServer(cfg, st, fakeUpstream{}, quietLog(), NewMetrics(), WithProcessor(proc), WithRoutes(routes))
	base := serveOverTLS(t, srv, cfg, false)
	mhs, soap, other := ca.client(t, "mhs.dispenser.example"), ca.client(t, "soap.dispenser.example"), ca.client(t, "mhs.other.example")

	for i, tc := range []struct {
		name   string
		client *http.Client
		taken  bool
	}{{"SOAP, the party's certificate", mhs, true}, {"SOAP, another certificate", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("6E2F1C2D-0000-4000-8000-0000000009A%d", i)
			code, b := post(t, tc.client, base+PathSOAP, "text/xml", "", soapFrom(senderParty, id, releaseReq, soapPayload))
			if tc.taken != (code == http.StatusOK) {
				t.Fatalf("SOAP request claiming %s: status %d, taken %v wanted\n%s", senderParty, code, tc.taken, b)
			}
			if !tc.taken {
				if fc, desc := faultCode(t, b); fc != ebxml.TMSCodeMalformed || !strings.HasPrefix(desc, "910023:") {
					t.Fatalf("fault %s %q, want 300 910023", fc, desc)
				}
			}
		})
	}
	for i, tc := range []struct {
		name   string
		client *http.Client
		taken  bool
	}{{"ebXML, the ASID's certificate", soap, true}, {"ebXML, another certificate", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq(newID(t, 980+i))
			r.from, r.cpa = asid, "ANY"
			ct, action, body := r.build()
			code, b := post(t, tc.client, base+PathEbXML, ct, action, body)
			if tc.taken != (code == http.StatusAccepted) {
				t.Fatalf("ebXML message claiming %s: status %d, taken %v wanted\n%s", asid, code, tc.taken, b)
			}
			if !tc.taken {
				if ec, desc := ebErrorOf(t, b); ec != "SecurityFailure" || !strings.HasPrefix(desc, "910023:") {
					t.Fatalf("MessageError %s %q, want SecurityFailure 910023", ec, desc)
				}
			}
		})
	}

	// So too an eb:Acknowledgment in the ASID's name, which would end the
	// retries of a delivery to it: before, the signal path checked the
	// route's certNames only, and another certificate's acknowledgment
	// (the ASID's route has none) ended them.
	d := deliveryWaiting(t, st, asid, 985)
	ack := ackFrom(t, asid, d.MessageID)
	code, b := post(t, other, base+PathEbXML, "text/xml", "ebXML", ack)
	if _, ok, err := st.Peek(t.Context(), outbox.Queue, d.MessageID); err != nil || !ok {
		t.Errorf("the delivery is gone (ok %v, err %v): its retries ended", ok, err)
	}
	if code != http.StatusInternalServerError {
		t.Fatalf("another certificate's acknowledgment in %s's name: status %d, want 500\n%s", asid, code, b)
	}
	if ec, desc := ebErrorOf(t, b); ec != "SecurityFailure" || !strings.HasPrefix(desc, "910023:") {
		t.Fatalf("MessageError %s %q, want SecurityFailure 910023", ec, desc)
	}
	if code, b := post(t, soap, base+PathEbXML, "text/xml", "ebXML", ack); code != http.StatusAccepted {
		t.Fatalf("the ASID's own acknowledgment: status %d\n%s", code, b)
	}
	if _, ok, _ := st.Peek(t.Context(), outbox.Queue, d.MessageID); ok {
		t.Fatal("the ASID's own acknowledgment did not end the delivery's retries")
	}
}
