package gateway

import (
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:8080" || c.UpstreamURL != "" || c.RedisURL != "" || c.MaxBodyBytes != 4<<20 {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{name: "env", env: map[string]string{"PORXGATE_ADDR": "127.0.0.1:9999", "PORXGATE_REDIS_URL": "redis://127.0.0.1:6379/0", "PORXGATE_SHUTDOWN_TIMEOUT": "3s"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9999" || c.RedisURL != "redis://127.0.0.1:6379/0" || c.ShutdownTimeout != 3*time.Second {
					t.Errorf("env config = %+v", c)
				}
			}},
		{name: "flag beats env", args: []string{"--addr", "127.0.0.1:7000"}, env: map[string]string{"PORXGATE_ADDR": "127.0.0.1:9999"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:7000" {
					t.Errorf("addr = %s", c.Addr)
				}
			}},
		{name: "bad addr", args: []string{"--addr", "nonsense"}, wantErr: "addr \"nonsense\""},
		{name: "bad upstream", args: []string{"--upstream", "ftp://x"}, wantErr: "upstream \"ftp://x\""},
		{name: "bad redis", args: []string{"--redis", "127.0.0.1:6379"}, wantErr: "redis \"127.0.0.1:6379\""},
		{name: "bad max body env", env: map[string]string{"PORXGATE_MAX_BODY": "lots"}, wantErr: "PORXGATE_MAX_BODY"},
		{name: "bad level", args: []string{"--log-level", "loud"}, wantErr: "log-level \"loud\""},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
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
