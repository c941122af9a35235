package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfigMessaging(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.RoutesFile != "" || c.TLSCertFile != "" || c.PersistDuration != 5*time.Minute || c.InboxWorkers != 64 ||
				c.DeliveryWorkers != 64 || c.Lease != 30*time.Second || c.DeliveryRetries != 2 ||
				c.DeliveryRetryInterval != time.Minute || c.DeliveryPersistDuration != 5*time.Minute || c.ProcessRetries != 10 {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "env", env: map[string]string{
			"PORXGATE_ROUTES": "/etc/porxgate/routes.json", "PORXGATE_TLS_CERT": "c.pem", "PORXGATE_TLS_KEY": "k.pem",
			"PORXGATE_TLS_CLIENT_CA": "ca.pem", "PORXGATE_PERSIST_DURATION": "10m", "PORXGATE_TRACKER_ASIDS": "200000001285",
			"PORXGATE_PERSIST_DURATIONS": "PORX_IN020101SM31=2h, PORX_IN080101UK31=30m",
			"PORXGATE_DELIVERY_WORKERS":  "8", "PORXGATE_DELIVERY_RETRY_INTERVAL": "45s",
		}, check: func(t *testing.T, c Config) {
			if c.RoutesFile != "/etc/porxgate/routes.json" || c.TLSClientCAFile != "ca.pem" || c.DeliveryWorkers != 8 ||
				c.DeliveryRetryInterval != 45*time.Second {
				t.Errorf("env config = %+v", c)
			}
			for id, want := range map[string]time.Duration{
				"PORX_IN020101UK31": 2 * time.Hour, "PORX_IN020101SM31": 2 * time.Hour,
				"PORX_IN080101UK31": 30 * time.Minute, "PORX_IN132004UK30": 10 * time.Minute,
			} {
				if got := c.PersistDurationFor(id); got != want {
					t.Errorf("PersistDurationFor(%s) = %s, want %s", id, got, want)
				}
			}
		}},
		{name: "flag beats env", args: []string{"--persist-durations", "PORX_IN030101UK32=1m", "--lease", "5s"},
			env: map[string]string{"PORXGATE_PERSIST_DURATIONS": "PORX_IN020101UK31=2h", "PORXGATE_LEASE": "1m"},
			check: func(t *testing.T, c Config) {
				if c.Lease != 5*time.Second || len(c.PersistDurations) != 1 || c.PersistDurations["PORX_IN030101UK32"] != time.Minute {
					t.Errorf("config = %+v", c)
				}
			}},
		{name: "cert without key", args: []string{"--tls-cert", "c.pem"}, wantErr: "tls-cert and tls-key"},
		{name: "client CA without cert", args: []string{"--tls-client-ca", "ca.pem"}, wantErr: "mutual TLS needs tls-cert"},
		{name: "bad persist durations", args: []string{"--persist-durations", "PORX_IN020101UK31"}, wantErr: "want INTERACTION=duration"},
		{name: "bad interaction id", env: map[string]string{"PORXGATE_PERSIST_DURATIONS": "NOPE=1m"}, wantErr: "PORXGATE_PERSIST_DURATIONS"},
		{name: "zero workers", args: []string{"--inbox-workers", "0"}, wantErr: "inbox-workers 0"},
		{name: "bad workers env", env: map[string]string{"PORXGATE_DELIVERY_WORKERS": "many"}, wantErr: "PORXGATE_DELIVERY_WORKERS"},
		{name: "negative retries", args: []string{"--delivery-retries", "-1"}, wantErr: "retries -1"},
		{name: "zero lease", args: []string{"--lease", "0s"}, wantErr: "lease 0s"},
		// A gateway serving TLS (production) must say who may read patients'
		// prescriptions on the Tracker API: before, leaving the list out
		// opened it to every caller.
		{name: "TLS without tracker ASIDs", args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, wantErr: `say "any"`},
		{name: "TLS with tracker ASIDs any", args: []string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tracker-asids", "any"},
			check: func(t *testing.T, c Config) {
				if a, err := ParseTrackerASIDs(c.TrackerASIDs); a != nil || err != nil {
					t.Errorf("any = %v, %v; want every caller allowed", a, err)
				}
			}},
		{name: "readyz-upstream from env", env: map[string]string{"PORXGATE_READYZ_UPSTREAM": "true"},
			check: func(t *testing.T, c Config) {
				if !c.ReadyzUpstream {
					t.Error("PORXGATE_READYZ_UPSTREAM=true not taken")
				}
			}},
		{name: "readyz-upstream not a boolean", env: map[string]string{"PORXGATE_READYZ_UPSTREAM": "sometimes"}, wantErr: "PORXGATE_READYZ_UPSTREAM"},
		{name: "tracker ASIDs any among others is not a list", args: []string{"--tracker-asids", "any,200000001285"}, wantErr: "12 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestProcessBackoff(t *testing.T) {
	tests := []struct {
		n    int
		want time.Duration
	}{{1, 30 * time.Second}, {2, time.Minute}, {4, 4 * time.Minute}, {6, 15 * time.Minute}, {40, 15 * time.Minute}}
	for _, tt := range tests {
		if got := processBackoff(30*time.Second, tt.n); got != tt.want {
			t.Errorf("processBackoff(30s, %d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

// TestBreakerSettings: the breaker's open period and half-open probes come
// from flags or the environment, with short defaults, and are checked.
func TestBreakerSettings(t *testing.T) {
	cfg, err := LoadConfig(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BreakerOpen != 5*time.Second || cfg.BreakerHalfOpenProbes != 3 {
		t.Errorf("defaults %s %d, want 5s 3", cfg.BreakerOpen, cfg.BreakerHalfOpenProbes)
	}
	env := map[string]string{"PORXGATE_BREAKER_OPEN": "2s"}
	cfg, err = LoadConfig([]string{"--breaker-half-open-probes", "5"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BreakerOpen != 2*time.Second || cfg.BreakerHalfOpenProbes != 5 {
		t.Errorf("got %s %d, want 2s 5", cfg.BreakerOpen, cfg.BreakerHalfOpenProbes)
	}
	for _, args := range [][]string{{"--breaker-open", "0s"}, {"--breaker-half-open-probes", "0"}} {
		if _, err := LoadConfig(args, func(string) string { return "" }); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
