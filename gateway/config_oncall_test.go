package gateway

import (
	"strings"
	"testing"
)

// TestConfigRefusesWhatMisbehaves holds Validate to the settings an
// operator could give that were accepted and then made the gateway
// misbehave: each case names the setting, and the refusal must name it too.
func TestConfigRefusesWhatMisbehaves(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // "" : accepted
	}{
		// A master name without sentinels used to fall back silently to the
		// in-memory store: the operator meant Sentinel, and every restart
		// lost the queues.
		{name: "sentinel master name alone", args: []string{"--redis-master-name", "porxgate"}, wantErr: "master name needs sentinel addresses"},
		{name: "sentinel master name alone in the environment", env: map[string]string{"PORXGATE_REDIS_MASTER_NAME": "porxgate"}, wantErr: "master name needs sentinel addresses"},
		// A redis-sentinel:// URL names the master; a second name was ignored.
		{name: "sentinel URL and a master name", args: []string{"--redis", "redis-sentinel://s1:26379/m", "--redis-master-name", "other"}, wantErr: "leave out --redis-sentinel-addrs"},
		// The journal on Redis was refused when Redis came from Sentinel
		// or Cluster addresses rather than --redis.
		{name: "journal redis on sentinel", args: []string{"--journal", "redis", "--redis-sentinel-addrs", "s1:26379", "--redis-master-name", "m"}},
		{name: "journal redis on cluster", args: []string{"--journal", "redis", "--redis-cluster-addrs", "n1:6379"}},
		{name: "journal redis without redis", args: []string{"--journal", "redis"}, wantErr: "journal redis: needs --redis"},
		// The token URL was checked only when the first EPS call was made.
		{name: "token URL without scheme", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "eps.example/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: "upstream-token-url \"eps.example/oauth2/token\""},
		{name: "token URL of another scheme", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "ftp://eps.example/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: "upstream-token-url"},
		{name: "token URL", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "https://eps.example/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}},
		// OAuth2 settings without the API key were ignored: no token was
		// fetched and EPS refused every call (401) while the gateway took
		// messages in and kept them waiting.
		{name: "private key and kid without an API key", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "https://eps.example/oauth2/token",
			"--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: "--upstream-token-url, --upstream-kid, --upstream-private-key given without --upstream-api-key"},
		{name: "private key alone in the environment", args: []string{"--upstream", "https://eps.example/FHIR/R4"},
			env: map[string]string{"PORXGATE_UPSTREAM_PRIVATE_KEY": "config_oncall_test.go", "PORXGATE_UPSTREAM_API_KEY": ""}, wantErr: "--upstream-private-key given without --upstream-api-key"},
		// Per-party identities bring their own API keys; the token URL, kid
		// and key are shared with them.
		{name: "token URL, kid and key for the parties' API keys", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "https://eps.example/oauth2/token",
			"--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go", "--upstream-identities", "config_oncall_test.go"}},
		// OAuth2 credentials over plain http to another machine: the signed
		// client assertion and the tokens could be read on the way.
		{name: "credentials over plain http", args: []string{"--upstream", "http://eps.example/FHIR/R4", "--upstream-token-url", "http://eps.example/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: `upstream "http://eps.example/FHIR/R4": OAuth2 credentials`},
		{name: "token over plain http", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "http://eps.example/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: `upstream-token-url "http://eps.example/oauth2/token": OAuth2 credentials`},
		{name: "credentials over plain http to loopback", args: []string{"--upstream", "http://127.0.0.1:9000/FHIR/R4", "--upstream-token-url", "http://localhost:9000/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}},
		{name: "plain http without credentials", args: []string{"--upstream", "http://sim:9000/FHIR/R4"}},
		{name: "client certificate over plain http", args: []string{"--upstream", "http://127.0.0.1:9000/FHIR/R4",
			"--upstream-client-cert", "config_oncall_test.go", "--upstream-client-key", "config_oncall_test.go"}, wantErr: "a client certificate needs an https upstream"},
		// The admin listener on the front door's address failed to bind
		// and the gateway ran on without it.
		{name: "admin on the front door's address", args: []string{"--addr", "127.0.0.1:8080", "--admin-addr", "127.0.0.1:8080"}, wantErr: "admin-addr \"127.0.0.1:8080\": the same address"},
		{name: "both on ephemeral ports", args: []string{"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}},
		// A lease of a few microseconds or milliseconds ran out between
		// renewals (and under a millisecond the Redis store saw it end as
		// it began): several workers processed one message at once.
		{name: "lease of a microsecond", args: []string{"--lease", "1us"}, wantErr: "lease 1µs: must be at least 100ms"},
		{name: "lease of 10ms", env: map[string]string{"PORXGATE_LEASE": "10ms"}, wantErr: "lease 10ms: must be at least"},
		{name: "lease of 100ms", args: []string{"--lease", "100ms"}},
		{name: "negative lease", args: []string{"--lease", "-5s"}, wantErr: "lease -5s: must be positive"},
		// A query on the FHIR base was kept on some calls and replaced on
		// others (the client appends each endpoint's path to the base's).
		{name: "upstream with a query", args: []string{"--upstream", "https://eps.example/FHIR/R4?apikey=x"}, wantErr: "takes no query or fragment"},
		{name: "upstream with a fragment", args: []string{"--upstream", "https://eps.example/FHIR/R4#r4"}, wantErr: "takes no query or fragment"},
		{name: "upstream with a path and a trailing slash", args: []string{"--upstream", "https://eps.example/electronic-prescriptions/FHIR/R4/"}},
		// User information in an upstream URL was never sent (the EPS client
		// is no http.Client: nothing turns it into basic auth), and the URL
		// as given is the upstream's description: the password stood in the
		// start's log line and in /readyz for anyone to read.
		{name: "upstream with credentials", args: []string{"--upstream", "https://porxgate:s3cret@eps.example/FHIR/R4"}, wantErr: "upstream: user information in the URL is never sent"},
		{name: "token URL with credentials", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "https://app:s3cret@eps.example/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: "upstream-token-url: user information in the URL is never sent"},
		// A cancellation older than cancel-max-age is given up; with the
		// first look after cancel-backoff, a shorter age gave every one up
		// before EPS was ever asked.
		{name: "cancel max age within the first backoff", args: []string{"--cancel-max-age", "1m", "--cancel-backoff", "5m", "--cancel-max-backoff", "10m"}, wantErr: "cancel-max-age 1m0s: must be longer than cancel-backoff 5m0s"},
		{name: "cancel max age past the first backoff", args: []string{"--cancel-max-age", "1h", "--cancel-backoff", "5m", "--cancel-max-backoff", "10m"}},
		// A sentinel or cluster node without a port failed only when the
		// client first dialled it, with the dialler's words.
		{name: "sentinel without a port", args: []string{"--redis-sentinel-addrs", "s1:26379,s2", "--redis-master-name", "m"}, wantErr: `address "s2": want host:port`},
		{name: "cluster node with a bad port", env: map[string]string{"PORXGATE_REDIS_CLUSTER_ADDRS": "n1:6379,n2:99999"}, wantErr: `address "n2:99999": port "99999" is not a port number`},
		// Sizes with a few zeros too many: the pools' and the journal's
		// channels were allocated up front and the start died with
		// "fatal error: out of memory" and a stack.
		{name: "inbox workers by the billion", args: []string{"--inbox-workers", "2000000000"}, wantErr: "inbox-workers 2000000000: at most 4096"},
		{name: "delivery workers by the billion", env: map[string]string{"PORXGATE_DELIVERY_WORKERS": "2000000000"}, wantErr: "delivery-workers 2000000000: at most 4096"},
		{name: "journal queue by the billion", args: []string{"--journal-queue", "2000000000"}, wantErr: "journal-queue 2000000000: at most 1048576"},
		{name: "workers at the bound", args: []string{"--inbox-workers", "4096", "--delivery-workers", "4096", "--journal-queue", "1048576"}},
		// The pending-cancellation poller at 1ns kept a core busy (and,
		// on Redis, the store) doing nothing.
		{name: "cancel poll interval of a nanosecond", args: []string{"--cancel-poll-interval", "1ns"}, wantErr: "cancel-poll-interval 1ns: must be at least 10ms"},
		{name: "cancel poll interval of 10ms", args: []string{"--cancel-poll-interval", "10ms"}},
		{name: "sentinel over IPv6", args: []string{"--redis-sentinel-addrs", "[::1]:26379", "--redis-master-name", "m"}},
		// A Redis URL whose scheme was mistyped (or that was no URL at all)
		// was quoted whole in the refusal: the password it carried stood in
		// the start's error, on the terminal and in the service's log.
		{name: "redis URL without its scheme's colon", env: map[string]string{"PORXGATE_REDIS_URL": "redis//:s3cret@redis.example:6379/0"}, wantErr: "want a redis://"},
		{name: "redis URL of another scheme", args: []string{"--redis", "http://porxgate:s3cret@redis.example:6379"}, wantErr: "redis \"http://porxgate:xxxxx@redis.example:6379\": want a redis://"},
		{name: "redis URL with one slash", args: []string{"--redis", "redis:/:s3cret@redis.example:6379"}, wantErr: "want a redis://"},
		// A redis-sentinel:// URL refused was refused a second time, by the
		// Redis client's parser, for an "invalid URL scheme" it is not.
		{name: "sentinel URL without its master", args: []string{"--redis", "redis-sentinel://:s3cret@s1:26379"}, wantErr: "the master name is missing"},
		// An upstream URL that does not parse was quoted as given.
		{name: "token URL with credentials that does not parse", args: []string{"--upstream", "https://eps.example/FHIR/R4", "--upstream-token-url", "https://app:s3cret@[eps.example/oauth2/token",
			"--upstream-api-key", "k", "--upstream-kid", "kid", "--upstream-private-key", "config_oncall_test.go"}, wantErr: "upstream-token-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(tt.args, func(k string) string { return tt.env[k] })
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Fatalf("err = %v: the refusal repeats the password", err)
			case err != nil && strings.Contains(err.Error(), "invalid URL scheme"):
				t.Fatalf("err = %v: a URL refused already is refused again by the Redis client's parser", err)
			}
		})
	}
}
