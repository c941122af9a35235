package store

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// The URL schemes naming a Redis Sentinel group (rediss-sentinel: TLS to
// the sentinels, the master and the replicas).
const (
	SchemeSentinel    = "redis-sentinel"
	SchemeSentinelTLS = "rediss-sentinel"
)

// IsSentinelURL reports whether raw is a redis-sentinel:// or
// rediss-sentinel:// URL (ParseSentinelURL).
func IsSentinelURL(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	return ok && (strings.EqualFold(scheme, SchemeSentinel) || strings.EqualFold(scheme, SchemeSentinelTLS))
}

// ParseSentinelURL reads a Sentinel group from one URL:
//
//	redis-sentinel://[[user]:password@]host:port[,host:port...]/mastername[/db][?sentinel_password=pw][&param=value...]
//
// The hosts are the sentinels (port 26379 when left out); user and
// password authenticate to the master and its replicas; db selects the
// database (default 0); sentinel_password authenticates to the sentinels
// when they require it. Every other parameter is one a redis:// URL takes
// (read_timeout, write_timeout, dial_timeout, max_retries, pool_size, and
// the rest go-redis reads), applied to the client of the master, the
// replicas and the sentinels as to one server's; an unknown one is
// refused. rediss-sentinel:// is the same with TLS to the
// sentinels, the master and the replicas, each certificate checked for
// the address it is dialled at. User, password and master name are percent-decoded.
func ParseSentinelURL(raw string) (RedisOptions, error) {
	fail := func(format string, args ...any) (RedisOptions, error) {
		return RedisOptions{}, fmt.Errorf("redis sentinel url: "+format, args...)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !IsSentinelURL(raw) {
		return fail("want %s:// or %s://", SchemeSentinel, SchemeSentinelTLS)
	}
	rest, query, _ := strings.Cut(rest, "?")
	if strings.Contains(rest, "#") {
		return fail("a fragment is not allowed")
	}
	authority, path, _ := strings.Cut(rest, "/")
	var user, password string
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		info := authority[:i]
		authority = authority[i+1:]
		u, p, hasPassword := strings.Cut(info, ":")
		var err error
		// The unescaping's error would quote part of the password.
		if user, err = url.PathUnescape(u); err != nil {
			return fail("%w", errURLUserinfo)
		}
		if hasPassword {
			if password, err = url.PathUnescape(p); err != nil {
				return fail("%w", errURLUserinfo)
			}
		}
	}
	var addrs []string
	for _, h := range strings.Split(authority, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil { // no port: the sentinels' default
			host, port = strings.Trim(h, "[]"), "26379"
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return fail("sentinel %q: want host:port", h)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	if len(addrs) == 0 {
		return fail("no sentinel host:port")
	}
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	master, err := url.PathUnescape(segs[0])
	if err != nil || master == "" {
		return fail("the master name is missing (…/mastername[/db])")
	}
	db := 0
	switch len(segs) {
	case 1:
	case 2:
		if db, err = strconv.Atoi(segs[1]); err != nil || db < 0 {
			return fail("database %q: want a number", segs[1])
		}
	default:
		return fail("path %q: want /mastername[/db]", path)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return fail("query: %v", err)
	}
	o := RedisOptions{SentinelAddrs: addrs, MasterName: master}
	client := url.Values{}
	for k, v := range q {
		switch k {
		case "sentinel_password":
			o.SentinelPassword = v[len(v)-1]
		case "db":
			return fail("parameter db: the database is the path's …/mastername/db")
		default:
			client[k] = v // the client's own (read_timeout, pool_size, ...): checked below
		}
	}
	// The master's credentials, database, TLS and the client's parameters
	// travel as a host-less redis:// URL (urlOptions), as with the
	// separate sentinel flags.
	u := url.URL{Scheme: "redis", Path: "/" + strconv.Itoa(db), RawQuery: client.Encode()}
	if strings.EqualFold(scheme, SchemeSentinelTLS) {
		u.Scheme = "rediss"
	}
	if user != "" || password != "" {
		u.User = url.UserPassword(user, password)
	}
	o.URL = u.String()
	if _, err := o.urlOptions(); err != nil {
		return fail("%w (known: sentinel_password and a redis:// URL's parameters)", err)
	}
	return o, nil
}
