package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/porxgate/porxgate/fhir"
)

const contentTypeFHIR = "application/fhir+json"

// Server is the simulator's HTTP face over a State.
type Server struct {
	opts   Options
	state  *State
	faults *faultInjector
	tokens *tokenIssuer
	replay *replayCache
	log    *slog.Logger

	mu    sync.Mutex
	stats Stats
}

// Stats counts what the simulator saw.
type Stats struct {
	// Requests counts FHIR requests by operation: process-message, prepare,
	// release, task, claim, tracker, metadata.
	Requests map[string]int64 `json:"requests"`
	// TokenRequests counts calls of /oauth2/token; TokensIssued the
	// successful ones.
	TokenRequests int64 `json:"tokenRequests"`
	TokensIssued  int64 `json:"tokensIssued"`
	// Replayed counts answers served from the X-Request-ID replay cache.
	Replayed int64 `json:"replayed"`
	// FaultsInjected counts requests a fault was applied to.
	FaultsInjected int64 `json:"faultsInjected"`
	// Unauthorized counts FHIR requests refused for a missing or bad token.
	Unauthorized int64 `json:"unauthorized"`
	// Evicted counts the prescriptions the cap forgot (State.Evicted);
	// ForgottenRequests the requests answered for one of them, which EPS
	// would have answered from the prescription (state_evict.go).
	Evicted           int64 `json:"evicted"`
	ForgottenRequests int64 `json:"forgottenRequests"`
}

// New returns a simulator; opts take their defaults for zero fields.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	opts.BasePath = "/" + strings.Trim(opts.BasePath, "/")
	s := &Server{
		opts:   opts,
		state:  opts.State,
		faults: &faultInjector{f: opts.Faults, rand: opts.Rand},
		tokens: &tokenIssuer{pub: opts.PublicKey, apiKey: opts.APIKey, kid: opts.Kid,
			audience: opts.TokenAudience, ttl: opts.TokenTTL, newID: opts.NewID,
			tokens: map[string]time.Time{}, jtis: map[string]time.Time{}},
		replay: newReplayCache(10000),
		log:    opts.Logger.With("component", "sim"),
		stats:  Stats{Requests: map[string]int64{}},
	}
	return s
}

// Handler returns the simulator's http.Handler (FHIR endpoints under
// BasePath, /oauth2/token and /_admin/...).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// State returns the simulator's state.
func (s *Server) State() *State { return s.state }

// SetFaults replaces the fault settings.
func (s *Server) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the current fault settings (counters as consumed so far).
func (s *Server) Faults() Faults { return s.faults.get() }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	evicted := s.state.Evicted() // not under s.mu: the State's lock is never taken inside it
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.Evicted = int64(evicted)
	c.Requests = make(map[string]int64, len(s.stats.Requests))
	for k, v := range s.stats.Requests {
		c.Requests[k] = v
	}
	return c
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Run listens on addr (DefaultAddr when empty) and serves until ctx is done,
// then shuts down gracefully.
func (s *Server) Run(ctx context.Context, addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sim: listen %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then shuts down gracefully (5 s at
// most) and closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.log.Info("EPS simulator listening", "addr", ln.Addr().String(), "base", s.opts.BasePath)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sim: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Connections still busy (or opened and never used) after the grace
		// period are cut.
		s.log.Warn("EPS simulator shutdown: closing busy connections", "error", err)
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sim: serve: %w", err)
	}
	return nil
}

// reply is a handler's answer before faults and replay are applied.
type reply struct {
	status int
	body   []byte
	ctype  string
}

func fhirReply(status int, body []byte) reply {
	return reply{status: status, body: body, ctype: contentTypeFHIR}
}

// fhirHandler handles one FHIR operation on an already read body.
type fhirHandler func(r *http.Request, body []byte, now time.Time) reply

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case p == "/oauth2/token":
		s.serveToken(w, r)
	case strings.HasPrefix(p, "/_admin/"):
		s.serveAdmin(w, r)
	case strings.HasPrefix(p, s.opts.BasePath+"/"):
		s.serveFHIR(w, r, strings.TrimPrefix(p, s.opts.BasePath))
	default:
		write(w, r, fhirReply(http.StatusNotFound, plainOutcome(s.opts.Now(), "not-found", "no such endpoint: "+p)))
	}
}

// route picks the operation for a FHIR path below the base.
func (s *Server) route(method, path string) (string, fhirHandler) {
	switch {
	case method == http.MethodPost && path == "/$process-message":
		return "process-message", s.processMessage
	case method == http.MethodPost && path == "/$prepare":
		return "prepare", s.prepare
	case method == http.MethodPost && path == "/Task/$release":
		return "release", s.release
	case method == http.MethodPost && path == "/Task":
		return "task", s.task
	case method == http.MethodPost && path == "/Claim":
		return "claim", s.claim
	case method == http.MethodGet && path == "/Task":
		return "tracker", s.tracker
	case method == http.MethodGet && path == "/metadata":
		return "metadata", s.metadata
	}
	return "", nil
}

func (s *Server) serveFHIR(w http.ResponseWriter, r *http.Request, path string) {
	op, h := s.route(r.Method, path)
	if h == nil {
		write(w, r, fhirReply(http.StatusNotFound, plainOutcome(s.opts.Now(), "not-supported",
			fmt.Sprintf("%s %s is not supported", r.Method, r.URL.Path))))
		return
	}
	s.count(func(st *Stats) { st.Requests[op]++ })
	act, status, ok := s.preFaults(w, r, op)
	if !ok {
		return
	}
	if !s.tokens.authorized(r.Header.Get("Authorization"), s.opts.Now()) {
		s.count(func(st *Stats) { st.Unauthorized++ })
		write(w, r, fhirReply(http.StatusUnauthorized, fhirAnswer(outcome(s.opts.Now(), codedIssue("error", "forbidden",
			fhir.CodeSystemSpineErrorOrWarning, "ACCESS_DENIED", "Invalid access token")))))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		write(w, r, fhirReply(http.StatusRequestEntityTooLarge, plainOutcome(s.opts.Now(), "too-costly", "request body: "+err.Error())))
		return
	}
	rid := r.Header.Get("X-Request-ID")
	replayable := s.opts.ReplayRequestIDs && r.Method == http.MethodPost && rid != ""
	var rep reply
	if replayable {
		// The body's digest only where it is kept: hashing every body
		// cost the simulator more than a tenth of its instructions.
		key := replayKey(r.Method, r.URL.Path, body)
		e, hit, err := s.replay.do(r.Context(), rid, key, func() replayEntry {
			first := h(r, body, s.opts.Now())
			return replayEntry{status: first.status, body: first.body}
		})
		if err != nil {
			return // the caller left while an earlier attempt was processed
		}
		if hit {
			s.count(func(st *Stats) { st.Replayed++ })
		}
		rep = fhirReply(e.status, e.body)
	} else {
		rep = h(r, body, s.opts.Now())
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) { // its arguments cost allocations even when dropped
		s.log.Debug("sim request", "op", op, "request_id", rid, "status", rep.status)
	}
	switch act {
	case actFailAfter:
		s.log.Info("sim fault: processed, answering failure", "op", op, "request_id", rid, "status", status)
		write(w, r, fhirReply(status, faultOutcome(s.opts.Now(), status)))
	case actHangUpAfter:
		s.log.Info("sim fault: processed, dropping connection", "op", op, "request_id", rid)
		if !hangUp(w) {
			write(w, r, fhirReply(http.StatusServiceUnavailable, faultOutcome(s.opts.Now(), http.StatusServiceUnavailable)))
		}
	default:
		write(w, r, rep)
	}
}

// readBody reads a request's body, at most maxBodyBytes. One that says
// its length (Content-Length) is read into a buffer of exactly that size
// in one go: a prescription-order is kept as received (Prescription.Order)
// for as long as the prescription is, and io.ReadAll's buffer, grown by
// doubling from 512 bytes, cost a fifth of the handler's time zeroing
// and copying (a tenth of the simulator process's, perf at 300 msgs/s)
// and kept up to twice the body's size alive.
// Anything else (chunked, or longer than the limit) is read as before,
// with the same errors.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	n := r.ContentLength
	if n <= 0 || n > maxBodyBytes {
		return io.ReadAll(rd)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, err
	}
	return body, nil
}

// preFaults applies latency and the before-processing faults to a request
// of FHIR operation op ("" for the token endpoint). ok=false means the
// request has been answered (or dropped).
func (s *Server) preFaults(w http.ResponseWriter, r *http.Request, op string) (faultAction, int, bool) {
	latency, act, status := s.faults.decide(op, op == "")
	if act != actNone || latency > 0 {
		s.count(func(st *Stats) { st.FaultsInjected++ })
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return act, status, false
		}
	}
	switch act {
	case actHangUp:
		if !hangUp(w) {
			write(w, r, fhirReply(http.StatusServiceUnavailable, faultOutcome(s.opts.Now(), http.StatusServiceUnavailable)))
		}
		return act, status, false
	case actFail:
		write(w, r, fhirReply(status, faultOutcome(s.opts.Now(), status)))
		return act, status, false
	}
	return act, status, true
}

func faultOutcome(now time.Time, status int) []byte {
	return plainOutcome(now, "transient", "simulated fault: "+strconv.Itoa(status)+" "+http.StatusText(status))
}

// write sends an answer, echoing the request and correlation ids as the
// API platform does.
func write(w http.ResponseWriter, r *http.Request, rep reply) {
	h := w.Header()
	if rep.ctype != "" {
		h.Set("Content-Type", rep.ctype)
	}
	for _, k := range []string{"X-Request-ID", "X-Correlation-ID"} {
		if v := r.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.count(func(st *Stats) { st.TokenRequests++ })
	if r.Method != http.MethodPost {
		write(w, r, reply{status: http.StatusMethodNotAllowed, ctype: "application/json",
			body: mustJSON(obj{"error": "invalid_request", "error_description": "POST only"})})
		return
	}
	if _, _, ok := s.preFaults(w, r, ""); !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAssertionBytes*2)
	if err := r.ParseForm(); err != nil {
		write(w, r, reply{status: http.StatusBadRequest, ctype: "application/json",
			body: mustJSON(obj{"error": "invalid_request", "error_description": "unreadable form"})})
		return
	}
	now := s.opts.Now()
	tok, err := s.tokens.issue(r.PostForm, now)
	if err != nil {
		st, body := tokenErrorAnswer(err)
		s.log.Info("sim token refused", "error", err)
		write(w, r, reply{status: st, body: body, ctype: "application/json"})
		return
	}
	s.count(func(st *Stats) { st.TokensIssued++ })
	write(w, r, reply{status: http.StatusOK, body: tokenAnswer(tok, s.opts.TokenTTL, now), ctype: "application/json"})
}

// serveAdmin handles /_admin/faults, /_admin/cancellations, /_admin/stats,
// /_admin/next-issue.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	js := func(status int, v any) {
		write(w, r, reply{status: status, body: mustJSON(v), ctype: "application/json"})
	}
	switch r.URL.Path {
	case "/_admin/faults":
		switch r.Method {
		case http.MethodGet:
			js(http.StatusOK, s.Faults())
		case http.MethodPost, http.MethodPut:
			var f Faults
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&f); err != nil {
				js(http.StatusBadRequest, obj{"error": "faults: " + err.Error()})
				return
			}
			if f.ErrorRate < 0 || f.ErrorRate > 1 || f.LatencyMs < 0 || f.Status != 0 && (f.Status < 100 || f.Status > 599) {
				js(http.StatusBadRequest, obj{"error": "faults: errorRate must be in [0,1], latencyMs >= 0, status a HTTP status"})
				return
			}
			s.SetFaults(f)
			s.log.Info("sim faults set", "faults", f)
			js(http.StatusOK, f)
		case http.MethodDelete:
			s.SetFaults(Faults{})
			js(http.StatusOK, Faults{})
		default:
			js(http.StatusMethodNotAllowed, obj{"error": "GET, POST or DELETE"})
		}
	case "/_admin/cancellations":
		after, _ := strconv.Atoi(r.URL.Query().Get("after"))
		res := s.state.CancelResolutions(after)
		if res == nil {
			res = []CancelResolution{}
		}
		js(http.StatusOK, res)
	case "/_admin/stats":
		js(http.StatusOK, s.Stats())
	case "/_admin/next-issue":
		if r.Method != http.MethodPost {
			js(http.StatusMethodNotAllowed, obj{"error": "POST ?prescriptionId="})
			return
		}
		p, err := s.state.NextIssue(strings.ToUpper(r.URL.Query().Get("prescriptionId")), s.opts.Now())
		if err != nil {
			var se *StateError
			if errors.As(err, &se) && se.Forgotten {
				s.noteForgotten(se)
			}
			js(http.StatusConflict, obj{"error": err.Error()})
			return
		}
		js(http.StatusOK, obj{"prescriptionId": p.ShortFormID, "currentIssue": p.CurrentIssue, "totalIssues": p.TotalIssues})
	default:
		js(http.StatusNotFound, obj{"error": "no such admin endpoint"})
	}
}

// endpoint is this server's URL for path below the base (for answers that
// name their source).
func (s *Server) endpoint(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: s.opts.BasePath + path}
	return u.String()
}

// obj is a plain JSON object (OAuth2 and admin answers, not FHIR).
type obj = map[string]any

// mustJSON encodes a plain JSON answer built from maps, strings and
// numbers; should that ever fail, the answer becomes an exception
// OperationOutcome rather than a panic.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(encodeFailed)
	}
	return b
}
