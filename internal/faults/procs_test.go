package faults

import (
	"errors"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestRedisStartsAgainOnAnotherPort: the suite's redis-server, given a
// port that another process took after it was found free (held here by a
// listener), is not taken for started: waitRedis says the port was taken,
// and startRedis starts it again on another port, where it answers as
// itself. Before, the suite waited only for something to accept
// connections on the port, and would have run its scenarios against
// whatever held it.
func TestRedisStartsAgainOnAnotherPort(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("needs redis-server on PATH (apt-get install -y redis-server)")
	}
	dir := t.TempDir()
	s := &Suite{cfg: Config{Dir: dir}}
	var err error
	if s.redis, s.redisAddr, err = newRedis(dir); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)
	for i, a := range s.redis.args {
		if a == "--port" {
			s.redis.args[i+1] = port
		}
	}
	s.redisAddr = taken.Addr().String()

	if err := s.redis.start(); err != nil {
		t.Fatal(err)
	}
	if err := waitRedis(t.Context(), s.redis, s.redisAddr, 10*time.Second); !errors.Is(err, redistest.ErrPortTaken) {
		t.Fatalf("waitRedis on a port another process holds = %v, want redistest.ErrPortTaken", err)
	}
	s.redis.stop(5 * time.Second)

	s.redisAddr = taken.Addr().String()
	if err := s.startRedis(t.Context()); err != nil {
		t.Fatalf("startRedis with its first port taken: %v", err)
	}
	defer s.redis.stop(5 * time.Second)
	if s.redisAddr == taken.Addr().String() {
		t.Fatalf("started on the port taken, %s", s.redisAddr)
	}
	if err := waitRedis(t.Context(), s.redis, s.redisAddr, time.Second); err != nil {
		t.Fatalf("redis-server on %s: %v", s.redisAddr, err)
	}
}
