package sim

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// borrowedFrom reports the path of the first string reachable from v
// whose bytes lie inside one of bodies ("" when none does): a string the
// State would keep borrowed from a request body.
func borrowedFrom(v reflect.Value, bodies [][]byte) string {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, path string) string
	inside := func(s string) bool {
		if len(s) == 0 {
			return false
		}
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		for _, b := range bodies {
			lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
			if p >= lo && p < lo+uintptr(len(b)) {
				return true
			}
		}
		return false
	}
	walk = func(v reflect.Value, path string) string {
		switch v.Kind() {
		case reflect.String:
			if inside(v.String()) {
				return path + " = " + v.String()
			}
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return ""
			}
			seen[v.Pointer()] = true
			return walk(v.Elem(), path)
		case reflect.Interface:
			if !v.IsNil() {
				return walk(v.Elem(), path)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if bad := walk(v.Field(i), path+"."+v.Type().Field(i).Name); bad != "" {
					return bad
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				if bad := walk(v.Index(i), path+"[]"); bad != "" {
					return bad
				}
			}
		case reflect.Map:
			it := v.MapRange()
			for it.Next() {
				if bad := walk(it.Key(), path+"{key}"); bad != "" {
					return bad
				}
				if bad := walk(it.Value(), path+"{}"); bad != "" {
					return bad
				}
			}
		}
		return ""
	}
	return walk(v, "State")
}

// TestStateOwnsItsStrings sends the handlers (as serveFHIR calls them,
// with the body as read) a prescription's life — prescription-order,
// release, dispense notifications, claim — and a cancellation, one of a
// prescription still to come, and more prescriptions than the cap keeps,
// and finds no string in the State that lies in a request body: what the
// decoders borrow from a body (decodeMessage) is copied before the State
// keeps it (owned), so that a kept id never keeps a whole message alive.
func TestStateOwnsItsStrings(t *testing.T) {
	s := New(Options{Now: func() time.Time { return t0 }, NewID: counterIDs(), Logger: slog.New(slog.DiscardHandler), MaxPrescriptions: 5})
	var bodies [][]byte
	send := func(h fhirHandler, name string, repl map[string]string, want int) {
		t.Helper()
		body := fixture(t, name, repl)
		bodies = append(bodies, body)
		r := httptest.NewRequest(http.MethodPost, "http://sim"+DefaultBasePath+"/x", nil)
		if rep := h(r, body, t0); rep.status != want {
			t.Fatalf("%s: %d, want %d: %s", name, rep.status, want, rep.body)
		}
	}
	a, b, c := newRx(t, 1, "FH542"), newRx(t, 2, "FH542"), newRx(t, 3, "FH542")
	send(s.processMessage, "prescription-order.json", a.repl(nil), http.StatusOK)
	send(s.release, "release-nominated.json", a.repl(nil), http.StatusOK)
	send(s.processMessage, "dispense-notification.json", a.repl(map[string]string{"STATUS1": "0003", "STATUS2": "0003", "MESSAGEID": "d1"}), http.StatusOK)
	send(s.processMessage, "dispense-notification.json", a.repl(map[string]string{"STATUS1": "0001", "STATUS2": "0001", "MESSAGEID": "d2", "REPLACES": "d1"}), http.StatusOK)
	send(s.claim, "claim.json", a.repl(nil), http.StatusOK)
	d, e := newRx(t, 9, "FH542"), newRx(t, 10, "FH542")
	send(s.processMessage, "prescription-order.json", d.repl(nil), http.StatusOK)
	send(s.release, "release-nominated.json", d.repl(nil), http.StatusOK)
	send(s.task, "return.json", d.repl(nil), http.StatusOK)
	send(s.processMessage, "prescription-order.json", e.repl(nil), http.StatusOK)
	send(s.release, "release-nominated.json", e.repl(nil), http.StatusOK)
	send(s.processMessage, "dispense-notification.json", e.repl(map[string]string{"STATUS1": "0003", "STATUS2": "0003", "MESSAGEID": "e1"}), http.StatusOK)
	send(s.task, "withdraw.json", e.repl(map[string]string{"FOCUSID": "e1"}), http.StatusOK)
	send(s.processMessage, "prescription-order.json", b.repl(nil), http.StatusOK)
	send(s.processMessage, "cancel.json", b.repl(nil), http.StatusOK)
	send(s.processMessage, "cancel.json", c.repl(nil), http.StatusBadRequest) // not yet there: kept pending
	send(s.processMessage, "prescription-order.json", c.repl(nil), http.StatusOK)
	check := func(when string) {
		t.Helper()
		s.state.mu.Lock()
		defer s.state.mu.Unlock()
		if bad := borrowedFrom(reflect.ValueOf(s.state), bodies); bad != "" {
			t.Errorf("%s, the State keeps a string borrowed from a request body: %s", when, bad)
		}
	}
	check("with every prescription held")
	for n := uint32(11); n <= 16; n++ { // past the cap: the first are forgotten
		send(s.processMessage, "prescription-order.json", newRx(t, n, "FH542").repl(nil), http.StatusOK)
	}
	if s.state.Evicted() == 0 {
		t.Fatal("nothing forgotten: the cap's ids are not covered")
	}
	check("with the first forgotten")
}

// TestBorrowedFromFindsBorrowedStrings is the check's own test: a string
// sliced out of a body is found, a copy is not.
func TestBorrowedFromFindsBorrowedStrings(t *testing.T) {
	body := []byte(`{"id":"abc"}`)
	borrowed := unsafe.String(&body[7], 3)
	type holder struct {
		M map[string][]string
		P *string
	}
	if got := borrowedFrom(reflect.ValueOf(holder{P: &borrowed}), [][]byte{body}); got == "" {
		t.Error("a borrowed string behind a pointer was not found")
	}
	if got := borrowedFrom(reflect.ValueOf(holder{M: map[string][]string{"k": {borrowed}}}), [][]byte{body}); got == "" {
		t.Error("a borrowed string in a map was not found")
	}
	owned := strings.Clone(borrowed)
	if got := borrowedFrom(reflect.ValueOf(holder{P: &owned}), [][]byte{body}); got != "" {
		t.Errorf("a copy was found borrowed: %s", got)
	}
}

// TestReadBody reads bodies as serveFHIR does: one of a stated length
// into a buffer of exactly that length, any other as io.ReadAll reads it,
// with the same bytes and the same errors.
func TestReadBody(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1000) // 16 000 bytes: past net/http's 4 KiB buffer
	cases := []struct {
		name    string
		body    io.Reader
		length  int64 // Content-Length as stated (-1: unknown, chunked)
		want    []byte
		wantErr string
		exact   bool
		raw     bool // sent by hand: the client refuses to send it
	}{
		{name: "stated", body: bytes.NewReader(payload), length: int64(len(payload)), want: payload, exact: true},
		{name: "one byte", body: strings.NewReader("x"), length: 1, want: []byte("x"), exact: true},
		{name: "empty", body: strings.NewReader(""), length: 0, want: []byte{}},
		{name: "unknown length", body: bytes.NewReader(payload), length: -1, want: payload},
		{name: "shorter than stated", body: bytes.NewReader(payload[:100]), length: 200, wantErr: "unexpected EOF", raw: true},
		{name: "stated beyond the limit", body: io.LimitReader(zeros{}, maxBodyBytes+10), length: maxBodyBytes + 10,
			wantErr: "http: request body too large"},
		{name: "unknown length beyond the limit", body: io.LimitReader(zeros{}, maxBodyBytes+10), length: -1,
			wantErr: "http: request body too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := make(chan struct{}, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() { ran <- struct{}{} }()
				got, err := readBody(w, r)
				switch {
				case tc.wantErr != "":
					if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
						t.Errorf("error %v, want one saying %q", err, tc.wantErr)
					}
				case err != nil:
					t.Errorf("readBody: %v", err)
				case !bytes.Equal(got, tc.want) || got == nil:
					t.Errorf("read %d bytes (nil: %t), want %d", len(got), got == nil, len(tc.want))
				case tc.exact && cap(got) != len(got):
					t.Errorf("buffer of %d bytes for a body of %d", cap(got), len(got))
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			if tc.raw {
				sendRaw(t, srv.Listener.Addr().String(), tc.length, tc.body)
			} else {
				req, err := http.NewRequest(http.MethodPost, srv.URL, tc.body)
				if err != nil {
					t.Fatal(err)
				}
				req.ContentLength = tc.length
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				} else if tc.wantErr == "" {
					t.Fatal(err)
				}
			}
			select {
			case <-ran:
			case <-time.After(10 * time.Second):
				t.Fatal("the handler did not run")
			}
		})
	}
}

// zeros reads zero bytes without end.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// sendRaw sends addr a POST stating Content-Length length followed by
// what body holds, and closes its side.
func sendRaw(t *testing.T, addr string, length int64, body io.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "POST /x HTTP/1.1\r\nHost: sim\r\nContent-Length: %d\r\n\r\n", length); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(c, body); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	_, _ = io.Copy(io.Discard, c)
}
