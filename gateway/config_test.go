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
		{name: "addr port out of range", args: []string{"--addr", "127.0.0.1:70000"}, wantErr: `addr "127.0.0.1:70000": want host:port: port 70000 out of range`},
		{name: "addr port negative env", env: map[string]string{"PORXGATE_ADDR": "127.0.0.1:-1"}, wantErr: `addr "127.0.0.1:-1": want host:port: port -1 out of range`},
		{name: "admin addr port out of range", args: []string{"--admin-addr", "127.0.0.1:99999"}, wantErr: `admin-addr "127.0.0.1:99999": want host:port or off: port 99999 out of range`},
		{name: "admin addr port out of range env", env: map[string]string{"PORXGATE_ADMIN_ADDR": "127.0.0.1:65536"}, wantErr: `admin-addr "127.0.0.1:65536"`},
		{name: "admin addr unknown service", args: []string{"--admin-addr", "127.0.0.1:no-such-service"}, wantErr: `admin-addr "127.0.0.1:no-such-service"`},
		{name: "addr service name", args: []string{"--addr", "127.0.0.1:https"}, check: func(t *testing.T, c Config) {
			if c.Addr != "127.0.0.1:https" {
				t.Errorf("addr = %s", c.Addr)
			}
		}},
		{name: "addr highest port", args: []string{"--addr", "127.0.0.1:65535"}, check: func(t *testing.T, c Config) {}},
		{name: "bad upstream", args: []string{"--upstream", "ftp://x"}, wantErr: "upstream \"ftp://x\""},
		{name: "bad redis", args: []string{"--redis", "127.0.0.1:6379"}, wantErr: "redis \"127.0.0.1:6379\""},
		{name: "bad max body env", env: map[string]string{"PORXGATE_MAX_BODY": "lots"}, wantErr: "PORXGATE_MAX_BODY"},
		{name: "max header default", check: func(t *testing.T, c Config) {
			if c.MaxHeaderBytes != 16<<10 {
				t.Errorf("max-header %d, want 16384", c.MaxHeaderBytes)
			}
		}},
		{name: "max header env", env: map[string]string{"PORXGATE_MAX_HEADER": "65536"}, check: func(t *testing.T, c Config) {
			if c.MaxHeaderBytes != 65536 {
				t.Errorf("max-header %d, want 65536", c.MaxHeaderBytes)
			}
		}},
		{name: "max header too small", args: []string{"--max-header", "512"}, wantErr: "max-header 512: must be from 1024 to 1048576 bytes"},
		{name: "max header too large", args: []string{"--max-header", "2000000"}, wantErr: "max-header 2000000: must be from 1024 to 1048576 bytes"},
		{name: "party keys", env: map[string]string{"PORXGATE_PARTY_KEYS": "YES-0000806, YEA-0000806"}, check: func(t *testing.T, c Config) {
			if c.PartyKeys != "YES-0000806, YEA-0000806" {
				t.Errorf("party-keys %q", c.PartyKeys)
			}
		}},
		{name: "party keys, an empty one", args: []string{"--party-keys", "YES-0000806,"}, wantErr: "party-keys: an empty party key"},
		{name: "max header negative", env: map[string]string{"PORXGATE_MAX_HEADER": "-1"}, wantErr: "max-header -1: must be from 1024 to 1048576 bytes"},
		{name: "bad level", args: []string{"--log-level", "loud"}, wantErr: "log-level \"loud\""},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected arguments"},
		{name: "garbage collector defaults", check: func(t *testing.T, c Config) {
			if c.GCPercent != 400 || c.MemoryLimitMB != 100 {
				t.Errorf("gc percent %d, memory limit %d MiB", c.GCPercent, c.MemoryLimitMB)
			}
		}},
		{name: "gc percent env", env: map[string]string{"PORXGATE_GC_PERCENT": "150"}, check: func(t *testing.T, c Config) {
			if c.GCPercent != 150 {
				t.Errorf("gc percent %d", c.GCPercent)
			}
		}},
		{name: "negative gc percent", args: []string{"--gc-percent", "-1"}, wantErr: "gc-percent -1"},
		{name: "collector's share bound default", check: func(t *testing.T, c Config) {
			if c.MaxGCCPUPercent != 30 {
				t.Errorf("max-gc-cpu-percent %d, want 30", c.MaxGCCPUPercent)
			}
		}},
		{name: "collector's share bound env", env: map[string]string{"PORXGATE_MAX_GC_CPU_PERCENT": "0"}, check: func(t *testing.T, c Config) {
			if c.MaxGCCPUPercent != 0 {
				t.Errorf("max-gc-cpu-percent %d, want 0 (no bound)", c.MaxGCCPUPercent)
			}
		}},
		{name: "collector's share bound over 100", args: []string{"--max-gc-cpu-percent", "101"}, wantErr: "max-gc-cpu-percent 101: must be from 0 to 100"},
		{name: "collector's share bound negative", args: []string{"--max-gc-cpu-percent", "-5"}, wantErr: "max-gc-cpu-percent -5: must be from 0 to 100"},
		{name: "compare queue bytes default", check: func(t *testing.T, c Config) {
			if c.Compare.QueueBytes != 64<<20 {
				t.Errorf("compare queue bytes %d, want 64 MiB", c.Compare.QueueBytes)
			}
		}},
		{name: "compare queue bytes env", env: map[string]string{"PORXGATE_COMPARE_QUEUE_BYTES": "1048576"}, check: func(t *testing.T, c Config) {
			if c.Compare.QueueBytes != 1<<20 {
				t.Errorf("compare queue bytes %d", c.Compare.QueueBytes)
			}
		}},
		{name: "compare queue bytes not positive", args: []string{"--compare-queue-bytes", "0"}, wantErr: "compare-queue-bytes: must be positive"},
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

// TestRedisHAConfig checks the Sentinel and Cluster settings: flags and
// environment, and the contradictions Validate reports.
func TestRedisHAConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "sentinel flags", args: []string{"--redis-sentinel-addrs", "10.0.0.1:26379, 10.0.0.2:26379", "--redis-master-name", "porxgate", "--redis-wait-replicas", "1"},
			check: func(t *testing.T, c Config) {
				o := c.RedisOptions()
				if !c.UsesRedis() || len(o.SentinelAddrs) != 2 || o.SentinelAddrs[1] != "10.0.0.2:26379" || o.MasterName != "porxgate" || o.WaitReplicas != 1 {
					t.Fatalf("options %+v", o)
				}
			}},
		{name: "sentinel env with credentials URL", env: map[string]string{"PORXGATE_REDIS_SENTINEL_ADDRS": "s1:26379", "PORXGATE_REDIS_MASTER_NAME": "m", "PORXGATE_REDIS_URL": "redis://:secret@/2"},
			check: func(t *testing.T, c Config) {
				if o := c.RedisOptions(); o.URL == "" || o.MasterName != "m" {
					t.Fatalf("options %+v", o)
				}
			}},
		{name: "cluster env", env: map[string]string{"PORXGATE_REDIS_CLUSTER_ADDRS": "n1:6379,n2:6379,n3:6379"},
			check: func(t *testing.T, c Config) {
				if o := c.RedisOptions(); len(o.ClusterAddrs) != 3 || !c.UsesRedis() {
					t.Fatalf("options %+v", o)
				}
			}},
		{name: "sentinel without master", args: []string{"--redis-sentinel-addrs", "s1:26379"}, wantErr: "master name"},
		{name: "master without sentinels", args: []string{"--redis", "redis://h:6379/0", "--redis-master-name", "m"}, wantErr: "needs sentinel addresses"},
		{name: "sentinel and cluster", args: []string{"--redis-sentinel-addrs", "s:1", "--redis-master-name", "m", "--redis-cluster-addrs", "n:1"}, wantErr: "one or the other"},
		{name: "wait on cluster", args: []string{"--redis-cluster-addrs", "n:1", "--redis-wait-replicas", "1"}, wantErr: "not supported on Redis Cluster"},
		{name: "wait without redis", args: []string{"--redis-wait-replicas", "1"}, wantErr: "needs Redis"},
		{name: "sentinel URL", args: []string{"--redis", "redis-sentinel://:pw@s1:26379,s2:26380/porxgate/3", "--redis-wait-replicas", "1"},
			check: func(t *testing.T, c Config) {
				o := c.RedisOptions()
				if !c.UsesRedis() || len(o.SentinelAddrs) != 2 || o.SentinelAddrs[1] != "s2:26380" || o.MasterName != "porxgate" ||
					o.WaitReplicas != 1 || o.URL != "redis://:pw@/3" {
					t.Fatalf("options %+v", o)
				}
				if d := c.redisDescription(); d != "sentinel master porxgate via s1:26379,s2:26380" {
					t.Fatalf("description %q", d)
				}
			}},
		{name: "sentinel URL in the environment", env: map[string]string{"PORXGATE_REDIS_URL": "rediss-sentinel://s1/m"},
			check: func(t *testing.T, c Config) {
				if o := c.RedisOptions(); o.MasterName != "m" || o.SentinelAddrs[0] != "s1:26379" || o.URL != "rediss:///0" {
					t.Fatalf("options %+v", o)
				}
			}},
		{name: "sentinel URL without master", args: []string{"--redis", "redis-sentinel://s1:26379"}, wantErr: "master name is missing"},
		{name: "sentinel URL and flags", args: []string{"--redis", "redis-sentinel://s1:26379/m", "--redis-sentinel-addrs", "s2:1", "--redis-master-name", "m"},
			wantErr: "leave out --redis-sentinel-addrs"},
		{name: "unknown scheme", args: []string{"--redis", "sentinel://s1:26379/m"}, wantErr: "redis-sentinel://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadConfig(tt.args, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
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
