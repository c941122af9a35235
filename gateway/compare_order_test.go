package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/compare"
)

// TestShadowRunsKeepTheirOrder: a sender sends a prescription, and once
// it is answered a cancellation of it. With two shadow workers the two
// shadow runs went down the other path at once: the cancellation reached
// Spine while the prescription was still being taken there (Spine answers
// "not found"), a difference of the comparison's making. A shadow run now
// starts only once the shadow runs of the messages the primary had
// answered before its message was received have finished.
func TestShadowRunsKeepTheirOrder(t *testing.T) {
	var mu sync.Mutex
	var events []string
	route := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		name := "cancel"
		if strings.Contains(string(body), "PRESCRIPTION-FIRST") {
			name = "prescription"
		}
		mu.Lock()
		events = append(events, name+" arrived")
		mu.Unlock()
		if name == "prescription" {
			time.Sleep(300 * time.Millisecond) // Spine taking it
		}
		mu.Lock()
		events = append(events, name+" taken")
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(mcciPayload("X"))
	}))
	t.Cleanup(route.Close)
	fhir := newFakeProcessor()
	proc := NewComparing(CompareConfig{Primary: "fhir", Workers: 2, Timeout: 10 * time.Second}, fhir,
		&compare.Legacy{URL: route.URL}, nil, NewMetrics(), quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc))

	first := newReq(newID(t, 970))
	first.payload = []byte(strings.Replace(string(first.payload), "<note>", "<note>PRESCRIPTION-FIRST ", 1))
	if code, body := sendEb(t, g.base, first); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "the prescription answered", func() bool { return fhir.callsFor(first.messageID) == 1 })
	// Its answer recorded: its shadow run has begun, which it does only
	// after. Before, a fixed 20 ms after the primary call began, which a
	// loaded machine can spend before the answer is recorded: the
	// cancellation then came before it, and its shadow run rightly did
	// not wait for the prescription's.
	waitFor(t, "the prescription's shadow run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) > 0
	})
	second := newReq(newID(t, 971))
	if code, body := sendEb(t, g.base, second); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	waitFor(t, "both at the legacy route", func() bool { mu.Lock(); defer mu.Unlock(); return len(events) == 4 })
	mu.Lock()
	defer mu.Unlock()
	want := []string{"prescription arrived", "prescription taken", "cancel arrived", "cancel taken"}
	if strings.Join(events, ", ") != strings.Join(want, ", ") {
		t.Fatalf("the legacy route saw %v, want %v", events, want)
	}
}
