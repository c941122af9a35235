package journal

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"
	"unsafe"
)

// maxRecordedBody caps how much of one body the journal keeps.
const maxRecordedBody = 1 << 20

// tapHeaders are the headers of an EPS call worth keeping; credentials
// never pass the tap (it sits above authentication).
var tapHeaders = []string{"X-Request-ID", "X-Correlation-ID", "NHSD-Session-URID", "Content-Type", "Location", "Retry-After"}

// exchangeKey is the context key of the exchange a call belongs to.
type exchangeKey struct{}

// WithExchange returns ctx marked as working on exchange id (the legacy
// MessageId): EPS calls made with it are journalled under that exchange.
func WithExchange(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, exchangeKey{}, id)
}

// ExchangeOf returns the exchange ctx works on, or "".
func ExchangeOf(ctx context.Context) string {
	id, _ := ctx.Value(exchangeKey{}).(string)
	return id
}

// Tap returns an http.RoundTripper decorator that journals each EPS FHIR
// call made for an exchange (WithExchange): the request (method, path,
// headers that matter, body) as a fhir-request step and the answer
// (status, headers, body, time taken) or the error as an eps-answer step.
// Other calls (the Tracker API's, the cancellation poller's) pass
// untouched. It costs a journalled call one copy of each body, but of a
// request body Options.RequestBody gives, which it keeps as it is.
// A nil Journal returns next.
func (j *Journal) Tap(next http.RoundTripper) http.RoundTripper {
	if j == nil {
		return next
	}
	return tap{j: j, next: next}
}

type tap struct {
	j    *Journal
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t tap) RoundTrip(req *http.Request) (*http.Response, error) {
	id := ExchangeOf(req.Context())
	if id == "" {
		return t.next.RoundTrip(req)
	}
	var reqBody string
	var whole []byte
	if t.j.opts.RequestBody != nil {
		whole = t.j.opts.RequestBody(req.Context())
	}
	switch {
	case whole != nil:
		reqBody = Payload(whole[:min(len(whole), maxRecordedBody)])
	case req.GetBody != nil:
		if rc, err := req.GetBody(); err == nil {
			reqBody, _ = readString(io.LimitReader(rc, maxRecordedBody), min(req.ContentLength, maxRecordedBody))
			_ = rc.Close()
		}
	}
	xrid := req.Header.Get("X-Request-ID")
	start := time.Now()
	t.j.Record(Event{Exchange: id, At: start, IDs: IDs{XRequestIDs: []string{xrid}}, Step: &Step{
		Kind: StepFHIRRequest, Title: req.Method + " " + req.URL.Path, Headers: pick(req.Header),
		ContentType: req.Header.Get("Content-Type"), Body: reqBody}})
	resp, err := t.next.RoundTrip(req)
	took := time.Since(start).Milliseconds()
	if err != nil {
		t.j.Record(Event{Exchange: id, Step: &Step{Kind: StepEPSAnswer, Title: "no answer from EPS",
			TookMS: took, Note: err.Error(), Headers: map[string]string{"X-Request-ID": xrid}}})
		return nil, err
	}
	// The answer is read once, into the string the journal keeps, which
	// the caller then reads.
	body, rerr := readString(resp.Body, resp.ContentLength)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(body))
	if rerr != nil {
		return nil, rerr
	}
	rec := body
	if len(rec) > maxRecordedBody {
		rec = rec[:maxRecordedBody]
	}
	h := pick(resp.Header)
	if h == nil {
		h = map[string]string{}
	}
	if h["X-Request-ID"] == "" {
		h["X-Request-ID"] = xrid
	}
	t.j.Record(Event{Exchange: id, Step: &Step{Kind: StepEPSAnswer, Title: "EPS answered " + resp.Status,
		Status: resp.StatusCode, Headers: h, ContentType: resp.Header.Get("Content-Type"), Body: rec, TookMS: took}})
	return resp, nil
}

// maxPresized bounds the allocation readString makes up front on a
// declared size; a larger body grows as it arrives.
const maxPresized = 4 << 20

// readString reads r to its end into a string, in one allocation when
// size (the declared length, negative when unknown) is right. Before, a
// body the journal keeps was read with io.ReadAll (its buffer grown from
// 512 bytes: about twice the body allocated), then copied into its string.
func readString(r io.Reader, size int64) (string, error) {
	if size < 0 || size > maxPresized {
		size = 512
	}
	b := make([]byte, 0, size+1) // +1: the end is seen without growing
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			// b is this function's alone and never written again: the
			// string shares its memory.
			return unsafe.String(unsafe.SliceData(b), len(b)), err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// pick returns the headers of h worth keeping.
func pick(h http.Header) map[string]string {
	var out map[string]string
	for _, k := range tapHeaders {
		if v := h.Get(k); v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	for k, v := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-") || len(v) == 0 || strings.Contains(lk, "key") || strings.Contains(lk, "token") {
			continue
		}
		dup := false
		for have := range out {
			dup = dup || strings.EqualFold(have, k)
		}
		if !dup {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v[0]
		}
	}
	return out
}
