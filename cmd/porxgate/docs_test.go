package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway"
)

// userDocs is the text of the documents an operator reads: README.md and
// every page under docs/.
func userDocs(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(readme)
	err = filepath.WalkDir("../../docs", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		page, err := os.ReadFile(path)
		b.Write(page)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// envRead are the PORXGATE_* variables the commands read: serve's
// settings (gateway.EnvNames) and every one the other commands' sources
// name in a getenv call.
func envRead(t *testing.T) []string {
	t.Helper()
	names := gateway.EnvNames()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`getenv\("(PORXGATE_[A-Z0-9_]+)"\)`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if !slices.Contains(names, m[1]) {
				names = append(names, m[1])
			}
		}
	}
	return names
}

// TestEveryFlagAndVariableIsDocumented: README.md and docs/ name every
// PORXGATE_* variable the commands read and every flag of every command
// (`--flag`). Comparison mode's PORXGATE_COMPARE_LEGACY_URL, _PRIMARY,
// _TIMEOUT and _WORKERS, the simulator's and `porxgate deadletters`'
// variables and a few of their flags were read but documented nowhere but
// in -h; a setting added without its line fails here.
func TestEveryFlagAndVariableIsDocumented(t *testing.T) {
	docs := userDocs(t)
	names := envRead(t)
	if len(names) < 60 {
		t.Fatalf("found only %d variables read: %v", len(names), names)
	}
	for _, name := range names {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(docs) {
			t.Errorf("%s is read but documented nowhere (README.md, docs/)", name)
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([a-z0-9][a-z0-9-]*)`)
	for _, c := range commands() {
		code, usage, stderr := runCmd(t, "", c.name, "-h")
		if code != 0 {
			t.Fatalf("%s -h: exit %d %s", c.name, code, stderr)
		}
		for _, m := range flagLine.FindAllStringSubmatch(usage, -1) {
			if !regexp.MustCompile(`--` + regexp.QuoteMeta(m[1]) + `([^a-z0-9-]|$)`).MatchString(docs) {
				t.Errorf("porxgate %s --%s is a flag but documented nowhere (README.md, docs/)", c.name, m[1])
			}
		}
	}
}
