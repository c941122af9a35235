package store

import (
	"strings"
	"testing"
	"time"
)

func TestClusterPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "{porxgate}:"},
		{"porxgate:", "{porxgate}:"},
		{"gw", "{gw}:"},
		{"{tenant}:porxgate:", "{tenant}:porxgate:"},
		{"odd{}:", "{odd{}}:"},
	}
	for _, tt := range tests {
		if got := ClusterPrefix(tt.in); got != tt.want {
			t.Errorf("ClusterPrefix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedisOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		o       RedisOptions
		wantErr string
	}{
		{"url", RedisOptions{URL: "redis://h:6379/0"}, ""},
		{"sentinel", RedisOptions{SentinelAddrs: []string{"s:26379"}, MasterName: "m", WaitReplicas: 1}, ""},
		{"sentinel with credentials only", RedisOptions{URL: "redis://:pw@/3", SentinelAddrs: []string{"s:26379"}, MasterName: "m"}, ""},
		{"cluster", RedisOptions{ClusterAddrs: []string{"a:1", "b:1"}}, ""},
		{"nothing", RedisOptions{}, "no Redis named"},
		{"bad url", RedisOptions{URL: "http://h"}, "redis url"},
		{"both", RedisOptions{SentinelAddrs: []string{"s:1"}, MasterName: "m", ClusterAddrs: []string{"c:1"}}, "one or the other"},
		{"no master", RedisOptions{SentinelAddrs: []string{"s:1"}}, "master name"},
		{"master alone", RedisOptions{URL: "redis://h/0", MasterName: "m"}, "sentinel addresses"},
		{"negative wait", RedisOptions{URL: "redis://h/0", WaitReplicas: -1}, "negative"},
		{"wait on cluster", RedisOptions{ClusterAddrs: []string{"c:1"}, WaitReplicas: 1}, "Cluster"},
		// A Cluster has database 0 alone: another was used as 0, silently.
		{"database on cluster", RedisOptions{URL: "redis://:pw@/3", ClusterAddrs: []string{"c:1"}}, "database 3"},
		{"database 0 on cluster", RedisOptions{URL: "rediss://:pw@/0", ClusterAddrs: []string{"c:1"}}, ""},
		// The script and its WAIT are read under the client's read
		// timeout (go-redis's 5s, or the URL's read_timeout): a WAIT as
		// long failed as a lost reply, not as replicas missing.
		{"wait as long as the read timeout", RedisOptions{URL: "redis://h/0", WaitReplicas: 1, WaitTimeout: 5 * time.Second}, "read timeout 5s"},
		{"wait less than a second under the read timeout", RedisOptions{URL: "redis://h/0", WaitReplicas: 1, WaitTimeout: 4500 * time.Millisecond}, "read timeout 5s"},
		{"wait a second under the read timeout", RedisOptions{URL: "redis://h/0", WaitReplicas: 1, WaitTimeout: 4 * time.Second}, ""},
		{"default wait, URL's read timeout too short", RedisOptions{URL: "redis://h/0?read_timeout=1500ms", WaitReplicas: 1}, "read timeout 1.5s with a wait for replicas of 1s"},
		{"default wait, URL's read timeout long enough", RedisOptions{URL: "redis://h/0?read_timeout=2s", WaitReplicas: 1}, ""},
		{"long wait, longer read timeout", RedisOptions{URL: "redis://h/0?read_timeout=30s", WaitReplicas: 1, WaitTimeout: 20 * time.Second}, ""},
		{"no read timeout", RedisOptions{URL: "redis://h/0?read_timeout=-1", WaitReplicas: 1, WaitTimeout: time.Minute}, ""},
		{"sentinel, wait as long as the read timeout", RedisOptions{SentinelAddrs: []string{"s:26379"}, MasterName: "m", WaitReplicas: 1, WaitTimeout: 5 * time.Second}, "read timeout 5s"},
		{"sentinel, URL's read timeout too short", RedisOptions{URL: "redis://:pw@/0?read_timeout=1s", SentinelAddrs: []string{"s:26379"}, MasterName: "m", WaitReplicas: 1}, "read timeout 1s"},
		// The group's client reads under the URL's read_timeout as one
		// server's does (failoverOptions), so a longer one allows a longer
		// wait; before, it read under 5s whatever the URL said.
		{"sentinel, URL's read timeout long enough", RedisOptions{URL: "redis://:pw@/0?read_timeout=10s", SentinelAddrs: []string{"s:26379"}, MasterName: "m", WaitReplicas: 1, WaitTimeout: 8 * time.Second}, ""},
		{"a wait timeout without waiting", RedisOptions{URL: "redis://h/0?read_timeout=1s", WaitTimeout: 5 * time.Second}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestOpenRedisKinds(t *testing.T) {
	c, err := OpenRedis(RedisOptions{ClusterAddrs: []string{"127.0.0.1:1"}}, "porxgate:")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Prefix() != "{porxgate}:" {
		t.Fatalf("cluster prefix %q", c.Prefix())
	}
	s, err := OpenRedis(RedisOptions{URL: "redis://:pw@/4", SentinelAddrs: []string{"127.0.0.1:1"}, MasterName: "m", WaitReplicas: 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rc, ok := s.Client().(replicatedClient)
	if !ok || rc.replicas != 1 || s.Prefix() != DefaultPrefix {
		t.Fatalf("client %T prefix %q", s.Client(), s.Prefix())
	}
}
