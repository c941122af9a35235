package sim

import (
	"net/http"
	"slices"
	"sync"
	"time"
)

// Faults are the injected failures. They apply to the FHIR endpoints (and,
// with Token, to /oauth2/token), never to /_admin. Set them with Options,
// Server.SetFaults or POST /_admin/faults (JSON, replaces the whole set);
// DELETE /_admin/faults clears them.
//
// Order per request: latency, then down, force5xx, errorRate (answered
// before processing), then fail5xxAfter and dropAfter (processed first).
type Faults struct {
	// LatencyMs delays every answer (cut short if the caller gives up).
	LatencyMs int `json:"latencyMs"`
	// ErrorRate is the probability in [0,1] of answering Status without
	// processing.
	ErrorRate float64 `json:"errorRate"`
	// Force5xx answers the next N requests with Status without processing;
	// a negative value does so until cleared.
	Force5xx int `json:"force5xx"`
	// Fail5xxAfter processes the next N requests (state changes stick) and
	// then answers Status: the answer is "lost".
	Fail5xxAfter int `json:"fail5xxAfter"`
	// DropAfter processes the next N requests and then closes the
	// connection without an answer.
	DropAfter int `json:"dropAfter"`
	// Status is the status for injected failures. Default 503.
	Status int `json:"status"`
	// Down closes every connection without an answer (the handler hijacks
	// and closes it): callers see a network error as from a dead upstream.
	// A refused connection (nothing listening) is had by stopping Run/Serve.
	Down bool `json:"down"`
	// Token applies the faults to /oauth2/token as well.
	Token bool `json:"token"`
	// Ops limits the faults to these FHIR operations (as counted in Stats:
	// process-message, release, task, claim, tracker…); empty: all. A
	// request of another operation neither gets a fault nor uses up a count.
	Ops []string `json:"ops,omitempty"`
}

type faultAction int

const (
	actNone faultAction = iota
	actHangUp
	actFail
	actFailAfter
	actHangUpAfter
)

// faultInjector decides, per request, which fault applies.
type faultInjector struct {
	mu   sync.Mutex
	f    Faults
	rand func() float64
}

func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	fi.f = f
	fi.mu.Unlock()
}

func (fi *faultInjector) get() Faults {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	return fi.f
}

// decide consumes one request's worth of the counters for operation op
// ("" for the token endpoint).
func (fi *faultInjector) decide(op string, token bool) (time.Duration, faultAction, int) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	f := &fi.f
	if token && !f.Token {
		return 0, actNone, 0
	}
	if !token && len(f.Ops) > 0 && !slices.Contains(f.Ops, op) {
		return 0, actNone, 0
	}
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	latency := time.Duration(f.LatencyMs) * time.Millisecond
	switch {
	case f.Down:
		return latency, actHangUp, 0
	case f.Force5xx != 0:
		if f.Force5xx > 0 {
			f.Force5xx--
		}
		return latency, actFail, status
	case f.ErrorRate > 0 && fi.rand() < f.ErrorRate:
		return latency, actFail, status
	case f.Fail5xxAfter > 0:
		f.Fail5xxAfter--
		return latency, actFailAfter, status
	case f.DropAfter > 0:
		f.DropAfter--
		return latency, actHangUpAfter, 0
	}
	return latency, actNone, 0
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) bool {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}
