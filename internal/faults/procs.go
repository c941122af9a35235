package faults

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	gw "github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// freePort returns a loopback port free now, for redis-server alone:
// Redis cannot be asked for a port of the kernel's choosing (port 0 turns
// its TCP listener off), so another process may take the port before it
// binds it; startRedis notices and starts it again on another. The
// porxgate processes take port 0 and say what they bound (addrFile).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// proc is one child process the suite runs, restartable with the same
// command line.
type proc struct {
	name string
	bin  string
	args []string
	log  string // file the output goes to
	// logFrom is where this start's output begins in log (each start
	// appends to it).
	logFrom int64
	cmd     *exec.Cmd
	done    chan struct{}
}

// start runs the process.
func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s log: %w", p.name, err)
	}
	if p.logFrom, err = f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return fmt.Errorf("%s log: %w", p.name, err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group (signals to the suite do not reach it), and
	// killed with the suite if the suite dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return nil
}

// exited reports whether the process (this start of it) has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is what this start of the process has written so far (its last
// 4 KiB).
func (p *proc) output() string {
	b, err := os.ReadFile(p.log)
	if err != nil || int64(len(b)) < p.logFrom {
		return ""
	}
	b = b[p.logFrom:]
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return string(b)
}

// startListening starts the process, a porxgate command given
// --addr-file file (its addresses port 0), and waits until it has bound
// them and written the file (gw.WriteAddrFile); it returns what the
// file names. A process that exits first fails it with its output. The
// file of an earlier start is removed first: a process killed with
// SIGKILL leaves its file behind. A process that does not say where it
// listens is killed.
func (p *proc) startListening(ctx context.Context, file string, timeout time.Duration) (gw.Listening, error) {
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return gw.Listening{}, fmt.Errorf("%s: %w", p.name, err)
	}
	if err := p.start(); err != nil {
		return gw.Listening{}, err
	}
	l, err := p.readAddrFile(ctx, file, timeout)
	if err != nil {
		p.kill9()
	}
	return l, err
}

// readAddrFile waits for the process's --addr-file and reads it.
func (p *proc) readAddrFile(ctx context.Context, file string, timeout time.Duration) (gw.Listening, error) {
	var l gw.Listening
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(file); err == nil {
			if err := json.Unmarshal(b, &l); err != nil || l.Addr == "" {
				return l, fmt.Errorf("%s: %s: %q is no address (%v)", p.name, file, b, err)
			}
			return l, nil
		}
		if p.exited() {
			return l, fmt.Errorf("%s exited before it listened:\n%s", p.name, p.output())
		}
		if time.Now().After(deadline) {
			return l, fmt.Errorf("%s did not listen within %s:\n%s", p.name, timeout, p.output())
		}
		select {
		case <-ctx.Done():
			return l, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill9 kills the process (SIGKILL) and waits for it.
func (p *proc) kill9() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to end (SIGTERM), then kills it after grace.
func (p *proc) stop(grace time.Duration) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill9()
	}
}

// waitHTTP polls url until it answers (any status) or timeout passes.
func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s: %w", url, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// newRedis returns a redis-server process with AOF (fsync always) on a
// free port with its data in dir; startRedis starts it.
func newRedis(dir string) (*proc, string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, "", errors.New("redis-server not found on PATH")
	}
	p := &proc{name: "redis", bin: bin, log: filepath.Join(dir, "redis.log")}
	addr, err := p.onFreePort(dir)
	return p, addr, err
}

// onFreePort gives the redis-server process a port found free (freePort)
// and returns its address.
func (p *proc) onFreePort(dir string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	p.args = []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir, "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no",
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// redisPortTries is how many ports found free startRedis tries.
const redisPortTries = 5

// startRedis starts the suite's redis-server (newRedis) and waits until
// it answers as itself; when another process took its port first, it
// starts it again on another port (the suite's gateways are not started
// yet, so none has the address).
func (s *Suite) startRedis(ctx context.Context) error {
	for try := 1; ; try++ {
		if err := s.redis.start(); err != nil {
			return err
		}
		err := waitRedis(ctx, s.redis, s.redisAddr, 10*time.Second)
		if err == nil {
			return nil
		}
		s.redis.stop(5 * time.Second)
		if !errors.Is(err, redistest.ErrPortTaken) || try == redisPortTries {
			return err
		}
		s.logf("redis-server on %s: %v; trying another port", s.redisAddr, err)
		if s.redisAddr, err = s.redis.onFreePort(s.cfg.Dir); err != nil {
			return err
		}
	}
}

// waitRedis waits until the redis-server process p answers on addr as
// itself (redistest.Answers): a process that took its port first, or p
// exiting for its port in use, fails it with redistest.ErrPortTaken; p
// exiting otherwise, or timeout passing, with p's output.
func waitRedis(ctx context.Context, p *proc, addr string, timeout time.Duration) error {
	// Each try bounded by its context: what holds the port may accept
	// and never answer.
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer c.Close()
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			if redistest.PortInUse(p.output()) {
				return fmt.Errorf("redis-server on %s: %w: it exited, its port in use", addr, redistest.ErrPortTaken)
			}
			return fmt.Errorf("redis-server on %s exited:\n%s", addr, p.output())
		}
		actx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err := redistest.Answers(actx, c, p.cmd.Process.Pid)
		cancel()
		if err == nil || errors.Is(err, redistest.ErrPortTaken) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on %s did not answer within %s: %w\n%s", addr, timeout, err, p.output())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
