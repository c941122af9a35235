package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/cancels"
)

func TestLoadConfigCancellations(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    cancels.Config
		wantErr string
	}{
		{name: "defaults", want: cancels.Config{PollInterval: 30 * time.Second, Backoff: 5 * time.Minute, MaxBackoff: 6 * time.Hour,
			MaxAge: 9600 * time.Hour, Rate: 2, Lease: 30 * time.Second}},
		{name: "env", env: map[string]string{"PORXGATE_CANCEL_POLL_INTERVAL": "1m", "PORXGATE_CANCEL_BACKOFF": "10m",
			"PORXGATE_CANCEL_MAX_BACKOFF": "2h", "PORXGATE_CANCEL_MAX_AGE": "48h", "PORXGATE_CANCEL_POLL_RATE": "5", "PORXGATE_LEASE": "10s"},
			want: cancels.Config{PollInterval: time.Minute, Backoff: 10 * time.Minute, MaxBackoff: 2 * time.Hour, MaxAge: 48 * time.Hour, Rate: 5, Lease: 10 * time.Second}},
		{name: "flags", args: []string{"--cancel-poll-interval", "5s", "--cancel-backoff", "1m", "--cancel-max-backoff", "1m",
			"--cancel-max-age", "1h", "--cancel-poll-rate", "1"},
			want: cancels.Config{PollInterval: 5 * time.Second, Backoff: time.Minute, MaxBackoff: time.Minute, MaxAge: time.Hour, Rate: 1, Lease: 30 * time.Second}},
		{name: "max below first", args: []string{"--cancel-backoff", "1h", "--cancel-max-backoff", "1m"}, wantErr: "cancel-max-backoff 1m0s"},
		{name: "zero rate", args: []string{"--cancel-poll-rate", "0"}, wantErr: "cancel-poll-rate 0"},
		{name: "zero max age", env: map[string]string{"PORXGATE_CANCEL_MAX_AGE": "0s"}, wantErr: "cancel-max-age 0s"},
		{name: "bad interval", env: map[string]string{"PORXGATE_CANCEL_POLL_INTERVAL": "soon"}, wantErr: "PORXGATE_CANCEL_POLL_INTERVAL"},
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
			if got := cancelConfig(c); got != tt.want {
				t.Errorf("cancel options %+v, want %+v", got, tt.want)
			}
		})
	}
}
