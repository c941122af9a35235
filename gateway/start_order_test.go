package gateway

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAdminMisconfigurationFailsBeforeTheFrontDoor: an admin listener
// that cannot serve (its certificate not matching its key, its port
// taken, its tokens file missing) was found out only once the gateway
// served: the front door listened and logged "porxgate listening", the
// workers ran and senders' messages were taken, and only then the run
// ended with the admin's error. Now the admin listener is built and bound
// before the front door listens: the start fails with the admin's error
// and the front door never listens.
func TestAdminMisconfigurationFailsBeforeTheFrontDoor(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "admin-ca")
	cert, _ := ca.issue(t, "127.0.0.1", true)
	_, otherKey := ca.issue(t, "127.0.0.1", true)
	certFile, keyFile := writeFile(t, dir, "admin.crt", cert), writeFile(t, dir, "other.key", otherKey)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name    string
		set     func(c *Config)
		wantErr string
	}{
		{"certificate not matching its key", func(c *Config) { c.Admin.TLSCertFile, c.Admin.TLSKeyFile = certFile, keyFile }, "private key does not match public key"},
		{"port taken", func(c *Config) { c.Admin.Addr = taken.Addr().String() }, "admin listen"},
		{"tokens file missing", func(c *Config) { c.Admin.NoAuth, c.Admin.TokensFile = false, filepath.Join(dir, "absent") }, "admin tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Addr, cfg.Admin.Addr = "127.0.0.1:0", "127.0.0.1:0"
			tt.set(&cfg)
			logs, _, done := runLogged(t, cfg)
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run = %v, want an error saying %q", err, tt.wantErr)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("Run still running 20s later:\n%s", logs.String())
			}
			for _, msg := range []string{"porxgate listening", "shutting down: draining in-flight requests"} {
				if logs.logged(t, msg) {
					t.Errorf("the front door listened before the admin listener's configuration was found wrong (logged %q):\n%s", msg, logs.String())
				}
			}
		})
	}
}

// TestStopWhileCheckingEPSListensNot: a stop while the start checks EPS's
// certificate (an EPS that accepts the connection and says nothing) gave
// up the check, as it should, but the start then went on: the front door
// listened, "porxgate listening" was logged after the stop was asked for,
// and the workers started, to be stopped at once. Now the start ends
// there, as a clean stop, with nothing listening.
func TestStopWhileCheckingEPSListensNot(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never answered
		}
	}()
	cfg := testConfig()
	cfg.Addr, cfg.UpstreamURL = "127.0.0.1:0", "https://"+silent.Addr().String()+"/FHIR/R4"
	logs, cancel, done := runLogged(t, cfg)
	select {
	case c := <-accepted:
		defer c.Close()
	case err := <-done:
		t.Fatalf("Run = %v before checking EPS:\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("EPS's certificate never checked:\n%s", logs.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want a clean stop:\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Run still running 10s after the stop:\n%s", logs.String())
	}
	if logs.logged(t, "porxgate listening") {
		t.Fatalf("the front door listened after the stop was asked for:\n%s", logs.String())
	}
}

// TestOneOffAdminTokenFileLoggedAsItIs: the log line naming the one-off
// admin token's file (README: "names a file holding a one-off admin
// token") named one that was not there about three times in four: the
// file's random suffix, ten digits whenever it was 1000000000 or more,
// was taken for an NHS number and logged as "[nhs-number]". Each file
// named must be there.
func TestOneOffAdminTokenFileLoggedAsItIs(t *testing.T) {
	dir, err := os.MkdirTemp("", "porxgate-test-x")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("TMPDIR", dir)
	cfg := testConfig()
	cfg.Admin.Addr, cfg.Admin.NoAuth = "127.0.0.1:0", false
	var logs syncBuffer
	srv := NewServer(cfg, newMemoryStore(), fakeUpstream{}, slog.New(slog.NewJSONHandler(&logs, nil)), NewMetrics())
	const starts = 12 // all nine digits long on main: about one chance in fifty million
	for range starts {
		if _, err := srv.adminAuth(); err != nil {
			t.Fatal(err)
		}
	}
	var named int
	for _, l := range logs.lines(t) {
		f, ok := l["token_file"].(string)
		if !ok {
			continue
		}
		named++
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the log names the token file %q: %v", f, err)
		}
	}
	if named != starts {
		t.Fatalf("%d token files named in the log, want %d:\n%s", named, starts, logs.String())
	}
}

// TestStopRemovesTheOneOffAdminToken: the one-off admin token written when
// no admin credentials are configured was left in its file after the
// gateway stopped: one more file in the temporary directory at each start
// (hundreds on a machine that restarts it), each naming a token no
// process takes any more. The stop now removes it.
func TestStopRemovesTheOneOffAdminToken(t *testing.T) {
	cfg := testConfig()
	cfg.Addr, cfg.Admin.Addr, cfg.Admin.NoAuth = "127.0.0.1:0", "127.0.0.1:0", false
	logs, cancel, done := runLogged(t, cfg)
	var tokenFile string
	deadline := time.Now().Add(20 * time.Second)
	for tokenFile == "" && time.Now().Before(deadline) {
		for _, l := range logs.lines(t) {
			if f, ok := l["token_file"].(string); ok {
				tokenFile = f
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tokenFile == "" {
		t.Fatalf("no one-off token file logged:\n%s", logs.String())
	}
	if _, err := os.Stat(tokenFile); err != nil {
		t.Fatalf("the token file logged is not there while the gateway runs: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run still running 20s after the stop")
	}
	if _, err := os.Stat(tokenFile); !errors.Is(err, fs.ErrNotExist) {
		os.Remove(tokenFile)
		t.Fatalf("the one-off token file %s is still there after the stop (stat: %v)", tokenFile, err)
	}
}

// runLogged runs Run with cfg, its log as JSON lines in logs, until cancel
// is called (or the test ends); done gets Run's error.
func runLogged(t *testing.T, cfg Config) (logs *syncBuffer, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	logs = new(syncBuffer)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
	return logs, cancel, errc
}
