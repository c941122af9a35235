package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
)

// JournalConfig configures the exchange journal.
type JournalConfig struct {
	// Backend is where the journal is kept: "memory", "redis", "off", or
	// "" (default) for Redis when --redis is set and memory otherwise
	// (--journal, PORXGATE_JOURNAL).
	Backend string
	// MaxAge is how long an exchange is kept (--journal-max-age,
	// PORXGATE_JOURNAL_MAX_AGE; default 168h).
	MaxAge time.Duration
	// MaxBytes caps the journal's size; the oldest exchanges go first
	// (--journal-max-bytes, PORXGATE_JOURNAL_MAX_BYTES; default 256 MiB).
	MaxBytes int
	// Queue is how many events may wait for the journal's writer before
	// they are dropped and counted (--journal-queue, PORXGATE_JOURNAL_QUEUE;
	// default 4096).
	Queue int
	// Compress keeps step payloads compressed in Redis (--journal-compress,
	// PORXGATE_JOURNAL_COMPRESS; default false): about 2.4 times the
	// exchanges under the same MaxBytes, for more of the gateway's CPU a
	// message. Off, payloads are written as they are, readable by
	// porxgates older than compression (package journal's doc).
	Compress bool
	// Redis, when set, is a Redis of the journal's own (--journal-redis,
	// PORXGATE_JOURNAL_REDIS): redis://, rediss:// or redis-sentinel://.
	// The journal's writes and its retention's drops then leave the Redis
	// the messages go through, which is one thread: measured on the
	// README's rig, the journal's scripts take a third to a half of its
	// time, and with --redis-wait-replicas each waited for the store's
	// replicas too. Empty: the journal shares --redis.
	Redis string
}

// AdminConfig configures the admin listener: the page, the journal API
// and the /admin/* views, behind authentication.
type AdminConfig struct {
	// Addr is the admin listen address (--admin-addr, PORXGATE_ADMIN_ADDR;
	// default 127.0.0.1:8081; "off" serves no admin listener).
	Addr string
	// Token is one bearer token with the admin role (--admin-token is not
	// a flag, to keep it out of process listings: env PORXGATE_ADMIN_TOKEN).
	Token string
	// TokensFile lists bearer tokens, one "name role token" a line
	// (--admin-tokens, PORXGATE_ADMIN_TOKENS). Roles: viewer (live state),
	// reader (+ exchanges and their payloads), admin (+ access journal and
	// actions).
	TokensFile string
	// TLSCertFile and TLSKeyFile serve the admin listener over TLS
	// (--admin-tls-cert, --admin-tls-key).
	TLSCertFile, TLSKeyFile string
	// ClientCAFile asks for client certificates signed by these CAs
	// (--admin-client-ca); CertRoles gives their roles.
	ClientCAFile string
	// CertRoles maps certificate subjects' common names to roles,
	// "cn=role,..." (--admin-cert-roles, PORXGATE_ADMIN_CERT_ROLES).
	CertRoles string
	// NoAuth serves without authentication; only settable in code (tests),
	// and only on a loopback address.
	NoAuth bool
}

// CompareConfig configures comparison mode.
type CompareConfig struct {
	// LegacyURL is the supplier's existing Spine route (SOAP sync or ebXML
	// endpoint); set, every legacy message also goes down the legacy path
	// and the two answers are compared (--compare-legacy-url,
	// PORXGATE_COMPARE_LEGACY_URL; default none: comparison off). It must
	// point at another environment than the FHIR path's EPS.
	LegacyURL string
	// Primary is the path whose answer the sender gets: "fhir" (default)
	// or "legacy" (--compare-primary, PORXGATE_COMPARE_PRIMARY).
	Primary string
	// Timeout bounds one shadow call (--compare-timeout; default 30s).
	Timeout time.Duration
	// Workers is how many shadow calls run at once (--compare-workers;
	// default 2); beyond a bounded queue shadow runs are skipped and counted.
	Workers int
	// QueueBytes bounds the bytes the shadow runs queued or in hand hold
	// (each its request and the primary's answer) (--compare-queue-bytes,
	// PORXGATE_COMPARE_QUEUE_BYTES; default 64 MiB). A shadow run past it is
	// skipped and counted as when the queue (256 runs) is full.
	QueueBytes int
}

// DefaultCompareQueueBytes is the default of CompareConfig.QueueBytes.
const DefaultCompareQueueBytes = 64 << 20

// MaxJournalQueue is the most --journal-queue Validate accepts.
const MaxJournalQueue = 1 << 20

// registerJournalFlags adds the journal, admin and comparison flags.
func registerJournalFlags(str func(p *string, name, env, usage string), num func(p *int, name, env, usage string),
	dur func(p *time.Duration, name, env, usage string), boolean func(p *bool, name, env, usage string), getenv func(string) string, c *Config) {
	str(&c.Journal.Backend, "journal", "JOURNAL", "exchange journal: memory, redis, off; empty: redis with --redis, else memory")
	dur(&c.Journal.MaxAge, "journal-max-age", "JOURNAL_MAX_AGE", "how long the journal keeps an exchange")
	num(&c.Journal.MaxBytes, "journal-max-bytes", "JOURNAL_MAX_BYTES", "journal size cap in bytes (oldest dropped first)")
	num(&c.Journal.Queue, "journal-queue", "JOURNAL_QUEUE", "journal events waiting for the writer before drops")
	str(&c.Journal.Redis, "journal-redis", "JOURNAL_REDIS", "a Redis of the journal's own (redis://, rediss://, redis-sentinel://): its writes and drops off the Redis messages go through; empty: the journal shares --redis")
	boolean(&c.Journal.Compress, "journal-compress", "JOURNAL_COMPRESS", "keep journal payloads compressed (S2) in Redis: more history under --journal-max-bytes for more gateway CPU; only once no replica older than compression reads the journal")
	str(&c.Admin.Addr, "admin-addr", "ADMIN_ADDR", "admin listener (page, journal API, /admin/*); off: none")
	if v := getenv(envPrefix + "ADMIN_TOKEN"); v != "" {
		c.Admin.Token = v
	}
	str(&c.Admin.TokensFile, "admin-tokens", "ADMIN_TOKENS", "file of admin bearer tokens: name role token per line")
	str(&c.Admin.TLSCertFile, "admin-tls-cert", "ADMIN_TLS_CERT", "PEM certificate of the admin listener")
	str(&c.Admin.TLSKeyFile, "admin-tls-key", "ADMIN_TLS_KEY", "PEM key of --admin-tls-cert")
	str(&c.Admin.ClientCAFile, "admin-client-ca", "ADMIN_CLIENT_CA", "PEM CAs of admin client certificates")
	str(&c.Admin.CertRoles, "admin-cert-roles", "ADMIN_CERT_ROLES", "client certificate roles, cn=role,...")
	str(&c.Compare.LegacyURL, "compare-legacy-url", "COMPARE_LEGACY_URL", "comparison mode: the legacy Spine route (another environment)")
	str(&c.Compare.Primary, "compare-primary", "COMPARE_PRIMARY", "comparison mode: fhir or legacy answers the sender")
	dur(&c.Compare.Timeout, "compare-timeout", "COMPARE_TIMEOUT", "comparison mode: limit of one shadow call")
	num(&c.Compare.Workers, "compare-workers", "COMPARE_WORKERS", "comparison mode: shadow calls at once")
	num(&c.Compare.QueueBytes, "compare-queue-bytes", "COMPARE_QUEUE_BYTES", "comparison mode: bytes the queued shadow runs may hold before runs are skipped")
}

// defaultJournalConfigs sets the defaults of the journal, admin and
// comparison settings.
func defaultJournalConfigs(c *Config) {
	c.Journal = JournalConfig{MaxAge: journal.DefaultMaxAge, MaxBytes: journal.DefaultMaxBytes, Queue: 4096}
	c.Admin = AdminConfig{Addr: "127.0.0.1:8081"}
	c.Compare = CompareConfig{Primary: "fhir", Timeout: 30 * time.Second, Workers: 2, QueueBytes: DefaultCompareQueueBytes}
}

// validateJournal checks the journal, admin and comparison settings.
func (c Config) validateJournal() []error {
	var errs []error
	switch c.Journal.Backend {
	case "":
	case "memory", "off":
		if c.Journal.Redis != "" {
			errs = append(errs, fmt.Errorf("journal-redis: the journal is %s; leave --journal empty or set it to redis", c.Journal.Backend))
		}
	case "redis":
		if !c.UsesRedis() && c.Journal.Redis == "" {
			errs = append(errs, errors.New("journal redis: needs --redis (or --redis-sentinel-addrs or --redis-cluster-addrs) or --journal-redis"))
		}
	default:
		errs = append(errs, fmt.Errorf("journal %q: want memory, redis or off", c.Journal.Backend))
	}
	if c.Journal.Redis != "" {
		if err := c.checkJournalRedis(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Journal.MaxAge <= 0 || c.Journal.MaxBytes <= 0 || c.Journal.Queue <= 0 {
		errs = append(errs, errors.New("journal-max-age, journal-max-bytes and journal-queue: must be positive"))
	}
	if c.Journal.Queue > MaxJournalQueue {
		errs = append(errs, fmt.Errorf("journal-queue %d: at most %d (the queue is allocated up front)", c.Journal.Queue, MaxJournalQueue))
	}
	if c.Admin.Addr != "off" {
		host, err := listenPort(c.Admin.Addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("admin-addr %q: want host:port or off: %w", c.Admin.Addr, err))
		} else if c.Admin.NoAuth && !isLoopback(host) {
			errs = append(errs, fmt.Errorf("admin-addr %q: an admin listener without authentication must be on loopback", c.Admin.Addr))
		}
		if (c.Admin.TLSCertFile == "") != (c.Admin.TLSKeyFile == "") {
			errs = append(errs, errors.New("admin-tls-cert and admin-tls-key: give both or neither"))
		}
		if c.Admin.ClientCAFile != "" && c.Admin.TLSCertFile == "" {
			errs = append(errs, errors.New("admin-client-ca: needs admin-tls-cert and admin-tls-key"))
		}
		if c.Admin.CertRoles != "" && c.Admin.ClientCAFile == "" {
			errs = append(errs, errors.New("admin-cert-roles: needs admin-client-ca"))
		}
	}
	if c.Compare.LegacyURL != "" {
		u, err := url.Parse(c.Compare.LegacyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("compare-legacy-url %q: want an http(s) URL", c.Compare.LegacyURL))
		}
		if c.UpstreamURL != "" && sameHost(c.UpstreamURL, c.Compare.LegacyURL) {
			errs = append(errs, errors.New("compare-legacy-url: must point at another environment than --upstream (a prescription must never be issued twice in one)"))
		}
	}
	if c.Compare.Primary != "fhir" && c.Compare.Primary != "legacy" {
		errs = append(errs, fmt.Errorf("compare-primary %q: want fhir or legacy", c.Compare.Primary))
	}
	if c.Compare.Timeout <= 0 || c.Compare.Workers < 1 || c.Compare.QueueBytes <= 0 {
		errs = append(errs, errors.New("compare-timeout, compare-workers and compare-queue-bytes: must be positive"))
	}
	return errs
}

// isLoopback reports whether host is a loopback name or address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameHost reports whether two URLs name the same host and port, however
// written: the host's case, a trailing dot, a default port left out or
// given, credentials.
func sameHost(a, b string) bool {
	ha, ok1 := hostPort(a)
	hb, ok2 := hostPort(b)
	return ok1 && ok2 && ha == hb
}

// hostPort is a URL's lower-case host name and port (the scheme's default
// when none is given).
func hostPort(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(strings.TrimSuffix(strings.ToLower(u.Hostname()), "."), port), true
}

// JournalRedisOptions are the options of the journal's own Redis
// (JournalConfig.Redis), or ok false when it shares the store's. Its
// writes wait for no replicas: the journal is a record for people to
// read, not one the exactly-once rules rest on.
func (c Config) JournalRedisOptions() (o store.RedisOptions, ok bool) {
	u := c.Journal.Redis
	if u == "" {
		return store.RedisOptions{}, false
	}
	if o, ok := sentinelURLOptions(u); ok {
		return o, true
	}
	return store.RedisOptions{URL: u}, true
}

// checkJournalRedis checks --journal-redis as --redis is checked, without
// quoting its password.
func (c Config) checkJournalRedis() error {
	u := c.Journal.Redis
	switch {
	case store.IsSentinelURL(u):
		if _, err := store.ParseSentinelURL(u); err != nil {
			return fmt.Errorf("journal-redis: %w", err)
		}
	case !isRedisURL(u):
		return fmt.Errorf("journal-redis %q: want a redis://, rediss:// or redis-sentinel:// URL", redacted(u))
	}
	o, _ := c.JournalRedisOptions()
	if err := o.Validate(); err != nil {
		return fmt.Errorf("journal-redis: %w", err)
	}
	return nil
}
