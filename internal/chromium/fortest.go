package chromium

import (
	"os"
	"testing"
)

// ForTest returns the Chromium a page test is to use. Without one the
// test is skipped locally and fails under CI (CI set), where .ci/run
// installs Debian's chromium and the page tests must run.
func ForTest(t testing.TB) string {
	t.Helper()
	path := Find()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found (install Debian's chromium: apt-get install -y chromium); the page tests must run under CI")
		}
		t.Skip("chromium not found: install it (apt-get install -y chromium) to run the page tests")
	}
	return path
}
