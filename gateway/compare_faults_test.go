package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestComparisonOfRefusals: in comparison mode, an exchange whose primary
// answer was a SOAP fault (Spine refusing a message the FHIR path would
// have taken, or the other way round) was neither compared nor counted:
// the refusal, the difference that matters most in a migration, never
// reached the journal's comparison or porxgate_compare_total. A fault is
// now compared with the other path's outcome: by its TMS codes against
// another fault, as a difference against an answer; a retryable fault
// (EPS or Spine unavailable for a moment) says nothing of the translation
// and is an error, not compared.
func TestComparisonOfRefusals(t *testing.T) {
	release := func(int) (*Outcome, error) { return nil, nil } // soapProcessor's release answer
	faulting := func(code string) func(int) (*Outcome, error) {
		return func(int) (*Outcome, error) { return &Outcome{Fault: fault(code, "refused by the FHIR path")}, nil }
	}
	answering, _ := routeAnswering(t, http.StatusOK, "text/xml",
		`<PORX_IN070103UK31 xmlns="urn:hl7-org:v3"><id root="X"/><note>café ✓</note></PORX_IN070103UK31>`)
	tests := []struct {
		name, primary string
		route         string // the legacy route's URL
		fhir          func(int) (*Outcome, error)
		result        string
		want          string // in the differences or the error
	}{
		{"legacy refuses, FHIR path answers", "legacy", faultURL(t, "201"), release, "differ", "legacy refused with SOAP fault 201"},
		{"legacy and FHIR path refuse alike", "legacy", faultURL(t, "300"), faulting("300"), "match", ""},
		{"legacy and FHIR path refuse unlike", "legacy", faultURL(t, "201"), faulting("300"), "differ", "legacy has 201, fhir has 300"},
		{"FHIR path refuses, legacy answers", "fhir", answering.URL, faulting("300"), "differ", "fhir refused with SOAP fault 300"},
		{"FHIR path unavailable for a moment", "fhir", answering.URL, faulting("200"), "error", "retryable"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newTestJournal(t)
			m := NewMetrics()
			proc := NewComparing(CompareConfig{Primary: tt.primary, Workers: 1, Timeout: 10 * time.Second}, soapProcessor(tt.fhir),
				&compare.Legacy{URL: tt.route}, j, m, quietLog())
			g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc), WithJournal(j))
			id := "6E2F1C2D-0000-4000-8000-00000000091" + string(rune('0'+i))
			sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload))
			var x *journal.Exchange
			waitFor(t, "the comparison in the journal", func() bool {
				x, _ = j.Backend().Get(context.Background(), id)
				return x != nil && x.Comparison != nil && x.Comparison.Result != ""
			})
			all := strings.Join(x.Comparison.Differences, "\n") + x.Comparison.Error
			if x.Comparison.Result != tt.result || !strings.Contains(all, tt.want) {
				t.Fatalf("comparison %s %q, want %s with %q", x.Comparison.Result, all, tt.result, tt.want)
			}
		})
	}
}

// TestComparisonOfSpinesEbXMLRefusal: with the legacy path primary, an
// ebXML message Spine refuses for good goes to the dead letters; that
// refusal was not compared with the FHIR path's outcome. It is now.
func TestComparisonOfSpinesEbXMLRefusal(t *testing.T) {
	j := newTestJournal(t)
	proc := NewComparing(CompareConfig{Primary: "legacy", Workers: 1, Timeout: 10 * time.Second}, newFakeProcessor(),
		&compare.Legacy{URL: faultURL(t, "201")}, j, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	r := newReq(newID(t, 920))
	if code, body := sendEb(t, g.base, r); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	var x *journal.Exchange
	waitFor(t, "the comparison in the journal", func() bool {
		x, _ = j.Backend().Get(context.Background(), r.messageID)
		return x != nil && x.Comparison != nil && x.Comparison.Result != ""
	})
	if all := strings.Join(x.Comparison.Differences, "\n"); x.Comparison.Result != "differ" || !strings.Contains(all, "legacy refused with SOAP fault 201") {
		t.Fatalf("comparison %s %q %s", x.Comparison.Result, all, x.Comparison.Error)
	}
}

// faultURL is a legacy route answering every message with Spine's SOAP
// fault of code.
func faultURL(t *testing.T, code string) string {
	t.Helper()
	srv, _ := faultingRoute(t, code, "refused by Spine")
	return srv.URL
}

// TestShadowNotRunForARetryableRefusal: when the primary path refused a
// SOAP sync request with a retryable fault (200, 206, 208: unavailable for
// a moment), the sender sends it again, yet the shadow path was run on it
// all the same: the other environment acted on the message (a release
// request released there) for a comparison already bound to be "error",
// and acted again on the sender's retry, whose comparison then set the
// second action's answer (nothing left to release) against the primary's
// first. Now the shadow path runs once, for the attempt the primary
// answered; the refused attempt is journalled and counted as an error that
// ran nothing.
func TestShadowNotRunForARetryableRefusal(t *testing.T) {
	answer := `<PORX_IN070103UK31 xmlns="urn:hl7-org:v3"><id root="X"/><note>café ✓</note></PORX_IN070103UK31>`
	tests := []struct {
		name, primary string
	}{
		{"FHIR path primary, EPS unavailable for a moment", "fhir"},
		{"legacy path primary, Spine unavailable for a moment", "legacy"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "6E2F1C2D-0000-4000-8000-00000000093" + string(rune('0'+i))
			// The primary refuses the first attempt with 200, answers the retry.
			var legacyCalls atomic.Int64
			route := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				n := legacyCalls.Add(1)
				w.Header().Set("Content-Type", "text/xml")
				if tt.primary == "legacy" && n == 1 {
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = io.WriteString(w, spineFaultBody("200", "System failure to process message - default"))
					return
				}
				_, _ = io.WriteString(w, answer)
			}))
			t.Cleanup(route.Close)
			fhir := soapProcessor(func(n int) (*Outcome, error) {
				if tt.primary == "fhir" && n == 1 {
					return &Outcome{Fault: fault("200", "EPS unavailable")}, nil
				}
				return nil, nil
			})
			shadowCalls := func() int64 {
				if tt.primary == "fhir" {
					return legacyCalls.Load()
				}
				return int64(fhir.callsFor(id))
			}
			j := newTestJournal(t)
			m := NewMetrics()
			proc := NewComparing(CompareConfig{Primary: tt.primary, Workers: 1, Timeout: 10 * time.Second}, fhir,
				&compare.Legacy{URL: route.URL}, j, m, quietLog())
			g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc), WithJournal(j))
			comparison := func(result string) *journal.Comparison {
				t.Helper()
				var x *journal.Exchange
				waitFor(t, "comparison "+result+" in the journal", func() bool {
					x, _ = j.Backend().Get(context.Background(), id)
					return x != nil && x.Comparison != nil && x.Comparison.Result == result
				})
				return x.Comparison
			}

			if code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload)); code != http.StatusInternalServerError {
				t.Fatalf("first attempt: status %d, want the primary's retryable fault\n%s", code, body)
			}
			if c := comparison("error"); !strings.Contains(c.Error, "retryable") {
				t.Errorf("comparison error %q does not say the primary's fault was retryable", c.Error)
			}
			time.Sleep(200 * time.Millisecond) // a shadow run would have been made by now
			if n := shadowCalls(); n != 0 {
				t.Fatalf("the shadow path ran %d times on an attempt the sender is to send again, want 0", n)
			}

			if code, body := sendSOAP(t, g.base, soapEnvelope(id, releaseReq, soapPayload)); code != http.StatusOK {
				t.Fatalf("retry: status %d, want the answer\n%s", code, body)
			}
			if c := comparison("match"); len(c.Differences) != 0 {
				t.Errorf("retry compared with differences %v", c.Differences)
			}
			if n := shadowCalls(); n != 1 {
				t.Errorf("the shadow path ran %d times over the two attempts, want 1", n)
			}
		})
	}
}
