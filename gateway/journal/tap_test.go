package journal

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTapJournalsExchangeCalls: a call made for an exchange is journalled
// (request, answer, X-Request-ID) and reaches the server unchanged; a call
// made for none is not; credentials never reach the journal.
func TestTapJournalsExchangeCalls(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/fhir+json")
		w.Header().Set("X-Request-ID", r.Header.Get("X-Request-ID"))
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","echo":` + string(b) + `}`))
	}))
	defer srv.Close()
	j := New(NewMemory(Retention{}), Options{})
	run(t, j)
	client := &http.Client{Transport: j.Tap(http.DefaultTransport)}
	call := func(ctx context.Context) string {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/FHIR/R4/$process-message", strings.NewReader(`{"a":1}`))
		req.Header.Set("X-Request-ID", "rq-1")
		req.Header.Set("Authorization", "Bearer secret-token")
		req.Header.Set("X-Api-Key", "secret-key")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := call(WithExchange(context.Background(), "M1")); !strings.Contains(got, `"echo":{"a":1}`) {
		t.Fatalf("the call's answer changed: %s", got)
	}
	call(context.Background())
	waitAll(t, j)
	x, _ := j.Backend().Get(context.Background(), "M1")
	if x == nil || len(x.Steps) != 2 {
		t.Fatalf("journalled %+v", x)
	}
	req, ans := x.Steps[0], x.Steps[1]
	if req.Kind != StepFHIRRequest || req.Body != `{"a":1}` || !strings.Contains(req.Title, "$process-message") ||
		ans.Kind != StepEPSAnswer || ans.Status != 400 || !strings.Contains(ans.Body, "OperationOutcome") || ans.Headers["X-Request-ID"] != "rq-1" {
		t.Errorf("steps %+v", x.Steps)
	}
	if len(x.IDs.XRequestIDs) != 1 || x.IDs.XRequestIDs[0] != "rq-1" {
		t.Errorf("X-Request-IDs %v", x.IDs.XRequestIDs)
	}
	for _, s := range x.Steps {
		for k, v := range s.Headers {
			if strings.Contains(v, "secret") {
				t.Errorf("credential in the journal: %s: %s", k, v)
			}
		}
	}
	if list, _ := j.Backend().Search(context.Background(), Query{}); len(list) != 1 {
		t.Errorf("a call made for no exchange was journalled: %+v", list)
	}
}

// tapStub answers every call with answer, its length declared, as EPS
// does, without a network in between.
type tapStub struct{ answer []byte }

func (s tapStub) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{"Content-Type": {"application/fhir+json"}},
		ContentLength: int64(len(s.answer)), Body: io.NopCloser(bytes.NewReader(s.answer))}, nil
}

// TestTapCopiesEachBodyOnce checks that the tap keeps each body of a
// journalled call in one allocation of its size, the caller still
// reading the answer whole: each was read with io.ReadAll (its buffer
// grown from 512 bytes) and then copied into a string, about three times
// a 20 KB Bundle allocated for each call to EPS.
func TestTapCopiesEachBodyOnce(t *testing.T) {
	tests := []struct {
		name          string
		request, resp int
	}{
		{"a prescription", 20 << 10, 600},
		{"a release answer", 1 << 10, 60 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := New(NewMemory(Retention{}), Options{}) // not run: what it records waits, or is dropped
			answer := bytes.Repeat([]byte("a"), tt.resp)
			rt := j.Tap(tapStub{answer: answer})
			body := bytes.Repeat([]byte("r"), tt.request)
			req, err := http.NewRequestWithContext(WithExchange(context.Background(), "M1"), http.MethodPost, "http://eps.invalid/FHIR/R4/$process-message", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := io.ReadAll(resp.Body); !bytes.Equal(got, answer) {
				t.Fatalf("the caller read %d bytes of the answer, want its %d", len(got), len(answer))
			}
			perCall := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := rt.RoundTrip(req); err != nil { // the caller's read of the answer is not the tap's cost
						b.Fatal(err)
					}
				}
			}).AllocedBytesPerOp()
			t.Logf("%d bytes allocated a call", perCall)
			// Each body once, in the allocator's size classes, and the events.
			if limit := int64(tt.request+tt.resp)*9/8 + 4<<10; perCall > limit {
				t.Errorf("%d bytes allocated a call, want at most %d (each body once, and a little)", perCall, limit)
			}
		})
	}
}

// bodyKey is the context key under which TestTapKeepsAGivenBodyUncopied
// gives a call's body, as the EPS client gives it (upstream.RequestBody).
type bodyKey struct{}

// TestTapKeepsAGivenBodyUncopied: with Options.RequestBody, the tap keeps
// the body it gives for a call as it is instead of reading a copy through
// GetBody: a call then allocates less than its request body, and the
// step holds the body.
func TestTapKeepsAGivenBodyUncopied(t *testing.T) {
	body := bytes.Repeat([]byte("r"), 20<<10)
	given := func(ctx context.Context) []byte { b, _ := ctx.Value(bodyKey{}).([]byte); return b }
	j := New(NewMemory(Retention{}), Options{RequestBody: given})
	rt := j.Tap(tapStub{answer: bytes.Repeat([]byte("a"), 600)})
	ctx := context.WithValue(WithExchange(context.Background(), "M1"), bodyKey{}, body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://eps.invalid/FHIR/R4/$process-message", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	perCall := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rt.RoundTrip(req); err != nil {
				b.Fatal(err)
			}
		}
	}).AllocedBytesPerOp()
	t.Logf("%d bytes allocated a call with a %d-byte request", perCall, len(body))
	if perCall >= int64(len(body)) {
		t.Errorf("%d bytes allocated a call: the %d-byte request body was copied", perCall, len(body))
	}
	run(t, j)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	waitAll(t, j)
	x, _ := j.Backend().Get(context.Background(), "M1")
	if x == nil || len(x.Steps) == 0 || x.Steps[0].Kind != StepFHIRRequest || x.Steps[0].Body != string(body) {
		t.Fatalf("the request step does not hold the body: %+v", x)
	}
}
