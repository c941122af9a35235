package journal

import (
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
