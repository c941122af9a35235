package upstream

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// bodyTap records what RequestBody gives on each attempt of a call, as the
// journal's tap asks it (Config.Tap).
type bodyTap struct {
	next  http.RoundTripper
	mu    *sync.Mutex
	given *[][]byte
}

func (b bodyTap) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	*b.given = append(*b.given, RequestBody(req.Context()))
	b.mu.Unlock()
	return b.next.RoundTrip(req)
}

// TestRequestBodyIsTheCallersBody: a decorator of the client's transport
// gets, from RequestBody, the caller's own request body on every attempt
// of a call (a retry's too), and nil for a context of no call; EPS gets
// the body on every attempt.
func TestRequestBodyIsTheCallersBody(t *testing.T) {
	body := []byte(`{"resourceType":"Bundle","id":"b1"}`)
	var mu sync.Mutex
	var got [][]byte
	first := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		retry := first && r.Method == http.MethodPost
		first = first && !retry
		mu.Unlock()
		if retry {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", ContentTypeFHIR)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[]}`))
	}))
	t.Cleanup(srv.Close)
	var given [][]byte
	c, err := New(Config{BaseURL: srv.URL, Tap: func(next http.RoundTripper) http.RoundTripper { return bodyTap{next, &mu, &given} },
		Retry: RetryConfig{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.ProcessMessage(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	if len(given) != 2 || len(got) != 2 {
		t.Fatalf("%d attempts seen by the tap, %d by EPS; want 2 and 2", len(given), len(got))
	}
	for i := range given {
		if len(given[i]) != len(body) || &given[i][0] != &body[0] || !bytes.Equal(got[i], body) {
			t.Errorf("attempt %d: RequestBody gave %q (the caller's bytes: %v), EPS got %q", i+1, given[i], len(given[i]) > 0 && &given[i][0] == &body[0], got[i])
		}
	}
	if RequestBody(context.Background()) != nil {
		t.Error("RequestBody of a context of no call is not nil")
	}
}
