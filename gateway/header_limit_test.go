package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// manyHeaders returns n bytes or a little more of HTTP header lines, as a
// legacy MHS and the proxies before it write them: a long vendor header,
// then many short ones.
func manyHeaders(n int) string {
	var b strings.Builder
	b.WriteString("X-MHS-Trace: " + strings.Repeat("a1b2c3d4", 256) + "\r\n") // 2 KiB in one line
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "X-Hop-%03d: relay-%03d.hscn.example.nhs.uk;ts=20260301120000\r\n", i, i)
	}
	return b.String()
}

// TestHeadTooLarge: a request whose head (request line and headers) is
// over the HTTP server's 4 KiB but within --max-header (16 KiB by
// default) is taken at either door, as before session 19 it was refused
// with Fiber's plain 431 and a JSON body; one over --max-header gets its
// door's Spine-shaped refusal (an eb:MessageError NotSupported 910026,
// a SOAP fault 300 910026, as for a body over --max-body), in full
// although its body is never read, never echoing the request; another
// path gets 431 saying why.
func TestHeadTooLarge(t *testing.T) {
	proc := soapProcessor(nil)
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	soap := soapEnvelope("6E2F1C2D-0000-4000-8000-000000000990", releaseReq, soapPayload)
	big := bytes.Repeat([]byte("Zoë Łukasiewicz "), 512<<10) // 9 MiB the server never reads, past the sockets' buffers
	tests := []struct {
		name, path string
		headers    int
		body       []byte
		want       string // "taken", "ebxml", "soap" or "json"
	}{
		{"ebXML, 10 KiB of headers", PathEbXML, 10 << 10, nil, "taken"},
		{"SOAP, 10 KiB of headers", PathSOAP, 10 << 10, soap, "taken"},
		{"ebXML, 20 KiB of headers", PathEbXML, 20 << 10, nil, "ebxml"},
		{"ebXML, 20 KiB of headers, a body never read", PathEbXML, 20 << 10, big, "ebxml"},
		{"SOAP, 20 KiB of headers", PathSOAP, 20 << 10, soap, "soap"},
		{"SOAP, 20 KiB of headers, a body never read", PathSOAP, 20 << 10, big, "soap"},
		{"another path", "/mm/prescriptions", 20 << 10, soap, "json"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers, body := manyHeaders(tt.headers), tt.body
			switch tt.path {
			case PathEbXML:
				req := newReq(newID(t, 990+i))
				ct, action, msg := req.build()
				headers = "Content-Type: " + ct + "\r\nSOAPAction: " + action + "\r\n" + headers
				if body == nil {
					body = msg
				}
			default:
				headers = "Content-Type: text/xml\r\n" + headers
			}
			calls := proc.numCalls()
			code, ctype, answer := rawRequest(t, g.base, http.MethodPost, tt.path, headers, body)
			for _, leaked := range []string{"Zoë", "Łukasiewicz", "PORX_IN", "X-Hop", "a1b2c3d4", "contents:"} {
				if tt.want != "taken" && strings.Contains(answer, leaked) {
					t.Errorf("answer echoes the request (%q):\n%.600s", leaked, answer)
				}
			}
			if tt.want == "soap" && proc.numCalls() != calls {
				t.Error("a refused SOAP request was processed")
			}
			const limit = "910026:the request's HTTP headers exceed the 16384-byte limit"
			switch tt.want {
			case "taken":
				want := http.StatusAccepted
				if tt.path == PathSOAP {
					want = http.StatusOK
				}
				if code != want {
					t.Fatalf("status %d %s, want %d (taken)\n%.600s", code, ctype, want, answer)
				}
			case "ebxml":
				if code != http.StatusInternalServerError || ctype != xmlContentType {
					t.Fatalf("status %d %s, want 500 text/xml\n%.600s", code, ctype, answer)
				}
				if c, d := ebErrorOf(t, []byte(answer)); c != string(ebxml.CodeNotSupported) || !strings.HasPrefix(d, limit) {
					t.Errorf("eb:Error %s %q, want NotSupported %q", c, d, limit)
				}
			case "soap":
				if code != http.StatusInternalServerError || ctype != xmlContentType {
					t.Fatalf("status %d %s, want 500 text/xml\n%.600s", code, ctype, answer)
				}
				if c, d := faultCode(t, []byte(answer)); c != ebxml.TMSCodeMalformed || !strings.HasPrefix(d, limit) {
					t.Errorf("fault %s %q, want 300 %q", c, d, limit)
				}
			default:
				if code != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(answer, "exceed the 16384-byte limit") {
					t.Errorf("status %d, want 431 saying the limit\n%.600s", code, answer)
				}
			}
		})
	}
}
