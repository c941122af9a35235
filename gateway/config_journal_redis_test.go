package gateway

import (
	"strings"
	"testing"
)

// TestJournalRedisSetting: --journal-redis (PORXGATE_JOURNAL_REDIS) names
// a Redis of the journal's own, as --redis names the store's (redis://,
// rediss://, redis-sentinel://); it is refused for a journal in memory
// or off, and in any other form, without quoting a password. Its writes
// wait for no replicas, whatever --redis-wait-replicas asks of the
// store's.
func TestJournalRedisSetting(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		env       map[string]string
		wantErr   string
		wantURL   string
		sentinels int
		master    string
	}{
		{name: "not set"},
		{name: "flag", args: []string{"--redis", "redis://127.0.0.1:6379/0", "--journal-redis", "redis://127.0.0.1:6380/0"}, wantURL: "redis://127.0.0.1:6380/0"},
		{name: "env", env: map[string]string{"PORXGATE_JOURNAL_REDIS": "rediss://127.0.0.1:6380/1"}, wantURL: "rediss://127.0.0.1:6380/1"},
		{name: "without --redis, the store in memory", args: []string{"--journal-redis", "redis://127.0.0.1:6380/0"}, wantURL: "redis://127.0.0.1:6380/0"},
		{name: "journal redis without --redis", args: []string{"--journal", "redis", "--journal-redis", "redis://127.0.0.1:6380/0"}, wantURL: "redis://127.0.0.1:6380/0"},
		{name: "sentinel group, store waiting for replicas",
			args:      []string{"--redis", "redis://127.0.0.1:6379/0", "--redis-wait-replicas", "1", "--journal-redis", "redis-sentinel://127.0.0.1:26379,127.0.0.1:26380/journal"},
			sentinels: 2, master: "journal"},
		{name: "journal off", args: []string{"--journal", "off", "--journal-redis", "redis://127.0.0.1:6380/0"}, wantErr: "journal-redis: the journal is off"},
		{name: "journal in memory", args: []string{"--journal", "memory", "--journal-redis", "redis://127.0.0.1:6380/0"}, wantErr: "journal-redis: the journal is memory"},
		{name: "not a Redis URL", args: []string{"--journal-redis", "http://:s3cret@127.0.0.1:6380"}, wantErr: "want a redis://, rediss:// or redis-sentinel:// URL"},
		{name: "sentinel URL without a master", args: []string{"--journal-redis", "redis-sentinel://:s3cret@127.0.0.1:26379"}, wantErr: "journal-redis:"},
		{name: "bad port", args: []string{"--journal-redis", "redis://:s3cret@127.0.0.1:notaport/0"}, wantErr: "journal-redis:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadConfig(c.args, func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one containing %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error quotes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o, ok := cfg.JournalRedisOptions()
			if want := c.wantURL != "" || c.sentinels > 0; ok != want {
				t.Fatalf("JournalRedisOptions ok = %v, want %v", ok, want)
			}
			if c.sentinels == 0 && o.URL != c.wantURL || len(o.SentinelAddrs) != c.sentinels || o.MasterName != c.master || o.WaitReplicas != 0 {
				t.Errorf("JournalRedisOptions = URL %q, %d sentinels, master %q, wait %d; want %q, %d, %q, 0",
					o.URL, len(o.SentinelAddrs), o.MasterName, o.WaitReplicas, c.wantURL, c.sentinels, c.master)
			}
		})
	}
}
