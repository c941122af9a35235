package redistest

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Stat returns a figure of the server's INFO stats section by its name
// (total_commands_processed, total_net_output_bytes...), read on a
// connection of its own: what a test measures the cost of something by.
// The reading itself counts one command.
func (s *Server) Stat(t testing.TB, name string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: s.tls})
	defer c.Close()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatalf("INFO stats of %s: %v", s.Addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO stats %s: %v", name, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in INFO stats of %s:\n%s", name, s.Addr, info)
	return 0
}

// Calls returns how many times INFO commandstats says the server ran
// command (lower case: "exists", "evalsha"), the commands scripts run
// included (0 for one never run), read on a connection of its own: what a
// test counts the commands of a script by. The reading itself counts one
// INFO.
func (s *Server) Calls(t testing.TB, command string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: s.tls})
	defer c.Close()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("INFO commandstats of %s: %v", s.Addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+command+":calls=")
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, ",")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("INFO commandstats %q: %v", line, err)
		}
		return n
	}
	return 0
}

// ArgBytes is how many bytes of strings and byte slices args (a
// command's arguments as go-redis holds them) carry: what a test bounds
// a command's size by.
func ArgBytes(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		}
	}
	return n
}
