package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping/tracker"
)

// rawTrackerGet sends GET target (written as is, so that it may hold what
// a URL parser refuses) with the tracker headers over a loopback socket.
func rawTrackerGet(t *testing.T, base, target string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: porxgate\r\n", target)
	h := trackerHeaders()
	for k := range h {
		fmt.Fprintf(&b, "%s: %s\r\n", k, h.Get(k))
	}
	b.WriteString("Connection: close\r\n\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestTraceRetrieveMalformedPathID: a prescription id in the path that is
// not even a well-formed URL segment (a broken percent escape, an escaped
// slash) is refused as Spine refuses a bad prescription id — HTTP 200,
// statusCode 51 — and EPS is not asked.
func TestTraceRetrieveMalformedPathID(t *testing.T) {
	r := startTrackerRig(t, true)
	for _, target := range []string{
		PathTrackerSearch + "/%ZZ?format=trace",
		PathTrackerSearch + "/003D4D-A99968-4C5AA%?format=trace",
		PathTrackerSearch + "/003D4D-A99968-4C5AAJ%2F..?format=trace",
	} {
		code, body := rawTrackerGet(t, r.base, target)
		a, err := tracker.ParseTraceJSON([]byte(body))
		if err != nil || code != http.StatusOK || a.StatusCode != tracker.TrackerStatusBadPrescriptionID ||
			!strings.HasPrefix(a.Reason, tracker.TrackerReasonBadPrescriptionID) {
			t.Errorf("GET %s: HTTP %d (%v)\n%s\nwant 200 with statusCode 51", target, code, err, body)
		}
	}
	if n := r.sim.Stats().Requests["tracker"]; n != 0 {
		t.Errorf("%d malformed requests reached the EPS tracker", n)
	}
}
