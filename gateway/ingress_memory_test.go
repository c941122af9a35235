package gateway

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// heapPeak samples the heap in use every millisecond until the returned
// function is called, which gives the largest growth seen over the heap in
// use (after a collection) when heapPeak was called.
func heapPeak(t *testing.T) func() uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > before && m.HeapInuse-before > peak.Load() {
				peak.Store(m.HeapInuse - before)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// TestHostileBodiesMemory: a message within --max-body costs the gateway
// about as much memory whatever its shape, from the door to its answer
// (the EPS simulator behind a real processor): a few dozen megabytes for
// 4 MiB, as a prescription padded with text does, and never hundreds.
// Before, one 4 MiB message of 800,000 empty MIME parts took 250-410 MB
// of heap (its parts, each an attachment kept, logged and journalled), an
// ebXML envelope of a million empty elements 230-350 MB (the tree the
// header is read into), and a payload of them as much again in the inbox
// worker that read it, and an eb:Acknowledgment (text/xml) of them 206 MB;
// --max-in-flight (128) and the inbox workers (64) multiply it.
func TestHostileBodiesMemory(t *testing.T) {
	const size = 4<<20 - 4096 // within the default --max-body
	const bound = 100 << 20   // the plain 4 MiB message takes about 35 MB
	_, client := startSim(t)
	mhs := startMHS(t, "ack")
	proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog())
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
	payload, _ := legacyPrescription(t, "acute-nurse-controlled-drug-unsigned.json")
	// fill grows body to size with unit repeated before the first marker.
	fill := func(body []byte, marker, unit string) []byte {
		n := (size - len(body)) / len(unit)
		return bytes.Replace(body, []byte(marker), []byte(strings.Repeat(unit, n)+marker), 1)
	}
	tests := []struct {
		name string
		make func(id string) (ct, action string, body []byte)
		// refused is what the MessageError says when the door refuses it.
		refused string
	}{
		{"prescription padded with text (the yardstick)", func(id string) (string, string, []byte) {
			r := newReq(id)
			r.payload = payload
			ct, action, body := r.build()
			return ct, action, fill(body, "<!--end-->", "x")
		}, ""},
		{"many empty MIME parts", func(id string) (string, string, []byte) {
			return hostileEbXML(t, id, 1, size)
		}, "more than 100 parts"},
		{"ebXML envelope of empty elements", func(id string) (string, string, []byte) {
			r := newReq(id)
			r.payload = payload
			ct, action, body := r.build()
			return ct, action, fill(body, "</SOAP-ENV:Header>", "<a/>")
		}, "900010:ebXML header part cannot be read as XML: the envelope has more than 100000 elements"},
		{"payload of empty elements", func(id string) (string, string, []byte) {
			r := newReq(id)
			r.payload = payload
			ct, action, body := r.build()
			return ct, action, fill(body, "</PORX_IN020101UK31>", "<a/>")
		}, "910007:payload has more than 100000 elements"},
		{"acknowledgment (text/xml) of empty elements", func(id string) (string, string, []byte) {
			sig := ackFrom(t, senderParty, id)
			return "text/xml", "ebXML", fill(sig, "</SOAP:Header>", "<a/>")
		}, "is not multipart/related"}, // as any text/xml body that is no signal
	}
	payload = bytes.Replace(payload, []byte("</PORX_IN020101UK31>"), []byte("<!--end--></PORX_IN020101UK31>"), 1)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := newID(t, 950+i)
			ct, action, body := tc.make(id)
			done := heapPeak(t)
			code, b := post(t, &http.Client{Timeout: time.Minute}, g.base+PathEbXML, ct, action, body)
			if code == http.StatusAccepted && ct != "text/xml" { // a signal has no answer
				waitFor(t, "the answer", func() bool {
					for _, m := range mhs.messages() {
						if m.msg != nil && m.msg.RefToMessageID == id && m.msg.Action == v3.ApplicationAcknowledgement {
							return true
						}
					}
					return false
				})
			}
			peak := done()
			t.Logf("%d bytes: HTTP %d, heap grew by up to %d MB", len(body), code, peak>>20)
			if code != http.StatusAccepted && code != http.StatusInternalServerError {
				t.Fatalf("status %d\n%.500s", code, b)
			}
			if code == http.StatusInternalServerError && tc.refused != "" {
				if _, desc := ebErrorOf(t, b); !strings.Contains(desc, tc.refused) {
					t.Errorf("refused with %q, want it to say %q", desc, tc.refused)
				}
			}
			if peak > bound {
				t.Errorf("heap grew by %d MB for one %d-byte message, want at most %d MB", peak>>20, len(body), bound>>20)
			}
		})
	}
}

// TestBodyMemoryFollowsBytesSent: a request's body costs the memory of
// the bytes that arrived, not of the length it announces. The HTTP server
// allocated the whole Content-Length when the headers arrived: 100
// connections, each sending a Content-Length of 4 MiB and one byte of body
// (15 KB in all), held 400 MB for the 30 s read timeout, whatever
// --max-in-flight said (it counts messages whose body has arrived).
func TestBodyMemoryFollowsBytesSent(t *testing.T) {
	const conns = 100
	const bound = 50 << 20
	g := startGateway(t, testConfig(), newMemoryStore(), true, WithProcessor(newFakeProcessor()))
	done := heapPeak(t)
	for _, path := range []string{PathEbXML, PathSOAP} {
		for range conns / 2 {
			c, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: porxgate.test\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n<", path, 4<<20-1); err != nil {
				t.Fatal(err)
			}
		}
	}
	time.Sleep(time.Second) // every connection's headers read
	peak := done()
	t.Logf("%d connections announcing 4 MiB, one byte sent each: heap grew by up to %d MB", conns, peak>>20)
	if peak > bound {
		t.Errorf("heap grew by %d MB, want at most %d MB", peak>>20, bound>>20)
	}
}
