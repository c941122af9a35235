package gateway

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of `porxgate serve`. Every field has a
// flag and a PORXGATE_* environment variable; a flag given on the command
// line wins over the environment, which wins over the default.
type Config struct {
	// Addr is the listen address (--addr, PORXGATE_ADDR; default 127.0.0.1:8080).
	Addr string
	// UpstreamURL is the EPS FHIR base URL (--upstream, PORXGATE_UPSTREAM_URL);
	// empty runs the built-in EPS simulator in-process and uses it.
	UpstreamURL string
	// RedisURL is the Redis to keep state in (--redis, PORXGATE_REDIS_URL);
	// empty uses the in-memory store, which keeps nothing across restarts.
	RedisURL string
	// MaxBodyBytes is the largest request body accepted (--max-body,
	// PORXGATE_MAX_BODY; default 4 MiB).
	MaxBodyBytes int
	// ShutdownTimeout bounds the drain of in-flight requests on SIGINT or
	// SIGTERM (--shutdown-timeout, PORXGATE_SHUTDOWN_TIMEOUT; default 15s).
	ShutdownTimeout time.Duration
	// LogLevel is debug, info, warn or error (--log-level, PORXGATE_LOG_LEVEL; default info).
	LogLevel string
}

// DefaultConfig returns the configuration `make run` uses: loopback, the
// built-in simulator upstream and the in-memory store.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		MaxBodyBytes:    4 << 20,
		ShutdownTimeout: 15 * time.Second,
		LogLevel:        "info",
	}
}

// envPrefix prefixes every environment variable the gateway reads.
const envPrefix = "PORXGATE_"

// LoadConfig fills a Config from the defaults, then the environment (through
// getenv), then the command-line args, and validates it.
func LoadConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	str := func(p *string, name, env, usage string) {
		if v := getenv(envPrefix + env); v != "" {
			*p = v
		}
		fs.StringVar(p, name, *p, usage+" (env "+envPrefix+env+")")
	}
	str(&cfg.Addr, "addr", "ADDR", "listen address")
	str(&cfg.UpstreamURL, "upstream", "UPSTREAM_URL", "EPS FHIR base URL; empty runs the built-in simulator")
	str(&cfg.RedisURL, "redis", "REDIS_URL", "Redis URL; empty uses the in-memory store")
	str(&cfg.LogLevel, "log-level", "LOG_LEVEL", "log level: debug, info, warn, error")
	var envErr error
	if v := getenv(envPrefix + "MAX_BODY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%sMAX_BODY=%q: not a whole number of bytes", envPrefix, v))
		}
		cfg.MaxBodyBytes = n
	}
	fs.IntVar(&cfg.MaxBodyBytes, "max-body", cfg.MaxBodyBytes, "largest request body in bytes (env "+envPrefix+"MAX_BODY)")
	if v := getenv(envPrefix + "SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			envErr = errors.Join(envErr, fmt.Errorf("%sSHUTDOWN_TIMEOUT=%q: %w", envPrefix, v, err))
		}
		cfg.ShutdownTimeout = d
	}
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "drain limit on shutdown (env "+envPrefix+"SHUTDOWN_TIMEOUT)")
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

// Validate checks the configuration and says every problem it finds.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: want host:port: %w", c.Addr, err))
	}
	if c.UpstreamURL != "" {
		if u, err := url.Parse(c.UpstreamURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("upstream %q: want an http(s) URL such as https://int.api.service.nhs.uk/electronic-prescriptions/FHIR/R4", c.UpstreamURL))
		}
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, fmt.Errorf("redis %q: want a redis:// or rediss:// URL", c.RedisURL))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max-body %d: must be positive", c.MaxBodyBytes))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown-timeout %s: must be positive", c.ShutdownTimeout))
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ParseLogLevel turns a level name into a slog.Level.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}
