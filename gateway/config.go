package gateway

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
)

// Config is the whole configuration of `porxgate serve`. Every field has a
// flag and a PORXGATE_* environment variable; a flag given on the command
// line wins over the environment, which wins over the default.
type Config struct {
	// Addr is the listen address (--addr, PORXGATE_ADDR; default 127.0.0.1:8080).
	// Port 0 takes a port the kernel gives: "porxgate listening" logs it
	// (addr), as AddrFile and OnListening give it.
	Addr string
	// AddrFile, when set, is a file Run writes once its listeners are
	// bound, naming their addresses as bound (WriteAddrFile), and removes
	// when it stops (--addr-file, PORXGATE_ADDR_FILE; default none): for
	// a harness or script that started the gateway on port 0 and reads
	// the ports it took whatever the log level.
	AddrFile string
	// OnListening, when set, is called once, by Run, when its listeners
	// are bound, before any request is served (connections made meanwhile
	// wait in the listeners' backlog), with their addresses as bound: what
	// a caller that runs the gateway in its own process on port 0 learns
	// the ports by. Not a flag.
	OnListening func(Listening)
	// UpstreamURL is the EPS FHIR base URL (--upstream, PORXGATE_UPSTREAM_URL);
	// empty runs the built-in EPS simulator in-process and uses it.
	UpstreamURL string
	// Upstream holds the EPS client's credentials and client certificate.
	Upstream UpstreamConfig
	// SimMaxPrescriptions caps the prescriptions the built-in simulator
	// keeps, least recently used forgotten first (--sim-max-prescriptions,
	// PORXGATE_SIM_MAX_PRESCRIPTIONS; default 0: sim.DefaultMaxPrescriptions;
	// negative: no cap). Used only when UpstreamURL is empty.
	SimMaxPrescriptions int
	// UpstreamIdentitiesFile gives parties their own EPS identities: a JSON
	// file from party key (eb:PartyId, or a SOAP sender's ASID) to
	// UpstreamIdentity (--upstream-identities, PORXGATE_UPSTREAM_IDENTITIES;
	// default none: every party uses the default identity).
	UpstreamIdentitiesFile string
	// RedisURL is the Redis to keep state in (--redis, PORXGATE_REDIS_URL);
	// empty uses the in-memory store, which keeps nothing across restarts.
	RedisURL string
	// RedisSentinelAddrs and RedisMasterName put the state on a Redis
	// Sentinel group: the sentinels' host:port list and the master's name
	// (--redis-sentinel-addrs, --redis-master-name,
	// PORXGATE_REDIS_SENTINEL_ADDRS, PORXGATE_REDIS_MASTER_NAME); RedisURL
	// then only gives credentials, database and TLS.
	RedisSentinelAddrs, RedisMasterName string
	// RedisClusterAddrs puts the state on a Redis Cluster: some nodes'
	// host:port list (--redis-cluster-addrs, PORXGATE_REDIS_CLUSTER_ADDRS).
	RedisClusterAddrs string
	// RedisWaitReplicas makes each write the exactly-once rules rest on
	// (the queues, the records of EPS's answers, the SOAP answers kept, the
	// named sets) wait until that many replicas have it before it counts
	// as done (--redis-wait-replicas,
	// PORXGATE_REDIS_WAIT_REPLICAS; default 0: no wait).
	RedisWaitReplicas int

	// TracerProvider traces exchanges, EPS calls and deliveries with
	// OpenTelemetry; porxgate serve builds it from the OTEL_* environment
	// (gateway/tracing). Nil: no tracing. Not a flag.
	TracerProvider trace.TracerProvider
	// MemoryLimitMB is the Go runtime's soft memory limit in MiB that
	// `porxgate serve` sets when GOMEMLIMIT is not set (--memory-limit-mb,
	// PORXGATE_MEMORY_LIMIT_MB; default 100; 0: none). The garbage
	// collector works harder near it instead of letting the heap grow
	// (e.g. while the workers first meet every FHIR type at once after a
	// start under load): the gateway's live heap is a few tens of MiB. Raise
	// it with the container's memory (about 80 % of the limit).
	MemoryLimitMB int
	// GCPercent is the garbage collector's target percentage that `porxgate
	// serve` sets when GOGC is not set (--gc-percent, PORXGATE_GC_PERCENT;
	// default 400; 0: the Go runtime's own, 100): the heap may grow to
	// GCPercent % more than what survived the last collection before the
	// next one, and never past MemoryLimitMB, where the collector works
	// harder instead. The gateway's live heap is small (about 15 MiB under
	// load) and it allocates about half a MiB per message, so at the
	// runtime's 100 it collected some 15 times a second at 500 msgs/s;
	// 400 collects about four times less often, within the same memory
	// limit.
	GCPercent int
	// MaxInFlight is how many legacy messages the front doors work on at
	// once; more are refused at once with a retryable fault (TMS 200,
	// NumBusy) rather than held in memory (--max-in-flight,
	// PORXGATE_MAX_IN_FLIGHT; default 128; 0: no bound).
	MaxInFlight int
	// MaxInFlightPerClient is how many of MaxInFlight one sender (its
	// client certificate under mutual TLS, else its address) may hold at
	// once; more from it are refused with the same retryable fault, so
	// that a sender flooding the doors cannot keep the others out
	// (--max-in-flight-per-client, PORXGATE_MAX_IN_FLIGHT_PER_CLIENT;
	// default 0: three quarters of MaxInFlight; negative: no bound per
	// sender).
	MaxInFlightPerClient int
	// MaxQueueWait is how far behind the inbox workers may fall before the
	// ebXML door takes no new messages: while a message ready for a worker
	// has waited longer than this (its due time passed, no worker free),
	// a new message is refused with the same retryable busy fault (TMS
	// 200, NumBusy) instead of being acknowledged into a backlog whose
	// answers would come later and later; a duplicate of one taken is
	// still acknowledged again. A message waiting out an EPS outage counts
	// only once its next try falls due and no worker takes it: an outage
	// refuses new messages only when the workers cannot get through the
	// backlog's tries in time (--max-queue-wait, PORXGATE_MAX_QUEUE_WAIT;
	// default 5s; 0: no bound).
	MaxQueueWait time.Duration
	// MaxGCCPUPercent is the share of the gateway's CPU (in percent) the
	// garbage collector may take, with the memory in use within 90 % of
	// the soft memory limit (MemoryLimitMB, or GOMEMLIMIT), before the
	// front doors refuse new messages with the retryable busy fault
	// (TMS 200, NumBusy), before their bodies are read, until it eases:
	// near the limit each message taken makes the collector work harder,
	// and an overloaded gateway collapsed (the collector at about 40 % of
	// its core, half the messages processed) instead of shedding. The
	// share is that between the last collections, read at most every
	// 100 ms (--max-gc-cpu-percent, PORXGATE_MAX_GC_CPU_PERCENT; default
	// 30; 0: no bound).
	MaxGCCPUPercent int
	// MaxHandshakesPerClient is how many connections one client address
	// may have at the front door at once whose TLS handshake (with TLS) or
	// first request head has not all arrived; a
	// connection beyond them is closed at once, before any handshake work,
	// so that a peer holding connections silent or trickling (each for the
	// read timeout) cannot run the process out of file descriptors. The
	// admin listener has the same bound. Established connections never
	// count (--max-handshakes-per-client,
	// PORXGATE_MAX_HANDSHAKES_PER_CLIENT; default 64; 0: no bound).
	MaxHandshakesPerClient int
	// MaxBodyBytes is the largest request body accepted (--max-body,
	// PORXGATE_MAX_BODY; default 4 MiB).
	MaxBodyBytes int
	// MaxHeaderBytes bounds a front-door request's head: its request line
	// and HTTP headers together (--max-header, PORXGATE_MAX_HEADER;
	// default 16 KiB, 1 KiB to 1 MiB; 0: the HTTP server's 4 KiB). Each
	// open connection holds a read buffer of this size. A head over it is
	// refused in its door's shape (headersTooLarge).
	MaxHeaderBytes int
	// ShutdownTimeout bounds the drain of in-flight requests on SIGINT or
	// SIGTERM, and then of the work the inbox and delivery workers hold
	// (--shutdown-timeout, PORXGATE_SHUTDOWN_TIMEOUT; default 15s).
	ShutdownTimeout time.Duration
	// ReadyzUpstream makes /readyz answer 503 while EPS does not answer or
	// one of its circuit breakers is open (--readyz-upstream,
	// PORXGATE_READYZ_UPSTREAM; default false). By default readiness
	// follows the store alone, which is all taking messages needs: while
	// EPS is down the gateway takes and keeps them, and a load balancer
	// following an EPS outage would take every replica out at once, so
	// that no sender could reach any. EPS's state is in the body either
	// way.
	ReadyzUpstream bool
	// LogLevel is debug, info, warn or error (--log-level, PORXGATE_LOG_LEVEL; default info).
	LogLevel string
	// Journal, Admin and Compare configure the exchange journal, the admin
	// listener and comparison mode (config_journal.go).
	Journal JournalConfig
	Admin   AdminConfig
	Compare CompareConfig

	// RoutesFile is the routing table of legacy MHS endpoints, a JSON file
	// (--routes, PORXGATE_ROUTES; default none: every sender is accepted and
	// async answers are kept for their party in the journal, or, with the
	// journal off, go to the dead letters for want of a route).
	RoutesFile string
	// TLSCertFile and TLSKeyFile are the PEM certificate chain and key to
	// listen with TLS (--tls-cert, --tls-key, PORXGATE_TLS_CERT,
	// PORXGATE_TLS_KEY; default none: plain HTTP). When set, the delivery
	// client presents the same certificate to MHS endpoints that ask for one.
	TLSCertFile, TLSKeyFile string
	// TLSClientCAFile is a PEM bundle of the CAs whose client certificates
	// are accepted (--tls-client-ca, PORXGATE_TLS_CLIENT_CA; default none).
	// When set, every client must present a certificate they signed (mutual
	// TLS, as on HSCN); it needs TLSCertFile and TLSKeyFile.
	TLSClientCAFile string
	// TLSClientCRLFiles are certificate revocation lists of the client CAs,
	// files separated by commas (--tls-client-crl, PORXGATE_TLS_CLIENT_CRL;
	// default none: no revocation checked). A client certificate a list
	// revokes is refused in the handshake. Each list must be signed by a
	// CA of TLSClientCAFile, which it needs; each file is followed as the
	// certificates are. See certfile.CRLs for a list past its nextUpdate.
	TLSClientCRLFiles string
	// DeliveryCAFile is a PEM bundle of the CAs trusted for MHS endpoints'
	// server certificates (--delivery-ca, PORXGATE_DELIVERY_CA; default
	// none: the system roots).
	DeliveryCAFile string

	// PersistDuration is how long a received MessageId is remembered for
	// duplicate elimination (--persist-duration, PORXGATE_PERSIST_DURATION;
	// default 5m, SDS's usual nhsMHSPersistDuration PT5M).
	PersistDuration time.Duration
	// PersistDurations overrides PersistDuration per interaction, keyed by
	// the UK-family id (the SM id shares it) (--persist-durations,
	// PORXGATE_PERSIST_DURATIONS, as "PORX_IN020101UK31=1h,PORX_IN080101UK31=30m";
	// default none).
	PersistDurations map[string]time.Duration

	// InboxWorkers is how many accepted messages are processed at once
	// (--inbox-workers, PORXGATE_INBOX_WORKERS; default 64: each mostly
	// waits on EPS and the store, so a replica needs many per core; with
	// 16 a pinned core sat partly idle while its inbox grew).
	InboxWorkers int
	// DeliveryWorkers is how many async messages are delivered at once
	// (--delivery-workers, PORXGATE_DELIVERY_WORKERS; default 64).
	DeliveryWorkers int
	// Lease is how long a worker holds a message before another replica may
	// take it over; it is renewed while the work runs (--lease,
	// PORXGATE_LEASE; default 30s).
	Lease time.Duration
	// PollInterval is how often an idle worker pool (inbox, outbox) looks
	// at the store for work another replica queued or that fell due: one
	// idle worker of the pool a poll, not each (--poll-interval,
	// PORXGATE_POLL_INTERVAL; default 500ms).
	PollInterval time.Duration
	// ProcessRetries is how many times processing of an accepted message is
	// retried after a failure before it goes to the dead letters
	// (--process-retries, PORXGATE_PROCESS_RETRIES; default 10).
	ProcessRetries int
	// ProcessRetryInterval is the first wait before processing is retried;
	// it doubles with each failure up to 15 minutes
	// (--process-retry-interval, PORXGATE_PROCESS_RETRY_INTERVAL; default 30s).
	ProcessRetryInterval time.Duration
	// PoisonAfter: an accepted message that EPS itself failed this many
	// times running (answered 5xx, or not at all: connection reset,
	// timeout), while it answered other messages of the same interaction,
	// goes to the dead letters (its sender told it was not processed) once
	// PoisonMinAge has passed since the first such failure, instead of
	// waiting in the store for ever (--poison-after, PORXGATE_POISON_AFTER;
	// default 10; 0: wait for ever). A failure of every message (an
	// outage, EPS unreachable) or an open breaker never counts against a
	// message.
	PoisonAfter int
	// PoisonMinAge (--poison-min-age, PORXGATE_POISON_MIN_AGE; default 1h).
	PoisonMinAge time.Duration
	// DeliveryTimeout bounds one delivery attempt (--delivery-timeout,
	// PORXGATE_DELIVERY_TIMEOUT; default 30s).
	DeliveryTimeout time.Duration
	// DeliveryRetries, DeliveryRetryInterval and DeliveryPersistDuration are
	// the reliability of routes that do not set their own
	// (--delivery-retries, --delivery-retry-interval,
	// --delivery-persist-duration and PORXGATE_DELIVERY_*; defaults 2, 1m,
	// 5m: SDS's usual nhsMHSRetries, nhsMHSRetryInterval, nhsMHSPersistDuration).
	DeliveryRetries int
	// DeliveryRetryInterval is the default wait between delivery attempts.
	DeliveryRetryInterval time.Duration
	// DeliveryPersistDuration is the default time an async message may
	// still be delivered after it was queued.
	DeliveryPersistDuration time.Duration

	// BreakerOpen is how long an upstream circuit breaker stays open before
	// it lets probes through (half-open) (--breaker-open,
	// PORXGATE_BREAKER_OPEN; default 5s). It also paces the retries of
	// messages waiting for EPS, so it bounds the time to drain after EPS
	// recovers.
	BreakerOpen time.Duration
	// BreakerHalfOpenProbes is how many calls a half-open breaker lets
	// through; that many successes in a row close it
	// (--breaker-half-open-probes, PORXGATE_BREAKER_HALF_OPEN_PROBES; default 3).
	BreakerHalfOpenProbes int

	// CancelPollInterval is how often the pending-cancellation poller looks
	// for cancellations due a poll of the EPS tracker and sweeps expired
	// ones (--cancel-poll-interval, PORXGATE_CANCEL_POLL_INTERVAL; default 30s).
	CancelPollInterval time.Duration
	// CancelBackoff is the wait before a pending cancellation is first
	// looked up in the EPS tracker; it doubles after each look that finds
	// it pending, up to CancelMaxBackoff (--cancel-backoff,
	// --cancel-max-backoff, PORXGATE_CANCEL_BACKOFF,
	// PORXGATE_CANCEL_MAX_BACKOFF; defaults 5m, 6h).
	CancelBackoff time.Duration
	// CancelMaxBackoff caps the wait between two polls of one cancellation.
	CancelMaxBackoff time.Duration
	// CancelMaxAge is how long a cancellation may stay pending before it is
	// given up and reported (an error log line, the expired metric and the
	// expired list of /admin/cancellations) (--cancel-max-age,
	// PORXGATE_CANCEL_MAX_AGE; default 9600h, 400 days: cancels.DefaultMaxAge,
	// as long as Spine may still answer it).
	CancelMaxAge time.Duration
	// CancelPollRate bounds the EPS tracker queries of the poller, per
	// second and replica (--cancel-poll-rate, PORXGATE_CANCEL_POLL_RATE;
	// default 2).
	CancelPollRate int

	// TrackerASIDs lists the callers allowed on the EPS Tracker REST API
	// (/mm/...) by their Spine-From-Asid, comma separated; an entry
	// ASID=NAME also binds the ASID to the client certificate whose
	// subject CN or DNS name is NAME (--tracker-asids,
	// PORXGATE_TRACKER_ASIDS; "any": any well-formed ASID; default none:
	// any well-formed ASID, logged at start-up, and refused by Validate
	// when the gateway serves TLS). See ParseTrackerASIDs.
	TrackerASIDs string

	// SOAPASIDs binds SOAP senders to their client certificates: a comma
	// separated list of ASID=NAME, NAME a client certificate's subject CN
	// or DNS name (an ASID may repeat, to bind several names). A request
	// on the SOAP door whose hl7:communicationFunctionSnd ASID is listed
	// is taken only over mutual TLS with a certificate so named; other
	// ASIDs are taken with any certificate the listener trusts
	// (--soap-asids, PORXGATE_SOAP_ASIDS; default none). Needs
	// --tls-client-ca. See ParseSOAPASIDs.
	SOAPASIDs string
	// PartyKeys lists, comma separated, the party keys an ebXML message's
	// eb:To/eb:PartyId may name: Spine's in the environment porxgate
	// stands in for (SDS's, e.g. YES-0000806), in any letter case. A
	// message addressed to another party is refused as Spine refuses it
	// (ValueNotRecognized 501314) (--party-keys, PORXGATE_PARTY_KEYS;
	// default none: eb:To is not checked). See parsePartyKeys.
	PartyKeys string
}

// DefaultConfig returns the configuration `make run` uses: loopback, the
// built-in simulator upstream and the in-memory store.
func DefaultConfig() Config {
	p := outbox.DefaultPolicy()
	cd := cancels.DefaultConfig()
	c := Config{
		Addr:                    "127.0.0.1:8080",
		MaxBodyBytes:            4 << 20,
		MaxHeaderBytes:          DefaultMaxHeaderBytes,
		MemoryLimitMB:           100,
		GCPercent:               400,
		MaxInFlight:             128,
		MaxQueueWait:            5 * time.Second,
		MaxGCCPUPercent:         30,
		MaxHandshakesPerClient:  64,
		ShutdownTimeout:         15 * time.Second,
		LogLevel:                "info",
		PersistDuration:         5 * time.Minute,
		InboxWorkers:            64,
		DeliveryWorkers:         64,
		Lease:                   30 * time.Second,
		PollInterval:            500 * time.Millisecond,
		ProcessRetries:          10,
		ProcessRetryInterval:    30 * time.Second,
		PoisonAfter:             10,
		PoisonMinAge:            time.Hour,
		DeliveryTimeout:         30 * time.Second,
		DeliveryRetries:         p.Retries,
		DeliveryRetryInterval:   p.RetryInterval,
		DeliveryPersistDuration: p.PersistDuration,
		BreakerOpen:             5 * time.Second,
		BreakerHalfOpenProbes:   3,
		CancelPollInterval:      cd.PollInterval,
		CancelBackoff:           cd.Backoff,
		CancelMaxBackoff:        cd.MaxBackoff,
		CancelMaxAge:            cd.MaxAge,
		CancelPollRate:          cd.Rate,
	}
	defaultJournalConfigs(&c)
	return c
}

// MaxWorkers is the most --inbox-workers or --delivery-workers Validate
// accepts: a typo with extra zeros sized the pools' channels to
// gigabytes, and the start died out of memory.
const MaxWorkers = 4096

// MinCancelPollInterval is the shortest --cancel-poll-interval Validate
// accepts: at 1ns the poller kept a core busy (and its store with it).
const MinCancelPollInterval = 10 * time.Millisecond

// MinLease is the shortest --lease Validate accepts.
const MinLease = 100 * time.Millisecond

// envPrefix prefixes every environment variable the gateway reads.
const envPrefix = "PORXGATE_"

// LoadConfig fills a Config from the defaults, then the environment (through
// getenv), then the command-line args, and validates it.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	return ParseConfig(args, getenv, io.Discard)
}

// ParseConfig is LoadConfig writing flag errors and, on -h, the flags with
// their defaults to usage; -h returns an error that wraps flag.ErrHelp.
func ParseConfig(args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = func() {
		fmt.Fprintln(usage, "flags (each also read from the PORXGATE_* variable named):")
		fs.PrintDefaults()
	}
	var envErr error
	str := func(p *string, name, env, usage string) {
		if v := getenv(envPrefix + env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+envPrefix+env+")")
	}
	num := func(p *int, name, env, usage string) {
		if v := getenv(envPrefix + env); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s%s=%q: not a whole number", envPrefix, env, v))
			}
			*p = n
		}
		fs.IntVar(p, name, *p, usage+" (env "+envPrefix+env+")")
	}
	boolean := func(p *bool, name, env, usage string) {
		if v := getenv(envPrefix + env); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s%s=%q: not true or false", envPrefix, env, v))
			}
			*p = b
		}
		fs.BoolVar(p, name, *p, usage+" (env "+envPrefix+env+")")
	}
	dur := func(p *time.Duration, name, env, usage string) {
		if v := getenv(envPrefix + env); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("%s%s=%q: %w", envPrefix, env, v, err))
			}
			*p = d
		}
		fs.DurationVar(p, name, *p, usage+" (env "+envPrefix+env+")")
	}
	str(&cfg.Addr, "addr", "ADDR", "listen address; port 0: a port the kernel gives, logged (porxgate listening, addr) and written to --addr-file")
	str(&cfg.AddrFile, "addr-file", "ADDR_FILE", "file written once listening, naming the addresses as bound as JSON ({\"addr\":...,\"admin_addr\":...}), removed at stop; empty: none")
	str(&cfg.UpstreamURL, "upstream", "UPSTREAM_URL", "EPS FHIR base URL; empty runs the built-in simulator")
	registerUpstreamFlags(str, &cfg.Upstream)
	str(&cfg.UpstreamIdentitiesFile, "upstream-identities", "UPSTREAM_IDENTITIES", "JSON file of per-party EPS identities (party key -> apiKey, kid, privateKey, clientCert, clientKey); empty: one identity")
	str(&cfg.RedisURL, "redis", "REDIS_URL", "Redis URL: redis://[:password@]host:port[/db], rediss://..., or a Sentinel group redis-sentinel://[:password@]host:port[,host:port]/mastername[/db][?sentinel_password=pw]; empty uses the in-memory store")
	num(&cfg.SimMaxPrescriptions, "sim-max-prescriptions", "SIM_MAX_PRESCRIPTIONS", "prescriptions the built-in simulator keeps, least recently used forgotten first; 0: its default, negative: no cap")
	str(&cfg.RedisSentinelAddrs, "redis-sentinel-addrs", "REDIS_SENTINEL_ADDRS", "Redis Sentinel host:port list (comma-separated); needs --redis-master-name")
	str(&cfg.RedisMasterName, "redis-master-name", "REDIS_MASTER_NAME", "name of the master the sentinels watch")
	str(&cfg.RedisClusterAddrs, "redis-cluster-addrs", "REDIS_CLUSTER_ADDRS", "Redis Cluster seed nodes, host:port list (comma-separated)")
	num(&cfg.RedisWaitReplicas, "redis-wait-replicas", "REDIS_WAIT_REPLICAS", "replicas each durable write waits for (Redis WAIT): queues, EPS answer records, kept SOAP answers, named sets; 0: none")
	str(&cfg.LogLevel, "log-level", "LOG_LEVEL", "log level: debug, info, warn, error")
	num(&cfg.MaxBodyBytes, "max-body", "MAX_BODY", "largest request body in bytes")
	num(&cfg.MaxHeaderBytes, "max-header", "MAX_HEADER", "largest request head (request line and HTTP headers) in bytes, 1024 to 1048576; each open connection holds a read buffer this size")
	num(&cfg.MaxInFlight, "max-in-flight", "MAX_IN_FLIGHT", "legacy messages the front doors work on at once, more refused with a retryable fault; 0: no bound")
	num(&cfg.MaxInFlightPerClient, "max-in-flight-per-client", "MAX_IN_FLIGHT_PER_CLIENT", "of --max-in-flight, messages one sender (client certificate, else address) may have in hand at once; 0: three quarters of --max-in-flight; negative: no bound per sender")
	dur(&cfg.MaxQueueWait, "max-queue-wait", "MAX_QUEUE_WAIT", "while a message ready for an inbox worker has waited longer than this, new ebXML messages are refused with the retryable busy fault; 0: no bound")
	num(&cfg.MaxGCCPUPercent, "max-gc-cpu-percent", "MAX_GC_CPU_PERCENT", "while the garbage collector takes more than this percentage of the gateway's CPU near the memory limit, new messages are refused with the retryable busy fault before their bodies are read; 0: no bound")
	num(&cfg.MaxHandshakesPerClient, "max-handshakes-per-client", "MAX_HANDSHAKES_PER_CLIENT", "connections one client address may have at the front door and at the admin listener at once whose TLS handshake or first request head has not arrived, more connections closed unanswered; 0: no bound")
	num(&cfg.MemoryLimitMB, "memory-limit-mb", "MEMORY_LIMIT_MB", "soft memory limit of the Go runtime in MiB when GOMEMLIMIT is not set; 0: none")
	num(&cfg.GCPercent, "gc-percent", "GC_PERCENT", "garbage collector target percentage (as GOGC) when GOGC is not set, bounded by the memory limit; 0: the runtime's default")
	dur(&cfg.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", "drain limit on shutdown")
	boolean(&cfg.ReadyzUpstream, "readyz-upstream", "READYZ_UPSTREAM", "/readyz also fails while EPS does not answer or a breaker is open; default: readiness follows the store alone")
	str(&cfg.RoutesFile, "routes", "ROUTES", "routing table of MHS endpoints (JSON file); empty: none")
	str(&cfg.TLSCertFile, "tls-cert", "TLS_CERT", "PEM certificate chain to listen with TLS")
	str(&cfg.TLSKeyFile, "tls-key", "TLS_KEY", "PEM private key of --tls-cert")
	str(&cfg.TLSClientCAFile, "tls-client-ca", "TLS_CLIENT_CA", "PEM CAs of accepted client certificates; set: mutual TLS required")
	str(&cfg.TLSClientCRLFiles, "tls-client-crl", "TLS_CLIENT_CRL", "CRL files of the client CAs (PEM or DER, comma-separated); a client certificate they revoke is refused")
	str(&cfg.DeliveryCAFile, "delivery-ca", "DELIVERY_CA", "PEM CAs trusted for MHS endpoints; empty: system roots")
	dur(&cfg.PersistDuration, "persist-duration", "PERSIST_DURATION", "duplicate-elimination window per MessageId")
	persist := persistDurationsValue{m: &cfg.PersistDurations}
	if v := getenv(envPrefix + "PERSIST_DURATIONS"); v != "" {
		if err := persist.Set(v); err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%sPERSIST_DURATIONS: %w", envPrefix, err))
		}
	}
	fs.Var(persist, "persist-durations", "per-interaction persist durations, ID=duration,... (env "+envPrefix+"PERSIST_DURATIONS)")
	num(&cfg.InboxWorkers, "inbox-workers", "INBOX_WORKERS", "messages processed at once")
	num(&cfg.DeliveryWorkers, "delivery-workers", "DELIVERY_WORKERS", "async messages delivered at once")
	dur(&cfg.Lease, "lease", "LEASE", "how long a worker holds a message before another may take it over")
	dur(&cfg.PollInterval, "poll-interval", "POLL_INTERVAL", "how often an idle worker pool (inbox, outbox) looks at the store for work")
	num(&cfg.ProcessRetries, "process-retries", "PROCESS_RETRIES", "processing retries before the dead letters")
	dur(&cfg.ProcessRetryInterval, "process-retry-interval", "PROCESS_RETRY_INTERVAL", "first wait before a processing retry (doubles)")
	num(&cfg.PoisonAfter, "poison-after", "POISON_AFTER", "EPS failures running of one message (5xx answers, or none: reset, timeout; while EPS answers others) before it goes to the dead letters; 0: never")
	dur(&cfg.PoisonMinAge, "poison-min-age", "POISON_MIN_AGE", "least time from a message's first EPS failure before poison-after applies")
	dur(&cfg.DeliveryTimeout, "delivery-timeout", "DELIVERY_TIMEOUT", "limit of one delivery attempt")
	num(&cfg.DeliveryRetries, "delivery-retries", "DELIVERY_RETRIES", "delivery retries of routes that set none")
	dur(&cfg.DeliveryRetryInterval, "delivery-retry-interval", "DELIVERY_RETRY_INTERVAL", "delivery retry interval of routes that set none")
	dur(&cfg.DeliveryPersistDuration, "delivery-persist-duration", "DELIVERY_PERSIST_DURATION", "delivery persist duration of routes that set none")
	dur(&cfg.BreakerOpen, "breaker-open", "BREAKER_OPEN", "how long an upstream circuit breaker stays open before probing")
	num(&cfg.BreakerHalfOpenProbes, "breaker-half-open-probes", "BREAKER_HALF_OPEN_PROBES", "probe calls a half-open breaker lets through")
	dur(&cfg.CancelPollInterval, "cancel-poll-interval", "CANCEL_POLL_INTERVAL", "how often pending cancellations are looked at")
	dur(&cfg.CancelBackoff, "cancel-backoff", "CANCEL_BACKOFF", "first wait before a pending cancellation is polled (doubles)")
	dur(&cfg.CancelMaxBackoff, "cancel-max-backoff", "CANCEL_MAX_BACKOFF", "longest wait between polls of a pending cancellation")
	dur(&cfg.CancelMaxAge, "cancel-max-age", "CANCEL_MAX_AGE", "how long a cancellation may stay pending before it is reported and dropped")
	num(&cfg.CancelPollRate, "cancel-poll-rate", "CANCEL_POLL_RATE", "EPS tracker queries a second for pending cancellations")
	str(&cfg.TrackerASIDs, "tracker-asids", "TRACKER_ASIDS", "ASIDs allowed on the tracker API, ASID[=certificate name],...; any: every caller; empty: any, refused with --tls-cert")
	str(&cfg.PartyKeys, "party-keys", "PARTY_KEYS", "party keys an ebXML message's eb:To/eb:PartyId may name (Spine's, comma-separated); another is refused ValueNotRecognized 501314; empty: eb:To not checked")
	str(&cfg.SOAPASIDs, "soap-asids", "SOAP_ASIDS", "SOAP senders bound to client certificates, ASID=certificate name,...; a listed ASID is taken only with a named certificate (needs --tls-client-ca)")
	registerJournalFlags(str, num, dur, boolean, getenv, &cfg)
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("serve flags: %w", err)
	}
	if envErr != nil {
		return Config{}, envErr
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	return cfg, cfg.Validate()
}

// listenPort returns the host of a listen address, host:port, whose port
// is a number from 0 to 65535 or a service name. A port out of range
// passed net.SplitHostPort and was refused only by the listen, after the
// simulator, the store (a Redis that may not answer) and EPS had been
// opened and checked, and a one-off admin token written.
func listenPort(addr string) (host string, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "" && strings.Trim(port, "+-0123456789") == "" { // a number
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return "", fmt.Errorf("port %s out of range: want 0 to 65535", port)
		}
		return host, nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", fmt.Errorf("port %q: want a number from 0 to 65535 or a service name: %w", port, err)
	}
	return host, nil
}

// Validate checks the configuration and says every problem it finds. It
// reads no files: those are read when the gateway starts.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, c.Upstream.validate(c.UpstreamURL, c.UpstreamIdentitiesFile != "")...)
	errs = append(errs, c.validateJournal()...)
	if _, err := listenPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port: %w", c.Addr, err))
	}
	if c.UpstreamURL != "" {
		if u, err := url.Parse(c.UpstreamURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("upstream %q: want an http(s) URL such as https://int.api.service.nhs.uk/electronic-prescriptions/FHIR/R4", c.UpstreamURL))
		} else if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(c.UpstreamURL, "?") {
			// The client appends each endpoint's path to the base's: a
			// query was kept on some calls and replaced on others.
			errs = append(errs, fmt.Errorf("upstream %q: the FHIR base URL takes no query or fragment", c.UpstreamURL))
		}
	}
	if c.Admin.Addr != "off" && c.Admin.Addr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		errs = append(errs, fmt.Errorf("admin-addr %q: the same address as addr; give the admin listener its own port (or off)", c.Admin.Addr))
	}
	// A URL refused here is not handed to the client's parser as well: it
	// said the same again in its own words ("invalid URL scheme" of a
	// redis-sentinel:// URL it does not know), quoting what it could not
	// read, the password with it.
	urlRefused := false
	switch {
	case store.IsSentinelURL(c.RedisURL):
		if _, err := store.ParseSentinelURL(c.RedisURL); err != nil {
			errs = append(errs, err)
			urlRefused = true
		}
		if c.redisHA() {
			errs = append(errs, errors.New("redis: a redis-sentinel:// URL names the sentinels and master; leave out --redis-sentinel-addrs, --redis-master-name and --redis-cluster-addrs"))
		}
	case c.RedisURL != "" && !isRedisURL(c.RedisURL):
		errs = append(errs, fmt.Errorf("redis %q: want a redis://, rediss:// or redis-sentinel:// URL", redacted(c.RedisURL)))
		urlRefused = true
	}
	if c.UpstreamIdentitiesFile != "" {
		if c.UpstreamURL == "" {
			errs = append(errs, errors.New("upstream-identities given but no --upstream URL: the built-in simulator takes no credentials"))
		}
		if _, err := os.Stat(c.UpstreamIdentitiesFile); err != nil {
			errs = append(errs, fmt.Errorf("upstream-identities: %w", err))
		}
	}
	if c.UsesRedis() {
		if err := c.RedisOptions().Validate(); err != nil && !urlRefused {
			errs = append(errs, fmt.Errorf("redis: %w", err))
		}
	} else if c.RedisWaitReplicas != 0 {
		errs = append(errs, fmt.Errorf("redis-wait-replicas %d: needs Redis (--redis or --redis-sentinel-addrs)", c.RedisWaitReplicas))
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("max-in-flight %d: must not be negative", c.MaxInFlight))
	}
	if c.MaxQueueWait < 0 {
		errs = append(errs, fmt.Errorf("max-queue-wait %s: must not be negative", c.MaxQueueWait))
	}
	if c.MaxGCCPUPercent < 0 || c.MaxGCCPUPercent > 100 {
		errs = append(errs, fmt.Errorf("max-gc-cpu-percent %d: must be from 0 to 100", c.MaxGCCPUPercent))
	}
	if c.MaxHandshakesPerClient < 0 {
		errs = append(errs, fmt.Errorf("max-handshakes-per-client %d: must not be negative", c.MaxHandshakesPerClient))
	}
	if c.MemoryLimitMB < 0 {
		errs = append(errs, fmt.Errorf("memory-limit-mb %d: must not be negative", c.MemoryLimitMB))
	}
	if c.GCPercent < 0 {
		errs = append(errs, fmt.Errorf("gc-percent %d: must not be negative", c.GCPercent))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max-body %d: must be positive", c.MaxBodyBytes))
	}
	if c.MaxHeaderBytes != 0 && (c.MaxHeaderBytes < minHeaderBytes || c.MaxHeaderBytes > maxHeaderBytes) {
		errs = append(errs, fmt.Errorf("max-header %d: must be from %d to %d bytes", c.MaxHeaderBytes, minHeaderBytes, maxHeaderBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown-timeout %s: must be positive", c.ShutdownTimeout))
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("tls-cert and tls-key: give both or neither"))
	}
	if c.TLSClientCAFile != "" && c.TLSCertFile == "" {
		errs = append(errs, errors.New("tls-client-ca: mutual TLS needs tls-cert and tls-key"))
	}
	if len(splitList(c.TLSClientCRLFiles)) > 0 && c.TLSClientCAFile == "" {
		errs = append(errs, errors.New("tls-client-crl: revocation lists of client certificates need mutual TLS (--tls-client-ca)"))
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"persist-duration", c.PersistDuration}, {"lease", c.Lease}, {"poll-interval", c.PollInterval},
		{"process-retry-interval", c.ProcessRetryInterval}, {"delivery-timeout", c.DeliveryTimeout},
		{"cancel-poll-interval", c.CancelPollInterval}, {"cancel-backoff", c.CancelBackoff},
		{"cancel-max-backoff", c.CancelMaxBackoff}, {"cancel-max-age", c.CancelMaxAge},
		{"breaker-open", c.BreakerOpen},
	}
	for _, p := range positive {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: must be positive", p.name, p.d))
		}
	}
	if c.CancelPollInterval > 0 && c.CancelPollInterval < MinCancelPollInterval {
		errs = append(errs, fmt.Errorf("cancel-poll-interval %s: must be at least %s (each poll sweeps and claims in the store: a shorter interval is a busy loop)", c.CancelPollInterval, MinCancelPollInterval))
	}
	if c.Lease > 0 && c.Lease < MinLease {
		errs = append(errs, fmt.Errorf("lease %s: must be at least %s (it is renewed every third of it and counted in milliseconds: a shorter lease runs out while its worker still works, and another worker takes the same message)", c.Lease, MinLease))
	}
	for id, d := range c.PersistDurations {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("persist-durations %s=%s: must be positive", id, d))
		}
	}
	if c.InboxWorkers < 1 {
		errs = append(errs, fmt.Errorf("inbox-workers %d: must be at least 1", c.InboxWorkers))
	}
	if c.DeliveryWorkers < 1 {
		errs = append(errs, fmt.Errorf("delivery-workers %d: must be at least 1", c.DeliveryWorkers))
	}
	for _, w := range []struct {
		name string
		n    int
	}{{"inbox-workers", c.InboxWorkers}, {"delivery-workers", c.DeliveryWorkers}} {
		if w.n > MaxWorkers {
			errs = append(errs, fmt.Errorf("%s %d: at most %d (each is a goroutine with its share of the store's connections; the pools are sized up front)", w.name, w.n, MaxWorkers))
		}
	}
	if c.CancelMaxAge > 0 && c.CancelMaxAge <= c.CancelBackoff {
		errs = append(errs, fmt.Errorf("cancel-max-age %s: must be longer than cancel-backoff %s (a pending cancellation would be given up before its first look in the EPS tracker)", c.CancelMaxAge, c.CancelBackoff))
	}
	if c.CancelMaxBackoff < c.CancelBackoff {
		errs = append(errs, fmt.Errorf("cancel-max-backoff %s: must not be below cancel-backoff %s", c.CancelMaxBackoff, c.CancelBackoff))
	}
	if c.BreakerHalfOpenProbes < 1 {
		errs = append(errs, fmt.Errorf("breaker-half-open-probes %d: must be at least 1", c.BreakerHalfOpenProbes))
	}
	if c.CancelPollRate < 1 {
		errs = append(errs, fmt.Errorf("cancel-poll-rate %d: must be at least 1", c.CancelPollRate))
	}
	if c.ProcessRetries < 0 {
		errs = append(errs, fmt.Errorf("process-retries %d: must not be negative", c.ProcessRetries))
	}
	if c.PoisonAfter < 0 {
		errs = append(errs, fmt.Errorf("poison-after %d: must not be negative", c.PoisonAfter))
	}
	if c.PoisonMinAge < 0 {
		errs = append(errs, fmt.Errorf("poison-min-age %s: must not be negative", c.PoisonMinAge))
	}
	if err := c.DeliveryPolicy().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("delivery defaults: %w", err))
	}
	if _, err := ParseTrackerASIDs(c.TrackerASIDs); err != nil {
		errs = append(errs, fmt.Errorf("tracker-asids: %w", err))
	}
	if _, err := parsePartyKeys(c.PartyKeys); err != nil {
		errs = append(errs, fmt.Errorf("party-keys: %w", err))
	}
	if _, err := ParseSOAPASIDs(c.SOAPASIDs); err != nil {
		errs = append(errs, fmt.Errorf("soap-asids: %w", err))
	}
	if strings.TrimSpace(c.SOAPASIDs) != "" && c.TLSClientCAFile == "" {
		errs = append(errs, errors.New("soap-asids: binding ASIDs to client certificates needs mutual TLS (--tls-client-ca)"))
	}
	if c.TLSCertFile != "" && strings.TrimSpace(c.TrackerASIDs) == "" {
		errs = append(errs, fmt.Errorf("tracker-asids: a gateway serving TLS must name the ASIDs allowed to search and read patients' prescriptions on the Tracker API (ASID[=certificate name],...), or say %q to allow every caller", TrackerAnyASID))
	}
	return errors.Join(errs...)
}

// DeliveryPolicy returns the reliability of routes that set none of their own.
func (c Config) DeliveryPolicy() outbox.Policy {
	return outbox.Policy{Retries: c.DeliveryRetries, RetryInterval: c.DeliveryRetryInterval, PersistDuration: c.DeliveryPersistDuration}
}

// ParseLogLevel turns a level name into a slog.Level.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// redisHA reports whether Sentinel or Cluster settings are given: their
// addresses, or a Sentinel master name (alone an error Validate reports,
// rather than a quiet fall back to the in-memory store).
func (c Config) redisHA() bool {
	return c.RedisSentinelAddrs != "" || c.RedisMasterName != "" || c.RedisClusterAddrs != ""
}

// UsesRedis reports whether the state is kept in Redis (one server,
// Sentinel or Cluster) rather than in memory.
func (c Config) UsesRedis() bool { return c.RedisURL != "" || c.redisHA() }

// RedisOptions returns the store.RedisOptions the configuration names.
func (c Config) RedisOptions() store.RedisOptions {
	if o, ok := sentinelURLOptions(c.RedisURL); ok {
		o.WaitReplicas = c.RedisWaitReplicas
		return o
	}
	return store.RedisOptions{
		URL: c.RedisURL, SentinelAddrs: splitList(c.RedisSentinelAddrs), MasterName: c.RedisMasterName,
		ClusterAddrs: splitList(c.RedisClusterAddrs), WaitReplicas: c.RedisWaitReplicas,
	}
}

// PerClientInFlight is the share of MaxInFlight one sender may hold
// (MaxInFlightPerClient resolved): 0 when no sender is bounded below the
// doors' own bound.
func (c Config) PerClientInFlight() int {
	switch {
	case c.MaxInFlight <= 0 || c.MaxInFlightPerClient < 0:
		return 0
	case c.MaxInFlightPerClient == 0:
		return max(c.MaxInFlight*3/4, 1)
	}
	return c.MaxInFlightPerClient
}

// sentinelURLOptions returns the options a redis-sentinel:// URL names,
// ok false for any other URL or one that cannot be read (Validate says
// why).
func sentinelURLOptions(u string) (store.RedisOptions, bool) {
	if !store.IsSentinelURL(u) {
		return store.RedisOptions{}, false
	}
	o, err := store.ParseSentinelURL(u)
	return o, err == nil
}

// isRedisURL reports whether u is a redis:// or rediss:// URL (a
// redis-sentinel:// one is told apart by store.IsSentinelURL).
func isRedisURL(u string) bool {
	return strings.HasPrefix(u, "redis://") || strings.HasPrefix(u, "rediss://")
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redisDescription names the configured Redis for messages, without
// credentials.
func (c Config) redisDescription() string {
	switch {
	case c.RedisClusterAddrs != "":
		return "cluster " + c.RedisClusterAddrs
	case c.RedisSentinelAddrs != "":
		return "sentinel master " + c.RedisMasterName + " via " + c.RedisSentinelAddrs
	case store.IsSentinelURL(c.RedisURL):
		if o, err := store.ParseSentinelURL(c.RedisURL); err == nil {
			return "sentinel master " + o.MasterName + " via " + strings.Join(o.SentinelAddrs, ",")
		}
	}
	if u, err := url.Parse(c.RedisURL); err == nil {
		return u.Redacted()
	}
	return "the configured URL"
}
