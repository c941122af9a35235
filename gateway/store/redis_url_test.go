package store

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSentinelURL(t *testing.T) {
	tests := []struct {
		name, in string
		want     RedisOptions
		err      string
	}{
		{"two sentinels", "redis-sentinel://10.0.0.1:26379,10.0.0.2:26380/porxgate",
			RedisOptions{URL: "redis:///0", SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26380"}, MasterName: "porxgate"}, ""},
		{"password, db", "redis-sentinel://:s3cret@h1:26379/mymaster/2",
			RedisOptions{URL: "redis://:s3cret@/2", SentinelAddrs: []string{"h1:26379"}, MasterName: "mymaster"}, ""},
		{"user, escaped password, TLS", "rediss-sentinel://app:p%40ss@h1:1,h2:2/m",
			RedisOptions{URL: "rediss://app:p%40ss@/0", SentinelAddrs: []string{"h1:1", "h2:2"}, MasterName: "m"}, ""},
		{"default port, IPv6, sentinel password", "redis-sentinel://h1,[::1]:26380/m/0?sentinel_password=x",
			RedisOptions{URL: "redis:///0", SentinelAddrs: []string{"h1:26379", "[::1]:26380"}, MasterName: "m", SentinelPassword: "x"}, ""},
		{"trailing slash, blank host", "redis-sentinel://h1:26379,,/m/",
			RedisOptions{URL: "redis:///0", SentinelAddrs: []string{"h1:26379"}, MasterName: "m"}, ""},
		{"no master", "redis-sentinel://h1:26379", RedisOptions{}, "master name is missing"},
		{"empty master", "redis-sentinel://h1:26379//1", RedisOptions{}, "master name is missing"},
		{"no hosts", "redis-sentinel:///m", RedisOptions{}, "no sentinel"},
		{"bad port", "redis-sentinel://h1:port/m", RedisOptions{}, "want host:port"},
		{"port out of range", "redis-sentinel://h1:70000/m", RedisOptions{}, "want host:port"},
		{"bad db", "redis-sentinel://h1:1/m/x", RedisOptions{}, "database"},
		{"negative db", "redis-sentinel://h1:1/m/-1", RedisOptions{}, "database"},
		{"too deep", "redis-sentinel://h1:1/m/0/x", RedisOptions{}, "want /mastername[/db]"},
		// The client's parameters, as a redis:// URL takes them: before,
		// each was refused as unknown, so that a Sentinel group could not
		// be given a read_timeout in one URL.
		{"client parameters", "redis-sentinel://h1:1/m/2?read_timeout=3s&sentinel_password=x&pool_size=9",
			RedisOptions{URL: "redis:///2?pool_size=9&read_timeout=3s", SentinelAddrs: []string{"h1:1"}, MasterName: "m", SentinelPassword: "x"}, ""},
		{"database as a parameter", "redis-sentinel://h1:1/m?db=2", RedisOptions{}, "the database is the path's"},
		{"unknown parameter", "redis-sentinel://h1:1/m?colour=blue", RedisOptions{}, "unexpected option: colour"},
		{"bad duration", "redis-sentinel://h1:1/m?read_timeout=soon", RedisOptions{}, "read_timeout"},
		{"fragment", "redis-sentinel://h1:1/m#x", RedisOptions{}, "fragment"},
		{"bad escape", "redis-sentinel://:%zz@h1:1/m", RedisOptions{}, "the user or password cannot be read"},
		{"plain redis", "redis://h1:6379/0", RedisOptions{}, "want redis-sentinel://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSentinelURL(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("the options do not validate: %v", err)
			}
			base, err := got.urlOptions()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tt.in, "s3cret") && base.Password != "s3cret" {
				t.Errorf("master password %q", base.Password)
			}
			if strings.HasPrefix(tt.in, "rediss") != (base.TLSConfig != nil) {
				t.Errorf("TLS %v for %s", base.TLSConfig != nil, tt.in)
			}
		})
	}
}

func FuzzParseSentinelURL(f *testing.F) {
	for _, s := range []string{"redis-sentinel://h1:26379,h2:26380/m/1", "rediss-sentinel://u:p@h/m?sentinel_password=x", "redis-sentinel://",
		"redis-sentinel://h/m?read_timeout=2s&pool_size=3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseSentinelURL(s)
		if err != nil {
			return
		}
		if len(o.SentinelAddrs) == 0 || o.MasterName == "" {
			t.Fatalf("%q: accepted without sentinels or master: %+v", s, o)
		}
		if _, err := o.urlOptions(); err != nil {
			t.Fatalf("%q: accepted, but the master URL %q does not parse: %v", s, o.URL, err)
		}
	})
}

// TestRedisURLErrorsKeepTheSecret: a Redis URL that does not parse is
// refused with an error that names what is wrong, not the password. The
// URL parser quotes the whole URL, so that a password with a character
// left unescaped (%, a space), or a typing error elsewhere (the port),
// put the password in the start's error, and so in the log.
func TestRedisURLErrorsKeepTheSecret(t *testing.T) {
	const secret = "s3cret"
	tests := []struct {
		name, url string
		want      string // what the error says instead
	}{
		{"percent unescaped in the password", "redis://:" + secret + "%zz@h:6379/0", "percent-encode"},
		{"space in the password", "rediss://:" + secret + " x@h/0", "percent-encode"},
		{"user and password, bad port", "redis://app:" + secret + "@h:port/0", `parse "redis://xxxxx@h:port/0": invalid port ":port"`},
		{"slash unescaped in the password", "redis://:a/" + secret + "@h:6379/0", "percent-encode"},
		{"sentinel URL, percent unescaped", "redis-sentinel://:" + secret + "%zz@h1:1/m", "percent-encode"},
		// The client's parameters are read from the master's URL, which
		// holds the password: their errors name the parameter alone.
		{"sentinel URL, bad parameter", "redis-sentinel://:" + secret + "@h1:1/m?read_timeout=soon", "read_timeout"},
		{"sentinel URL, unknown parameter", "redis-sentinel://:" + secret + "@h1:1/m?colour=blue", "unexpected option: colour"},
		{"host-less with sentinels, percent unescaped", "redis://:" + secret + "%zz@/0", "percent-encode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := RedisOptions{URL: tt.url}
			if strings.HasPrefix(tt.name, "host-less") {
				o.SentinelAddrs, o.MasterName = []string{"s1:26379"}, "m"
			}
			var errs []error
			if IsSentinelURL(tt.url) {
				_, err := ParseSentinelURL(tt.url)
				errs = append(errs, err)
			}
			errs = append(errs, o.Validate())
			_, err := OpenRedis(o, "")
			errs = append(errs, err)
			for _, err := range errs {
				if err == nil {
					t.Fatalf("%s accepted", tt.url)
				}
				if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "%zz") {
					t.Errorf("the error shows the password: %v", err)
				}
			}
			said := errs[len(errs)-1]
			if IsSentinelURL(tt.url) {
				said = errs[0] // ParseSentinelURL's: the others do not know the scheme
			}
			if !strings.Contains(said.Error(), tt.want) {
				t.Errorf("error %q; want it to say %q", said, tt.want)
			}
		})
	}
}
