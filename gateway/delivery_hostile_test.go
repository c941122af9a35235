package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHostileMHSAnswerMemory: the legacy MHS's answer to a delivery is
// read within the bounds the front door applies to what it reads into a
// tree (at most 100,000 elements): a broken or hostile MHS that answers
// HTTP 200 with an envelope of a quarter of a million empty elements (the
// 1 MiB read of an answer) costs the gateway a couple of megabytes, not a
// tree of them. Before, each such answer took about 60 MB of heap (100 MB
// allocated) and 0.8 s of CPU to read, multiplied by the delivery workers
// (64) and each retry.
func TestHostileMHSAnswerMemory(t *testing.T) {
	const bound = 20 << 20
	head := `<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header>`
	tail := `</SOAP-ENV:Header><SOAP-ENV:Body/></SOAP-ENV:Envelope>`
	answer := []byte(head + strings.Repeat("<a/>", (1<<20-len(head)-len(tail))/4) + tail)
	mhs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(answer)
	}))
	t.Cleanup(mhs.Close)
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(newFakeProcessor()),
		WithRoutes(routesTo(t, mhs.URL, `, "retries": 0`)))
	peak := heapPeak(t)
	if code, _ := sendEb(t, g.base, newReq(newID(t, 70))); code != http.StatusAccepted {
		t.Fatal("not acknowledged")
	}
	dl := waitDeadLetters(t, g, 1)[0]
	if p := peak(); p > bound {
		t.Errorf("one delivery answered with %d bytes of empty elements took %d MB of heap, want at most %d MB", len(answer), p>>20, bound>>20)
	}
	if !strings.Contains(dl.Reason, "without an eb:Acknowledgment") || !strings.Contains(dl.Reason, "elements") {
		t.Errorf("dead letter reason %q, want it to say the answer was no eb:Acknowledgment, with too many elements", dl.Reason)
	}
}
