package gateway

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
)

// TestComparisonOfTransientFailuresDeadLettered: with the FHIR path
// primary, a message it fails for the moment on every attempt (retries
// exhausted) or that the poison rule blames (EPS answers it 5xx while it
// answers others) goes to the dead letters, its sender told by an
// eb:MessageError (910009). It was never sent down the legacy path nor
// compared nor counted: a supplier comparing the paths never learnt that
// the FHIR path lost a message Spine answered. It is now compared, once,
// as the refusal its sender gets, when it goes to the dead letters.
func TestComparisonOfTransientFailuresDeadLettered(t *testing.T) {
	tests := []struct {
		name   string
		config func(*Config)
		fail   func(in *Inbound) error
		reason string // in the difference
	}{
		{"retries exhausted", func(c *Config) { c.ProcessRetries, c.PoisonAfter = 2, 0 },
			func(*Inbound) error { return errors.New("EPS call: connection refused") }, "processing failed after 3 attempts"},
		{"poison rule", func(c *Config) { c.PoisonAfter, c.PoisonMinAge = 2, 0 }, eps500, "times running"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route, calls := routeAnswering(t, http.StatusOK, "text/xml", string(mcciPayload("X")))
			lost, good := newReq(newID(t, 970+2*i)), newReq(newID(t, 971+2*i))
			fhir := newFakeProcessor()
			fhir.answer = func(in *Inbound, _ int) (*Outcome, error) {
				if in.MessageID == lost.messageID {
					return nil, tt.fail(in)
				}
				return &Outcome{Answers: []Answer{{Interaction: mcciAck, Payload: mcciPayload("X")}}}, nil
			}
			j := newTestJournal(t)
			m := NewMetrics()
			proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 1, Timeout: 10 * time.Second}, fhir,
				&compare.Legacy{URL: route.URL}, j, m, quietLog())
			cfg := testConfig()
			tt.config(&cfg)
			g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
			for _, r := range []ebReq{lost, good} {
				if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
					t.Fatalf("ebXML POST = %d\n%s", code, body)
				}
				// EPS answers another message after failing this one (the
				// poison rule's evidence that it is not down for all).
				waitFor(t, "the message failed twice", func() bool { return r.messageID != lost.messageID || fhir.callsFor(lost.messageID) >= 2 })
			}
			dl := waitDeadLetters(t, g, 1)[0]
			if dl.MessageID != lost.messageID {
				t.Fatalf("dead letter %s (%s), want %s", dl.MessageID, dl.Reason, lost.messageID)
			}
			c := waitComparison(t, j, lost.messageID)
			all := strings.Join(c.Differences, "\n")
			want := "fhir refused with ebXML MessageError Unknown (910009:the message could not be processed and was not passed on"
			if c.Result != compareDiffer || !strings.Contains(all, want) || !strings.Contains(all, tt.reason) || !strings.Contains(all, "legacy answered MCCI_IN010000UK13") {
				t.Fatalf("comparison of the dead-lettered message: %s %q %s, want differ with %q (%s)", c.Result, all, c.Error, want, tt.reason)
			}
			waitComparison(t, j, good.messageID)
			time.Sleep(10 * cfg.ProcessRetryInterval) // a second shadow run, if queued, done
			if n := calls.Load(); n != 2 {
				t.Errorf("the legacy route got %d calls, want 2 (each message once)", n)
			}
			if n := compareCount(t, m, prescribe, compareDiffer); n != 1 {
				t.Errorf("porxgate_compare_total{result=differ} = %v, want 1", n)
			}
		})
	}
}
