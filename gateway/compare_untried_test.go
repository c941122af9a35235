package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/admin"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
)

// TestComparisonAfterASkippedRunIsIncomplete: a prescription's shadow run
// was skipped (the shadow queue full), so the other environment never saw
// it; a later cancellation of it is refused there, and its comparison was
// a "differ" of the comparison's own making, counted and listed as a
// difference of the translation. It is now "incomplete", naming the
// skipped message, in the journal and porxgate_compare_total; a
// difference about a prescription whose runs were all made stays "differ".
func TestComparisonAfterASkippedRunIsIncomplete(t *testing.T) {
	hold, release := holdUntilReleased(t)
	route := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		<-hold
		w.Header().Set("Content-Type", "text/xml")
		ack := string(mcciPayload("X"))
		if strings.Contains(string(body), "<note>cancel") { // Spine knows no such prescription
			ack = strings.Replace(ack, `typeCode="AA"`, `typeCode="AE"`, 1)
		}
		_, _ = io.WriteString(w, ack)
	}))
	t.Cleanup(route.Close)
	fhir := newFakeProcessor()
	fhir.answer = func(*Inbound, int) (*Outcome, error) {
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload("X")}}}, nil
	}
	j := newTestJournal(t)
	m := NewMetrics()
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 20 * time.Second, QueueBytes: 2000}, fhir,
		&compare.Legacy{URL: route.URL}, j, m, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	const rxX, rxY = "A1B2C3-A99968-4DCF9K", "D4E5F6-A99968-5EFA1L"
	msg := func(n int, note, rx string) ebReq {
		r := newReq(newID(t, 960+n))
		r.payload = []byte(strings.Replace(string(r.payload), "<note>",
			`<id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="`+rx+`"/><note>`+note+" ", 1))
		return r
	}
	send := func(r ebReq) {
		t.Helper()
		if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
			t.Fatalf("ebXML POST = %d\n%s", code, body)
		}
	}
	comparison := func(r ebReq) *journal.Comparison { t.Helper(); return waitComparison(t, j, r.messageID) }
	filler := newReq(newID(t, 959))
	send(filler) // in the shadow worker's hand, held at the route
	waitFor(t, "the first shadow run in hand", func() bool { return comparingOf(proc).held.Load() > 0 && comparingOf(proc).jobs.Len() == 0 })
	prescX := msg(1, "prescription "+strings.Repeat("x", 2000), rxX)
	send(prescX)
	if c := comparison(prescX); c.Result != compareSkipped {
		t.Fatalf("the prescription's comparison %s (%s), want skipped", c.Result, c.Error)
	}
	prescY := msg(2, "prescription", rxY)
	send(prescY)
	release()
	if c := comparison(prescY); c.Result != compareMatch {
		t.Fatalf("prescription Y's comparison %s %v %s, want match", c.Result, c.Differences, c.Error)
	}
	cancelX, cancelY := msg(3, "cancel", rxX), msg(4, "cancel", rxY)
	send(cancelX)
	send(cancelY)
	if c := comparison(cancelX); c.Result != compareIncomplete || !strings.Contains(c.Error, rxX) || !strings.Contains(c.Error, prescX.messageID) ||
		len(c.Differences) == 0 {
		t.Errorf("the cancellation of the prescription never sent down the legacy path: %s %v %q, want incomplete naming %s and %s, with its differences",
			c.Result, c.Differences, c.Error, rxX, prescX.messageID)
	}
	if c := comparison(cancelY); c.Result != compareDiffer {
		t.Errorf("the cancellation of a prescription compared before: %s %q, want differ", c.Result, c.Error)
	}
	// The page lists it under its own outcome, and says why.
	code, page := get(t, g.adminBase(t)+admin.PathPageExchange+cancelX.messageID)
	if code != http.StatusOK || !strings.Contains(string(page), `class="warn">incomplete</span>`) || !strings.Contains(string(page), prescX.messageID) {
		t.Errorf("the exchange's page (%d) does not show the comparison incomplete with its reason:\n%.2000s", code, page)
	}
	if code, list := get(t, g.adminBase(t)+admin.PathPage+"?outcome=incomplete"); code != http.StatusOK ||
		!strings.Contains(string(list), cancelX.messageID) || strings.Contains(string(list), cancelY.messageID) {
		t.Errorf("the page's search for outcome incomplete (%d) does not list just the cancellation of X:\n%.2000s", code, list)
	}
	for result, want := range map[string]float64{compareIncomplete: 1, compareDiffer: 1, compareSkipped: 1} {
		if n := compareCount(t, m, prescribe, result); n != want {
			t.Errorf("porxgate_compare_total{result=%q} = %v, want %v", result, n, want)
		}
	}
}

// TestShadowRefusedAsUnavailableTaints: the legacy path, the shadow,
// refuses a prescription with a retryable SOAP fault (200: Spine
// unavailable for a moment, the message not acted on), so the legacy
// environment never saw it, and a later cancellation of it is refused
// there. Its comparison was "differ", counted as a difference of the
// translation: the refused run was an "error" but left no mark on its
// prescription, as a run that failed does. It is now "incomplete", naming
// the refused message.
func TestShadowRefusedAsUnavailableTaints(t *testing.T) {
	route := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/xml")
		if strings.Contains(string(body), "<note>prescription") {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, spineFaultBody("200", "System failure to process message - default"))
			return
		}
		_, _ = io.WriteString(w, strings.Replace(string(mcciPayload("X")), `typeCode="AA"`, `typeCode="AE"`, 1)) // no such prescription
	}))
	t.Cleanup(route.Close)
	fhir := newFakeProcessor()
	fhir.answer = func(*Inbound, int) (*Outcome, error) {
		return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload("X")}}}, nil
	}
	j := newTestJournal(t)
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second}, fhir,
		&compare.Legacy{URL: route.URL}, j, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	const rx = "A1B2C3-A99968-4DCF9K"
	msg := func(n int, note string) ebReq {
		r := newReq(newID(t, 1030+n))
		r.payload = []byte(strings.Replace(string(r.payload), "<note>",
			`<id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="`+rx+`"/><note>`+note+" ", 1))
		return r
	}
	presc, cancel := msg(1, "prescription"), msg(2, "cancel")
	for _, r := range []ebReq{presc, cancel} {
		if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
			t.Fatalf("ebXML POST = %d\n%s", code, body)
		}
		waitComparison(t, j, r.messageID)
	}
	if c := waitComparison(t, j, presc.messageID); c.Result != compareError || !strings.Contains(c.Error, "retryable") {
		t.Fatalf("the prescription's comparison %s (%s), want error: refused as unavailable", c.Result, c.Error)
	}
	if c := waitComparison(t, j, cancel.messageID); c.Result != compareIncomplete || !strings.Contains(c.Error, presc.messageID) {
		t.Errorf("the cancellation of a prescription the legacy path refused as unavailable: %s %v %q, want incomplete naming %s",
			c.Result, c.Differences, c.Error, presc.messageID)
	}
}
