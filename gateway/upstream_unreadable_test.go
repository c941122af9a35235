package gateway

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/sim"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// garblingProxy is a loopback proxy in front of EPS that, when armed,
// cuts the next 2xx answer to a path ending in suffix to half its body
// (well framed: the connection is fine, the JSON is not); with refuse set
// it answers every request itself with that status and an HTML page, as a
// web proxy or API gateway in front of EPS does.
type garblingProxy struct {
	suffix atomic.Value // string; "" disarmed
	cut    atomic.Int32
	refuse atomic.Int32
	// rewrite, when set, changes the armed answer's body instead of
	// cutting it.
	rewrite atomic.Pointer[func([]byte) []byte]
}

func startGarblingProxy(t *testing.T, target string) (*garblingProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &garblingProxy{}
	g.suffix.Store("")
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		suffix := g.suffix.Load().(string)
		if suffix == "" || r.StatusCode/100 != 2 || !strings.HasSuffix(r.Request.URL.Path, suffix) ||
			!g.suffix.CompareAndSwap(suffix, "") {
			return nil
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		r.Body.Close()
		if f := g.rewrite.Load(); f != nil {
			body = (*f)(body)
		} else {
			body = body[:len(body)/2]
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		g.cut.Add(1)
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := int(g.refuse.Load()); code != 0 {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, "<html><body><h1>"+http.StatusText(code)+"</h1></body></html>")
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return g, srv.URL
}

// behindGarblingProxy starts the simulator behind a garblingProxy and an
// EPS processor calling it, its answers recorded in a real Redis.
func behindGarblingProxy(t *testing.T) (*sim.Server, *garblingProxy, *EPSProcessor) {
	t.Helper()
	st, _ := redisStore(t)
	return behindGarblingProxyWith(t, st)
}

// behindGarblingProxyWith is behindGarblingProxy recording EPS's answers
// in outcomes (kept an hour).
func behindGarblingProxyWith(t *testing.T, outcomes OutcomeLog) (*sim.Server, *garblingProxy, *EPSProcessor) {
	t.Helper()
	s, simURL := serveSim(t, sim.Options{})
	g, root := startGarblingProxy(t, simURL)
	c, err := upstream.New(upstream.Config{BaseURL: root + "/FHIR/R4",
		Retry: upstream.RetryConfig{MaxAttempts: 2, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond}}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return s, g, NewEPSProcessor(mapping.NewRegistry(), c, nil, nil, quietLog()).WithOutcomeLog(outcomes, time.Hour)
}

// TestUnreadableAnswerIsNotActedOn: EPS applies a nominated release or a
// cancellation and its 200 answer arrives unreadable (cut short, well
// framed). Before, the dispenser got an MCCI AA instead of the release
// response — the prescriptions EPS had released to it stranded — and the
// prescriber an AA instead of a Cancel Response; both were recorded, so a
// replay repeated them. Now the message is deferred with nothing recorded,
// and processed again it gets the answer EPS's action deserves: the
// released prescription (recovered), the Cancel Response "cancelled".
func TestUnreadableAnswerIsNotActedOn(t *testing.T) {
	start := behindGarblingProxy
	t.Run("nominated release", func(t *testing.T) {
		s, g, p := start(t)
		payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
		if tc := processedAck(t, p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription answered %s", tc)
		}
		release := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
		g.suffix.Store("/Task/$release")
		wantDeferred(t, p, release)
		if g.cut.Load() != 1 {
			t.Fatal("the proxy cut no answer")
		}
		if rx, ok := s.State().Get("C1D2E3-A99968-00A1BM"); !ok || rx.Dispenser != "FCG71" {
			t.Fatalf("EPS holds %+v, want it released to FCG71", rx)
		}
		out, err := p.Process(context.Background(), release)
		if err != nil || len(out.Answers) != 1 || out.Answers[0].Interaction != v3.NominatedReleaseResponse ||
			!strings.Contains(string(out.Answers[0].Payload), "C1D2E3-A99968-00A1BM") {
			t.Fatalf("release processed again: %+v %v; want the release response with the prescription", out, err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		s, g, p := start(t)
		payload, _ := legacyPrescription(t, rxFixture)
		if tc := processedAck(t, p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription answered %s", tc)
		}
		cancel := replayIn(v3.CancelRequest, legacyCancel(t, rxFixture))
		g.suffix.Store("/$process-message")
		wantDeferred(t, p, cancel)
		if rx, ok := s.State().Get(rxID); !ok || rx.Status != sim.StatusCancelled {
			t.Fatalf("EPS holds %+v, want it cancelled", rx)
		}
		out, err := p.Process(context.Background(), cancel)
		if err != nil || len(out.Answers) != 1 || out.Answers[0].Interaction != v3.CancelResponse ||
			cancelCodeOf(t, out.Answers[0].Payload) != "0001" {
			t.Fatalf("cancel processed again: %+v %v; want a Cancel Response 0001", out, err)
		}
	})
}

// TestNonFHIRRefusalIsNotEPSVerdict: a 4xx answer without an
// OperationOutcome (an HTML page from a proxy or gateway in front of EPS:
// a wrong path, a WAF) is not EPS's verdict on the message. Before, it was
// recorded as EPS's answer and the message failed permanently — dead
// letter at once, the sender told it was not processed, and every replay
// answered from the record. Now it is an ordinary failure: not recorded,
// counted against the message's attempts, and once the path through is
// fixed the message is processed.
func TestNonFHIRRefusalIsNotEPSVerdict(t *testing.T) {
	for _, code := range []int{http.StatusNotFound, http.StatusForbidden} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			s, simURL := serveSim(t, sim.Options{})
			g, root := startGarblingProxy(t, simURL)
			c, err := upstream.New(upstream.Config{BaseURL: root + "/FHIR/R4", Retry: upstream.RetryConfig{MaxAttempts: 1}}, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			st, _ := redisStore(t)
			p := NewEPSProcessor(mapping.NewRegistry(), c, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
			in := replayIn(v3.ParentPrescription, payload)
			g.refuse.Store(int32(code))
			out, err := p.Process(context.Background(), in)
			if err == nil || IsPermanent(err) || IsDeferred(err) {
				t.Fatalf("outcome %+v, err %v; want an ordinary (counted, retried) failure", out, err)
			}
			g.refuse.Store(0)
			if tc := processedAck(t, p, in); tc != "AA" {
				t.Fatalf("processed again once the proxy passes it: %s, want AA", tc)
			}
			if n := s.State().Len(); n != 1 {
				t.Fatalf("EPS holds %d prescriptions, want 1", n)
			}
		})
	}
}

// TestLooksLikeResource: the cheap readability test of a 2xx answer to a
// release or a cancel refuses what is not a whole FHIR resource.
func TestLooksLikeResource(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"a resource", `{"resourceType":"Bundle","type":"searchset","entry":[]}`, true},
		{"resourceType not first", `{"id":"x","resourceType":"OperationOutcome","issue":[]}`, true},
		{"cut short", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Medicat`, false},
		{"garbled", "{\"resourceType\":\"Bundle\",\x00\"entry\":[]}", false},
		{"an HTML page", `<html><body>Bad gateway</body></html>`, false},
		{"JSON but no resource", `{"message":"ok"}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := looksLikeResource([]byte(tt.body)); got != tt.want {
				t.Errorf("looksLikeResource(%q) = %v, want %v", tt.body, got, tt.want)
			}
		})
	}
}

// TestUntranslatableAnswerIsNotAcceptance: EPS applies a nominated release
// or a cancellation and answers 200 with a Parameters or Bundle porxgate
// cannot write as the release response or Cancel Response. Before, the
// answer fell back to the MCCI of EPS's answer: an AA, so the dispenser was
// told its download had been taken while the prescriptions EPS had
// released to it were nowhere, and the prescriber got an AA instead of the
// cancellation's outcome. Now it is a permanent failure naming what EPS
// released (the message goes to the dead letters, its sender is told it
// was not processed, and a resend after a fix answers from EPS's recorded
// answer).
func TestUntranslatableAnswerIsNotAcceptance(t *testing.T) {
	start := func(t *testing.T, replace, with string) (*sim.Server, *garblingProxy, *EPSProcessor) {
		s, g, p := behindGarblingProxy(t)
		f := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(replace), []byte(with)) }
		g.rewrite.Store(&f)
		return s, g, p
	}
	wantPermanent := func(t *testing.T, p *EPSProcessor, in *Inbound, mention string) {
		t.Helper()
		out, err := p.Process(context.Background(), in)
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), mention) {
			var answers []string
			if out != nil {
				for _, a := range out.Answers {
					tc, _ := ackOf(t, a.Payload)
					answers = append(answers, a.Interaction+" "+tc)
				}
			}
			t.Fatalf("%s: answers %v, err %v; want a permanent error naming %s and no answer", in.Interaction, answers, err, mention)
		}
	}
	t.Run("nominated release", func(t *testing.T) {
		// The author's code under a system no one knows: porxgate cannot
		// write the released prescription's author.
		s, g, p := start(t, fhirSystemNMC, "https://fhir.hl7.org.uk/Id/unknown-number")
		payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
		if tc := processedAck(t, p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription answered %s", tc)
		}
		g.suffix.Store("/Task/$release")
		wantPermanent(t, p, replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t)), "C1D2E3-A99968-00A1BM")
		if g.cut.Load() != 1 {
			t.Fatal("the proxy changed no answer")
		}
		if rx, ok := s.State().Get("C1D2E3-A99968-00A1BM"); !ok || rx.Dispenser != "FCG71" {
			t.Fatalf("EPS holds %+v, want it released to FCG71", rx)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		// The outcome's status coding under a system no one knows: porxgate
		// cannot say what became of the cancellation.
		_, g, p := start(t, fhirStatusHistory, "https://fhir.nhs.uk/CodeSystem/unknown-status-history")
		payload, _ := legacyPrescription(t, rxFixture)
		if tc := processedAck(t, p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
			t.Fatalf("prescription answered %s", tc)
		}
		g.suffix.Store("/$process-message")
		wantPermanent(t, p, replayIn(v3.CancelRequest, legacyCancel(t, rxFixture)), "Cancel Response")
		if g.cut.Load() != 1 {
			t.Fatal("the proxy changed no answer")
		}
	})
}

// Identifier systems the test above hides from porxgate.
const (
	fhirSystemNMC     = "https://fhir.hl7.org.uk/Id/nmc-number"
	fhirStatusHistory = "https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history"
)

// TestUnwritableAppliedAnswerKeptForResend: EPS released a prescription
// and porxgate could not write its answer (a permanent failure: the
// message goes to the dead letters, its error naming the prescription).
// The fix may take longer to deploy than the outcome log keeps answers
// (24 h); resent after that, the message must still be answered from what
// EPS answered, not by asking EPS again, which releases nothing a second
// time and would tell the dispenser there was nothing to download while
// the prescription sits with it. Before, the record expired with the
// outcome log's TTL.
func TestUnwritableAppliedAnswerKeptForResend(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	s, g, p := behindGarblingProxyWith(t, store.NewMemory(func() time.Time { return time.Unix(0, clock.Load()) }))
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json") // nominated to FCG71
	if tc := processedAck(t, p, replayIn(v3.ParentPrescription, payload)); tc != "AA" {
		t.Fatalf("prescription answered %s", tc)
	}
	f := func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte(fhirSystemNMC), []byte("https://fhir.hl7.org.uk/Id/unknown-number"))
	}
	g.rewrite.Store(&f)
	g.suffix.Store("/Task/$release")
	release := replayIn(v3.NominatedReleaseRequest, nominatedReleaseFCG71(t))
	for _, when := range []string{"first", "resent two days later"} {
		out, err := p.Process(context.Background(), release)
		if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "C1D2E3-A99968-00A1BM") {
			t.Fatalf("%s: out %+v, err %v; want the permanent failure naming the released prescription", when, out, err)
		}
		if rx, ok := s.State().Get("C1D2E3-A99968-00A1BM"); !ok || rx.Dispenser != "FCG71" {
			t.Fatalf("%s: EPS holds %+v, want it released to FCG71", when, rx)
		}
		// From here EPS would only say it is unavailable: an answer must
		// come from the record.
		g.refuse.Store(http.StatusServiceUnavailable)
		clock.Add(int64(48 * time.Hour))
	}
}
