package gateway

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the gateway's Prometheus metrics, on a registry of its own.
type Metrics struct {
	// Registry is what /metrics serves.
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	breakers *prometheus.GaugeVec
	upstream *prometheus.HistogramVec
	refused  *prometheus.CounterVec
}

// Listener names of porxgate_connections_over_bound_total.
const (
	listenerFrontDoor = "front_door"
	listenerAdmin     = "admin"
)

// connectionRefused returns what counts a connection to listener past its
// address's bound of pending ones (PlainListener, the admin listener's TLS).
func (m *Metrics) connectionRefused(listener string) func() {
	c := m.refused.WithLabelValues(listener)
	return c.Inc
}

// defaultIdentity labels what the default EPS identity (the --upstream-*
// flags) does, beside the party keys of per-party identities.
const defaultIdentity = "default"

// ObserveUpstream records one EPS call attempt: its operation, its outcome
// (HTTP status code, "error" or "timeout"), the EPS identity it went out
// under (the party key of a per-party identity, else "default") and how
// long it took (porxgate_upstream_request_duration_seconds).
func (m *Metrics) ObserveUpstream(operation, status, identity string, d time.Duration) {
	if identity == "" {
		identity = defaultIdentity
	}
	m.upstream.WithLabelValues(operation, status, identity).Observe(d.Seconds())
}

// breakerStateValues are the gauge values of the circuit breaker states.
func breakerStateValue(state string) float64 {
	switch state {
	case "half-open":
		return 1
	case "open":
		return 2
	}
	return 0
}

// SetBreakerState records the state of one EPS identity's circuit
// breaker for an operation ("closed", "half-open" or "open"); identity is
// defaultIdentity or the party key of a per-party identity.
func (m *Metrics) SetBreakerState(identity, operation, state string) {
	m.breakers.WithLabelValues(operation, identity).Set(breakerStateValue(state))
}

// NewMetrics registers the gateway's metrics and the Go and process collectors.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "porxgate_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "porxgate_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	m.breakers = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "porxgate_upstream_breaker_state",
		Help: "State of each upstream circuit breaker by EPS operation and EPS identity (default, or the party key of a per-party identity): 0 closed, 1 half-open, 2 open.",
	}, []string{"operation", "identity"})
	m.upstream = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "porxgate_upstream_request_duration_seconds",
		Help: "Time of each EPS FHIR call attempt, by operation, outcome (HTTP status code, error: no answer, timeout: attempt time limit) and the EPS identity it went out under (party: the party key of a per-party identity, else default). Calls refused by an open breaker are not attempts.",
		// Up to the attempt limit (upstream.DefaultAttemptTimeout, 35 s):
		// EPS itself waits up to 25 s for Spine.
		Buckets: []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 40, 60},
	}, []string{"operation", "status", "party"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porxgate_connections_over_bound_total",
		Help: "Connections accepted while their address already had --max-handshakes-per-client pending, by listener: without TLS (the front door, the admin listener) each was given 1 s for its first request head, then closed; on the admin listener with TLS each was closed at once. The front door's TLS refusals are porxgate_tls_handshakes_refused_total.",
	}, []string{"listener"})
	reg.MustRegister(m.requests, m.duration, m.breakers, m.upstream, m.refused,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// middleware counts and times every request by its route pattern.
func (m *Metrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	route := c.Route().Path
	code := c.Response().StatusCode()
	if err != nil {
		if fe, ok := err.(*fiber.Error); ok {
			code = fe.Code
		} else {
			code = fiber.StatusInternalServerError
		}
	}
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
	return err
}

// registerCollector registers c on reg; a collector registered already
// (by another server on the same registry) is left as it is.
func registerCollector(reg *prometheus.Registry, c prometheus.Collector) {
	_ = reg.Register(c)
}
