package main

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// TestHelpListsCommands checks that every way of asking for help lists
// every command on stdout and exits 0.
func TestHelpListsCommands(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"-h"}, {"--help"}, {"-help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, stderr := runCmd(t, "", args...)
			if code != 0 || stderr != "" {
				t.Fatalf("code %d stderr %q", code, stderr)
			}
			for _, c := range commands() {
				if !strings.Contains(out, "\n  "+c.name+" ") {
					t.Errorf("usage does not list %q:\n%s", c.name, out)
				}
			}
		})
	}
}

// TestSubcommandHelp checks that each command's -h documents its arguments
// and flags on stdout and exits 0.
func TestSubcommandHelp(t *testing.T) {
	tests := []struct {
		cmd  string
		want []string
	}{
		{"serve", []string{"usage: porxgate serve", "-upstream-api-key", "PORXGATE_REDIS_URL", "HTTPS_PROXY"}},
		{"sim", []string{"usage: porxgate sim", "-public-key", "-addr"}},
		{"convert", []string{"usage: porxgate convert --from v3|fhir", "FILE|-", "-family"}},
		{"conformance", []string{"usage: porxgate conformance", "-corpus", "-kind", "Send"}},
		{"load", []string{"usage: porxgate load", "-concurrency", "-target", "-rate", "-connections", "-clients", "-duration", "-receiver"}},
		{"compare", []string{"usage: porxgate compare --dir DIR", "-upstream", "-json"}},
		{"deadletters", []string{"usage: porxgate deadletters", "resend --party", "-admin-token"}},
		{"version", []string{"usage: porxgate version", "commit"}},
	}
	for _, tt := range tests {
		for _, h := range []string{"-h", "--help"} {
			t.Run(tt.cmd+h, func(t *testing.T) {
				code, out, stderr := runCmd(t, "", tt.cmd, h)
				if code != 0 || stderr != "" {
					t.Fatalf("code %d stderr %q", code, stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(out, w) {
						t.Errorf("help lacks %q:\n%s", w, out)
					}
				}
			})
		}
	}
	for _, c := range commands() {
		found := false
		for _, tt := range tests {
			found = found || tt.cmd == c.name
		}
		if !found {
			t.Errorf("command %q has no help test", c.name)
		}
	}
}

// TestBadFlagsExit2 checks that an unknown flag or a stray argument is bad
// usage, reported on stderr.
func TestBadFlagsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--bogus"}, {"--bogus"}, {"sim", "--bogus"}, {"sim", "extra"}, {"convert", "--bogus"},
		{"conformance", "--bogus"}, {"load", "--n", "x"}, {"version", "extra"}, {"compare", "--bogus"}, {"deadletters", "--bogus"}, {"deadletters", "frobnicate"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, stderr := runCmd(t, "", args...)
			if code != 2 || stderr == "" || out != "" {
				t.Fatalf("code %d stdout %q stderr %q; want 2 and the problem on stderr", code, out, stderr)
			}
		})
	}
}

// TestConformanceUnknownKind checks that a --kind the corpus does not know
// is an error naming the known kinds, not an empty run.
func TestConformanceUnknownKind(t *testing.T) {
	dir := corpustest.Dir(t)
	code, out, stderr := runCmd(t, "", "conformance", "--corpus", dir, "--kind", "Send,Bogus")
	if code != 2 || !strings.Contains(stderr, `unknown kind "Bogus"`) || !strings.Contains(stderr, "Cancel") || out != "" {
		t.Fatalf("code %d stdout %q stderr %q", code, out, stderr)
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, stderr := runCmd(t, "", "version")
	if code != 0 || stderr != "" || !strings.HasPrefix(out, "porxgate ") || !strings.Contains(out, "\ngo: go1.") {
		t.Fatalf("code %d stdout %q stderr %q", code, out, stderr)
	}
}

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"}, {Key: "CGO_ENABLED", Value: "0"},
	}}
	tests := []struct {
		name    string
		version string
		bi      *debug.BuildInfo
		want    []string
		not     []string
	}{
		{"ldflags wins", "v1.2.3", bi, []string{"porxgate v1.2.3\n", "go: go1.26.0\n", "commit: abc123\n", "commit time: 2026-01-02T03:04:05Z\n", "modified: true", "cgo: 0\n"}, nil},
		{"module version", "", bi, []string{"porxgate (devel)\n"}, nil},
		{"no build info", "", nil, []string{"porxgate (unknown)\n", "go: go1."}, []string{"commit:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionText(tt.version, tt.bi)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("%q has %q", got, w)
				}
			}
		})
	}
}

// TestServePortOutOfRangeRefusedFirst: a listen port out of range
// (--addr 127.0.0.1:70000, PORXGATE_ADMIN_ADDR=...:99999) passed the
// configuration's check and was refused only when the gateway came to
// listen, after it had started the simulator, opened the store (waiting
// on a Redis that may not answer), checked EPS and written a one-off
// admin token, and then as a failed run (exit 1). It is now refused first,
// named, as any other bad setting (exit 2), with nothing started.
func TestServePortOutOfRangeRefusedFirst(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"addr flag", []string{"--addr", "127.0.0.1:70000"}, nil, `addr "127.0.0.1:70000"`},
		{"admin addr env", nil, map[string]string{"PORXGATE_ADMIN_ADDR": "127.0.0.1:99999"}, `admin-addr "127.0.0.1:99999"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			var environ []string
			for k, v := range tc.env {
				environ = append(environ, k+"="+v)
			}
			code := runIn(append([]string{"serve"}, tc.args...), cmdIO{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
				getenv: func(k string) string { return tc.env[k] }, environ: environ})
			if code != 2 {
				t.Errorf("exit %d, want 2 (a bad setting)", code)
			}
			if got := errb.String(); !strings.HasPrefix(got, "porxgate serve: ") || !strings.Contains(got, tc.want) || !strings.Contains(got, "out of range") {
				t.Errorf("stderr %q: want it to start with the setting refused, %s, and its port out of range", got, tc.want)
			}
			if strings.Contains(errb.String(), "listening") {
				t.Errorf("started before refusing the port:\n%s", errb.String())
			}
		})
	}
}
