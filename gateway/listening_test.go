package gateway

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSaysWhereItListens: Run asked for port 0 says which ports it took
// three ways, all naming the same addresses: OnListening, the
// --addr-file (removed at the stop), and the "porxgate listening" log
// line an operator reads (addr and admin_addr, "off" when the admin
// listener is off); and both answer there. So that a test, a harness or an
// operator need not choose a port free first and give it to the gateway,
// which another process could take in between.
func TestRunSaysWhereItListens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		admin string
	}{
		{"with the admin listener", "127.0.0.1:0"},
		{"admin listener off", "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Admin.Addr = tc.admin
			cfg.AddrFile = filepath.Join(t.TempDir(), "porxgate.addr")
			var logs syncBuffer
			run := startRun(t, cfg, slog.New(slog.NewJSONHandler(&logs, nil)))

			for _, a := range []string{run.Addr, run.AdminAddr} {
				if a == "" && tc.admin == "off" {
					continue
				}
				if _, port, err := net.SplitHostPort(a); err != nil || port == "0" || !strings.HasPrefix(a, "127.0.0.1:") {
					t.Fatalf("OnListening gave %+v: want the loopback addresses bound, ports not 0", run.Listening)
				}
			}
			if (run.AdminAddr == "") != (tc.admin == "off") || run.AdminAddr == run.Addr {
				t.Fatalf("OnListening gave %+v with --admin-addr %s", run.Listening, tc.admin)
			}
			b, err := os.ReadFile(cfg.AddrFile)
			if err != nil {
				t.Fatal(err)
			}
			var inFile Listening
			if err := json.Unmarshal(b, &inFile); err != nil || inFile != run.Listening {
				t.Fatalf("--addr-file holds %s (%v), want %+v", b, err, run.Listening)
			}
			if tc.admin == "off" && strings.Contains(string(b), "admin_addr") {
				t.Errorf("--addr-file names an admin listener that is off: %s", b)
			}
			wantAdmin := run.AdminAddr
			if tc.admin == "off" {
				wantAdmin = "off"
			}
			logged := 0
			for _, l := range logs.lines(t) {
				if l["msg"] == "porxgate listening" {
					logged++
					if l["addr"] != run.Addr || l["admin_addr"] != wantAdmin {
						t.Errorf("logged addr %v admin_addr %v, want %s and %s", l["addr"], l["admin_addr"], run.Addr, wantAdmin)
					}
				}
			}
			if logged != 1 {
				t.Errorf("%d \"porxgate listening\" lines, want 1: %v", logged, logs.lines(t))
			}

			for _, u := range []string{"http://" + run.Addr + "/healthz", "http://" + run.AdminAddr + "/admin/api/state"} {
				if run.AdminAddr == "" && strings.Contains(u, "/admin/") {
					continue
				}
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %s", u, resp.Status)
				}
			}
			if err := run.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if _, err := os.Stat(cfg.AddrFile); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("--addr-file still there after the stop (stat: %v)", err)
			}
		})
	}
}

// TestAddrFileNotWritableFailsTheStart: an --addr-file that cannot be
// written fails the start, naming it, before anything is served or said
// to listen: the harness or script waiting for the file would otherwise
// wait for ever beside a gateway that serves.
func TestAddrFileNotWritableFailsTheStart(t *testing.T) {
	cfg := testConfig()
	cfg.Admin.Addr = "127.0.0.1:0"
	cfg.AddrFile = filepath.Join(t.TempDir(), "absent", "porxgate.addr")
	var bound []Listening
	cfg.OnListening = func(l Listening) { bound = append(bound, l) }
	err := Run(t.Context(), cfg, quietLog())
	if err == nil || !strings.Contains(err.Error(), "addr file "+cfg.AddrFile) {
		t.Fatalf("Run = %v, want the start failed naming the addr file", err)
	}
	if len(bound) != 0 {
		t.Errorf("OnListening called for a start that failed: %+v", bound)
	}
}
