package gateway

import (
	"errors"
	"strings"
	"testing"
)

// TestReadUnreadableHeaders reads the HTTP server's errors for request
// headers it cannot read: the door the request line names and the reason,
// never the request's bytes; other errors are not taken for one.
func TestReadUnreadableHeaders(t *testing.T) {
	const pre = "error when reading request headers: "
	tests := []struct {
		name, err    string
		ok           bool
		path, reason string
	}{
		{"ebXML door", pre + `invalid header key "Content-Type ": buffer size=2351, contents: "POST /reliablemessaging/reliablerequest HTTP/1.1\r\nHost: x\r\nContent-Type : mult"..."Zoë</note>"`,
			true, PathEbXML, `invalid header key "Content-Type "`},
		{"SOAP door with a query", pre + `conflicting content-type headers: buffer size=99, contents: "POST /syncservice-mm/mm?x=1 HTTP/1.1\r\nHost: x"`,
			true, PathSOAP, "conflicting content-type headers"},
		{"not a POST", pre + `malformed: buffer size=9, contents: "GET /syncservice-mm/mm HTTP/1.1\r\n"`, true, "", "malformed"},
		{"no snippet (secure log messages)", pre + "malformed mime header line: buffer size=12", true, "", "malformed mime header line"},
		{"snippet cut short", pre + `bad: buffer size=3, contents: "POS`, true, "", "bad"},
		{"request line alone", pre + `bad: buffer size=3, contents: "POST"`, true, "", "bad"},
		{"wrapped", "fiber: " + pre + `x: buffer size=1, contents: "POST /reliablemessaging/reliablerequest HTTP/1.1"`, true, PathEbXML, "x"},
		{"another error", "body size exceeds the given limit", false, "", ""},
		{"empty", "", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := readUnreadableHeaders(errors.New(tt.err))
			if ok != tt.ok || h.path != tt.path || h.reason != tt.reason {
				t.Errorf("got %+v %v, want path %q reason %q %v", h, ok, tt.path, tt.reason, tt.ok)
			}
		})
	}
}

// FuzzReadUnreadableHeaders: any error text reads without a panic, and
// what is kept of it never holds the request's bytes.
// Seeds: testdata/fuzz/FuzzReadUnreadableHeaders.
func FuzzReadUnreadableHeaders(f *testing.F) {
	f.Add(`error when reading request headers: x: buffer size=1, contents: "POST /reliablemessaging/reliablerequest HTTP/1.1\r\nsecret"`)
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := readUnreadableHeaders(errors.New(s))
		if !ok {
			return
		}
		if strings.Contains(h.reason, "buffer size=") || strings.Contains(h.path, `\r\n`) {
			t.Fatalf("kept request bytes: %+v", h)
		}
	})
}
