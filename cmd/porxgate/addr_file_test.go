package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway"
)

// TestAddrFileOfEachCommandThatListens: `porxgate serve` and `porxgate
// sim` started on port 0 with --addr-file write the addresses they bound
// there, the same their log lines name, answer on them, and remove the
// file when SIGTERM stops them: what the fault suite (internal/faults)
// starts its processes with, so that it never chooses a port free and
// gives it to a process that another may take first.
func TestAddrFileOfEachCommandThatListens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		msg   string // the log line naming the address
		path  string // answers 200 on the address
		admin bool
	}{
		{"serve", []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, "porxgate listening", "/healthz", true},
		{"sim", []string{"sim", "--addr", "127.0.0.1:0"}, "EPS simulator listening", "/FHIR/R4/metadata", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), tc.name+".addr")
			p := startPorxgate(t, append(tc.args, "--addr-file", file)...)
			var l gateway.Listening
			deadline := time.Now().Add(30 * time.Second)
			for {
				b, err := os.ReadFile(file)
				if err == nil {
					if err := json.Unmarshal(b, &l); err != nil {
						t.Fatalf("--addr-file holds %q: %v", b, err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no --addr-file within 30s:\n%s", p.logText())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if strings.HasSuffix(l.Addr, ":0") || (l.AdminAddr != "") != tc.admin || strings.HasSuffix(l.AdminAddr, ":0") {
				t.Fatalf("--addr-file names %+v: want the ports bound", l)
			}
			p.waitLog(t, tc.msg, 15*time.Second)
			var line struct {
				Addr      string `json:"addr"`
				AdminAddr string `json:"admin_addr"`
			}
			for _, s := range strings.Split(p.logText(), "\n") {
				if strings.Contains(s, `"msg":"`+tc.msg+`"`) {
					if err := json.Unmarshal([]byte(s), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line.Addr != l.Addr || (tc.admin && line.AdminAddr != l.AdminAddr) {
				t.Fatalf("log line %q names %+v, the file %+v", tc.msg, line, l)
			}
			resp, err := http.Get("http://" + l.Addr + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s on the address in the file: %s", tc.path, resp.Status)
			}
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := p.waitExit(t, 30*time.Second); err != nil {
				t.Fatalf("after SIGTERM: %v\n%s", err, p.logText())
			}
			if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("--addr-file still there after the stop (stat: %v)", err)
			}
		})
	}
}
