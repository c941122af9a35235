package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; empty falls back to the module version
// the build info records ("(devel)" for a plain go build).
var version string

func versionCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", `Prints the version, the Go toolchain, the platform and, when the binary
was built from a git checkout, the commit, its time and whether the tree
had local changes.`)
	if ok, code := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "porxgate version: unexpected arguments %q\n", fs.Args())
		return 2
	}
	fmt.Fprint(stdout, versionText(version, readBuildInfo()))
	return 0
}

// readBuildInfo returns the binary's build information, or nil when it was
// built without module support.
func readBuildInfo() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

// resolvedVersion is the ldflags version, else the module version of the
// build information, else "(unknown)".
func resolvedVersion(v string, bi *debug.BuildInfo) string {
	if v == "" && bi != nil {
		v = bi.Main.Version
	}
	if v == "" {
		v = "(unknown)"
	}
	return v
}

// versionText renders the version lines from the ldflags version and the
// build information.
func versionText(v string, bi *debug.BuildInfo) string {
	settings := map[string]string{}
	goVersion := runtime.Version()
	v = resolvedVersion(v, bi)
	if bi != nil {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	out := fmt.Sprintf("porxgate %s\ngo: %s\nplatform: %s/%s\n", v, goVersion, runtime.GOOS, runtime.GOARCH)
	if rev := settings["vcs.revision"]; rev != "" {
		out += "commit: " + rev + "\n"
		if t := settings["vcs.time"]; t != "" {
			out += "commit time: " + t + "\n"
		}
		if settings["vcs.modified"] == "true" {
			out += "modified: true (built from a tree with uncommitted changes)\n"
		}
	}
	if cgo, ok := settings["CGO_ENABLED"]; ok {
		out += "cgo: " + cgo + "\n"
	}
	return out
}
