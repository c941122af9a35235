package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// ContentTypeFHIR is the media type of every FHIR body sent and accepted.
const ContentTypeFHIR = "application/fhir+json"

// Response is an answer from EPS that the Client hands back as final: any
// status below 500 but 202, 401, 408 and 429 (other 4xx included: Body is
// then the OperationOutcome), and 501 and 505.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
	// RequestID is the X-Request-ID sent on every attempt of the call.
	RequestID string
	// Attempts is the number of attempts made (1 without retries).
	Attempts int
	// Pages is the number of pages a paged tracker answer was fetched in
	// (TrackerGet); 0 or 1 for every other answer.
	Pages int
	// DuplicateResolved is set when a retried prescription-order was answered
	// DUPLICATE_PRESCRIPTION_ID, or 202 Duplicate HL7 ID Error (EPS took a
	// message with its Bundle.identifier already), after an earlier attempt
	// may have been stored: the Client then reports success (Status 200,
	// informational OperationOutcome) instead of the 400.
	DuplicateResolved bool

	// earlierMaybeDelivered: an earlier attempt of this call may have
	// reached the server.
	earlierMaybeDelivered bool
}

// Client calls the EPS FHIR API. It is safe for concurrent use.
type Client struct {
	cfg      Config
	log      *slog.Logger
	base     *url.URL
	rt       http.RoundTripper
	breakers breakerSet
	tokens   *tokenSource
	baseTr   http.RoundTripper
	tlsFiles tlsFiles
	stop     context.CancelFunc
}

// New validates cfg (after defaults), loads key and TLS material and builds
// the client. logger may be nil (slog.Default()).
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("upstream config: BaseURL: %w", err)
	}
	log := logger.With("component", "upstream")
	baseTr := cfg.Transport
	var files tlsFiles
	if baseTr == nil {
		if baseTr, files, err = newBaseTransport(cfg.TLS, cfg.Now(), log); err != nil {
			return nil, fmt.Errorf("upstream config: %w", err)
		}
	}
	breakers := newBreakerSet(cfg.Breaker, log, cfg.OnBreakerStateChange)
	fhirHold := &hold{} // one Retry-After holds back every FHIR call of the client
	// chain builds id → retry → [tap] → [auth] → breaker → [trace] → [observe] → buffer → base;
	// the token endpoint's own chain has neither tap nor auth, and signs
	// each attempt's assertion where auth would be.
	chain := func(auth *tokenSource, fhirCall bool) http.RoundTripper {
		var rt http.RoundTripper = bufferTransport{next: baseTr, limit: cfg.MaxResponseBytes}
		if cfg.ObserveAttempt != nil {
			rt = observeTransport{next: rt, observe: cfg.ObserveAttempt}
		}
		if cfg.TracerProvider != nil {
			rt = tracedAttempts(rt, cfg.TracerProvider)
		}
		rt = breakerTransport{next: rt, breakers: breakers}
		if fhirCall {
			rt = authTransport{next: rt, tokens: auth} // auth nil: no token, a 401 still an error
		} else {
			rt = assertionTransport{next: rt, tokens: auth}
		}
		if fhirCall && cfg.Tap != nil {
			rt = cfg.Tap(rt)
		}
		retryCfg := cfg.Retry
		var held *hold // the token endpoint's throttle is tokenSource.notBefore
		if fhirCall {
			held = fhirHold
		} else {
			retryCfg = tokenRetry(retryCfg)
		}
		rt = retryTransport{next: rt, cfg: retryCfg, log: log, hold: held}
		return idTransport{next: rt, newID: cfg.NewID, userAgent: cfg.UserAgent}
	}
	stopCtx, stop := context.WithCancel(context.Background())
	c := &Client{cfg: cfg, log: log, base: base, breakers: breakers, baseTr: baseTr, tlsFiles: files, stop: stop}
	if cfg.APIKey != "" {
		key := cfg.PrivateKey
		if key == nil {
			if key, err = LoadPrivateKey(cfg.PrivateKeyPath); err != nil {
				stop()
				return nil, fmt.Errorf("upstream config: %w", err)
			}
		}
		c.tokens = &tokenSource{
			key: key, kid: cfg.Kid, apiKey: cfg.APIKey, tokenURL: cfg.TokenURL,
			lifetime: cfg.JWTLifetime, renewBefore: cfg.TokenRenewBefore, holdoff: cfg.Breaker.Timeout,
			now: cfg.Now, newID: cfg.NewID, log: log, stop: stopCtx,
		}
		c.tokens.rt = chain(c.tokens, false)
	}
	c.rt = chain(c.tokens, true)
	return c, nil
}

// Close stops background token renewals and closes idle connections.
func (c *Client) Close() error {
	c.stop()
	if ci, ok := c.baseTr.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
	return nil
}

// ProcessMessage posts a message Bundle (prescription-order,
// prescription-order-update, dispense-notification) to $process-message.
func (c *Client) ProcessMessage(ctx context.Context, bundleJSON []byte) (*Response, error) {
	resp, err := c.do(ctx, OpProcessMessage, http.MethodPost, "/$process-message", nil, bundleJSON)
	if err != nil {
		return nil, err
	}
	// The Bundle is read for its event only for an answer that may be a
	// duplicate of our own retry, not on every call.
	return resolveDuplicate(resp, resp.mayBeOwnDuplicate() && isPrescriptionOrder(bundleJSON)), nil
}

// Release posts a Parameters resource to Task/$release (nominated: owner
// only; patient: owner + group-identifier).
func (c *Client) Release(ctx context.Context, parametersJSON []byte) (*Response, error) {
	return c.do(ctx, OpRelease, http.MethodPost, "/Task/$release", nil, parametersJSON)
}

// PostTask posts a Task (dispense proposal return: status rejected;
// dispenser withdraw: code abort).
func (c *Client) PostTask(ctx context.Context, taskJSON []byte) (*Response, error) {
	return c.do(ctx, OpTask, http.MethodPost, "/Task", nil, taskJSON)
}

// PostClaim posts a Claim (or a Claim amendment with replacementOf).
func (c *Client) PostClaim(ctx context.Context, claimJSON []byte) (*Response, error) {
	return c.do(ctx, OpClaim, http.MethodPost, "/Claim", nil, claimJSON)
}

// TrackerGet searches prescriptions: GET Task?query, e.g.
// focus:identifier=<short-form id> or patient:identifier=<NHS number>.
// A searchset answer that is paged (Bundle.link "next") is followed to its
// last page and handed back as one Bundle (tracker_pages.go).
func (c *Client) TrackerGet(ctx context.Context, query url.Values) (*Response, error) {
	u := c.endpoint("/Task", query)
	first, err := c.doURL(ctx, OpTracker, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.followPages(ctx, u, first)
}

// Prepare posts an unsigned prescription-order Bundle to $prepare; the answer
// is a Parameters with digest, timestamp and algorithm.
func (c *Client) Prepare(ctx context.Context, bundleJSON []byte) (*Response, error) {
	return c.do(ctx, OpPrepare, http.MethodPost, "/$prepare", nil, bundleJSON)
}

// Metadata fetches the CapabilityStatement (GET metadata).
func (c *Client) Metadata(ctx context.Context) (*Response, error) {
	return c.do(ctx, OpMetadata, http.MethodGet, "/metadata", nil, nil)
}

// Ping is the readiness probe: GET metadata must answer 200.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("upstream ping: %w", err)
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("upstream ping: metadata answered %d", resp.Status)
	}
	return nil
}

// BreakerStates returns every operation's breaker state: "closed",
// "half-open" or "open".
func (c *Client) BreakerStates() map[string]string {
	return c.breakers.states()
}

// endpoint is the URL of path (below the base) with query.
func (c *Client) endpoint(path string, query url.Values) *url.URL {
	u := *c.base
	u.Path += path
	u.RawPath = ""
	if query != nil {
		u.RawQuery = query.Encode()
	}
	return &u
}

// do sends one logical call through the transport chain.
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, body []byte) (*Response, error) {
	return c.doURL(ctx, op, method, c.endpoint(path, query), body)
}

// doURL sends one logical call to u (the base's, or a link EPS gave)
// through the transport chain.
func (c *Client) doURL(ctx context.Context, op, method string, u *url.URL, body []byte) (*Response, error) {
	stats := &callStats{body: body}
	ctx = withCallStats(withOperation(ctx, op), stats)
	var rdr *bytes.Reader
	if body != nil {
		rdr = bytes.NewReader(body)
	}
	var req *http.Request
	var err error
	if rdr != nil {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), rdr)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	if err != nil {
		return nil, fmt.Errorf("upstream %s: build request: %w", op, err)
	}
	rid := c.cfg.NewID()
	req.Header.Set(HeaderRequestID, rid)
	req.Header.Set("Accept", ContentTypeFHIR)
	if body != nil {
		req.Header.Set("Content-Type", ContentTypeFHIR)
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("upstream %s (request %s): read answer: %w", op, rid, err)
	}
	out := &Response{Status: resp.StatusCode, Body: buf.Bytes(), Header: resp.Header, RequestID: rid,
		Attempts: stats.attempts, earlierMaybeDelivered: stats.maybeDelivered}
	c.log.DebugContext(ctx, "upstream call", "op", op, "request_id", rid, "correlation_id", CorrelationID(ctx),
		"status", out.Status, "attempts", out.Attempts)
	return out, nil
}

// resolveDuplicate turns DUPLICATE_PRESCRIPTION_ID after a retry whose earlier
// attempt may have been stored into success; for a prescription-order
// (order), also Spine's 202 Duplicate HL7 ID Error, which is how EPS
// answers the same Bundle (the same Bundle.identifier) sent again after it
// took it. Another message's 202 is left to the caller: its first answer
// (a cancellation's response Bundle) is not a bare success.
func resolveDuplicate(r *Response, order bool) *Response {
	if !r.mayBeOwnDuplicate() {
		return r
	}
	code := "DUPLICATE_PRESCRIPTION_ID"
	if !hasIssueCode(r.Body, code) {
		if code = DuplicateHL7ID; !order || !hasIssueCode(r.Body, code) {
			return r
		}
	}
	ok := *r
	ok.Status = http.StatusOK
	ok.DuplicateResolved = true
	ok.Body = []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational",` +
		`"diagnostics":"stored by an earlier attempt of request ` + jsonEscape(r.RequestID) + `; the retry was answered ` + code + `"}]}`)
	return &ok
}

// mayBeOwnDuplicate reports whether r could be EPS refusing as a duplicate
// what an earlier attempt of the same call got through: a 400 after a
// retry whose earlier attempt may have been delivered.
func (r *Response) mayBeOwnDuplicate() bool {
	return r.Status == http.StatusBadRequest && r.Attempts >= 2 && r.earlierMaybeDelivered
}

// DuplicateHL7ID is Spine's acknowledgement code 202, Duplicate HL7 ID
// Error, as the EPS API passes it on (a Spine-ErrorOrWarningCode coding
// under HTTP 400): EPS took a message with this id (Bundle, Claim or Task
// identifier) already and applies nothing.
const DuplicateHL7ID = "202"

// isPrescriptionOrder reports whether a $process-message Bundle is a
// prescription-order (its MessageHeader's event).
func isPrescriptionOrder(bundleJSON []byte) bool {
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				EventCoding  struct {
					Code string `json:"code"`
				} `json:"eventCoding"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(bundleJSON, &b) != nil {
		return false
	}
	for _, e := range b.Entry {
		if e.Resource.ResourceType == "MessageHeader" {
			return e.Resource.EventCoding.Code == "prescription-order"
		}
	}
	return false
}

// hasIssueCode reports whether an OperationOutcome body has an issue whose
// details carry code.
func hasIssueCode(body []byte, code string) bool {
	var oo struct {
		Issue []struct {
			Details struct {
				Coding []struct {
					Code string `json:"code"`
				} `json:"coding"`
			} `json:"details"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(body, &oo); err != nil {
		return false
	}
	for _, is := range oo.Issue {
		for _, c := range is.Details.Coding {
			if c.Code == code {
				return true
			}
		}
	}
	return false
}

func jsonEscape(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	return string(b[1 : len(b)-1])
}

// IsBreakerOpen reports whether err means the call was refused by an open
// circuit breaker (a convenience for errors.Is(err, ErrBreakerOpen)).
func IsBreakerOpen(err error) bool { return errors.Is(err, ErrBreakerOpen) }
