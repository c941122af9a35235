package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

func TestConformanceCommandPrintsClosingLine(t *testing.T) {
	dir := corpustest.Dir(t)
	code, out, stderr := runCmd(t, "", "conformance", "--corpus", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if !strings.HasSuffix(last, "skipped") || !strings.Contains(last, "passed, ") {
		t.Fatalf("closing line %q; stderr %s", last, stderr)
	}
	if strings.Contains(out, "\nFAIL ") || strings.HasPrefix(out, "FAIL ") {
		if code != 1 {
			t.Errorf("failures printed but exit status %d", code)
		}
	} else if code != 0 {
		t.Errorf("no failures but exit status %d", code)
	}
}

func TestConformanceCommandBadCorpus(t *testing.T) {
	code, _, stderr := runCmd(t, "", "conformance", "--corpus", filepath.Join(t.TempDir(), "absent"))
	if code != 2 || !strings.Contains(stderr, "porxgate conformance:") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

func TestConvertErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.xml")
	if err := os.WriteFile(bad, []byte("<notxml"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		in   string
		code int
		want string
	}{
		{"no args", []string{"convert"}, "", 2, "usage: porxgate convert"},
		{"same format", []string{"convert", "--from", "v3", "--to", "v3", "-"}, "", 2, "usage"},
		{"missing file", []string{"convert", "--from", "v3", "--to", "fhir", "/nonexistent.xml"}, "", 1, "reading /nonexistent.xml"},
		{"not xml", []string{"convert", "--from", "v3", "--to", "fhir", bad}, "", 1, "v3 input"},
		{"fhir not json", []string{"convert", "--from", "fhir", "--to", "v3", "-"}, "{", 1, "FHIR body"},
		{"fhir unknown resource", []string{"convert", "--from", "fhir", "--to", "v3", "-"}, `{"resourceType":"Basic"}`, 1, "resourceType Basic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.in, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("code %d stderr %q; want %d containing %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := runCmd(t, "", "frobnicate")
	if code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

// TestConvertRoundTrip converts one of the project's own FHIR prescriptions
// to v3 and the v3 back to FHIR, as a supplier would with `porxgate convert`.
func TestConvertRoundTrip(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "prescribe", "repeat-dispensing-pharmacist-endorsed.json")
	code, v3out, stderr := runCmd(t, "", "convert", "--from", "fhir", "--to", "v3", fixture)
	if code != 0 || !strings.Contains(v3out, "<PORX_IN020101UK31") {
		t.Fatalf("fhir → v3: code %d stderr %q\n%.300s", code, stderr, v3out)
	}
	code, fhirOut, stderr := runCmd(t, v3out, "convert", "--from", "v3", "--to", "fhir", "-")
	if code != 0 || !strings.Contains(fhirOut, `"prescription-order"`) {
		t.Fatalf("v3 → fhir: code %d stderr %q\n%.300s", code, stderr, fhirOut)
	}
	code, smOut, _ := runCmd(t, "", "convert", "--from", "fhir", "--to", "v3", "--family", "SM", fixture)
	if code != 0 || !strings.Contains(smOut, "<PORX_IN020101SM31") {
		t.Fatalf("--family SM: code %d\n%.200s", code, smOut)
	}
}

// TestConvertNamesElementPath checks that a message the mapping cannot read
// is reported on stderr with the element path.
func TestConvertNamesElementPath(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "prescribe", "repeat-dispensing-pharmacist-endorsed.json")
	_, v3out, _ := runCmd(t, "", "convert", "--from", "fhir", "--to", "v3", fixture)
	broken := strings.Replace(v3out, "<recordTarget", "<recordTargetX", 1)
	broken = strings.Replace(broken, "</recordTarget>", "</recordTargetX>", 1)
	code, _, stderr := runCmd(t, broken, "convert", "--from", "v3", "--to", "fhir", "-")
	if code != 1 || !strings.Contains(stderr, "/PORX_IN020101UK31/ControlActEvent/subject/ParentPrescription/recordTarget") {
		t.Fatalf("code %d stderr %q; want the element path", code, stderr)
	}
}

// TestConvertPrintsEveryRefusal checks that a message wrong in several
// places is reported once per place, each naming the interaction, the
// element path and the MIM rule, and then counted.
func TestConvertPrintsEveryRefusal(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "dispense", "dn-full-two-items.xml")
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "<recordTarget", "<recordTargetX", 1)
	broken = strings.Replace(broken, "</recordTarget>", "</recordTargetX>", 1)
	broken = strings.Replace(broken, `<effectiveTime value="`, `<effectiveTime value="not a time`, 1)
	code, _, stderr := runCmd(t, broken, "convert", "--from", "v3", "--to", "fhir", "-")
	if code != 1 {
		t.Fatalf("code %d, want 1; stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) < 3 || !strings.HasSuffix(lines[len(lines)-1], fmt.Sprintf("%d refusals", len(lines)-1)) {
		t.Fatalf("stderr %q: want one line per refusal and a count", stderr)
	}
	for _, want := range []string{
		"PORX_IN080101UK31: /PORX_IN080101UK31/ControlActEvent/subject/DispenseNotification/recordTarget: missing mandatory element [MIM rule: cardinality",
		"/PORX_IN080101UK31/ControlActEvent/subject/DispenseNotification/recordTargetX: unexpected element [MIM rule: message model",
		"effectiveTime",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
}
