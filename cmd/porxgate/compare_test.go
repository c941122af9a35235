package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/spinesim"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/v3"
)

// recordExchange records one prescription with the Spine stand-in's answer
// into dir, as NAME.request.xml and NAME.answer.xml.
func recordExchange(t *testing.T, dir, name, fixture string) {
	t.Helper()
	body, err := os.ReadFile("../../testdata/prescribe/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	req, err := mapping.PrescribeToV3(body, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: spinesim.New(spinesim.Options{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	id := strings.ToUpper(ids.NewUUID())
	a, err := (&compare.Legacy{URL: "http://" + ln.Addr().String()}).Call(context.Background(), compare.Request{
		Interaction: v3.ParentPrescription, Service: ebxml.ServiceMM, MessageID: id, Payload: req})
	if err != nil {
		t.Fatal(err)
	}
	for suffix, b := range map[string][]byte{compare.RequestSuffix: req, compare.AnswerSuffix: a.Payload} {
		if err := os.WriteFile(filepath.Join(dir, name+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCompareCommand replays recorded exchanges against the FHIR path (the
// built-in simulator): matching answers exit 0; an answer that differs
// from Spine's recording is reported with the difference and exits 1.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	recordExchange(t, dir, "01-acute", "acute-nurse-controlled-drug-unsigned.json")
	recordExchange(t, dir, "02-dental", "repeat-prescribing-dental-four-items.json")
	code, out, errOut := runCmd(t, "", "compare", "--dir", dir)
	if code != 0 || strings.Count(out, "match   ") != 2 || !strings.Contains(out, "PORX_IN020101UK31    match 2") {
		t.Fatalf("compare = %d\n%s\n%s", code, out, errOut)
	}
	ans := filepath.Join(dir, "02-dental"+compare.AnswerSuffix)
	b, _ := os.ReadFile(ans)
	if err := os.WriteFile(ans, bytes.Replace(b, []byte(`typeCode="AA"`), []byte(`typeCode="AR"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "", "compare", "--dir", dir, "--json")
	if code != 1 || !strings.Contains(out, `"result": "differ"`) || !strings.Contains(out, "spine has AR, fhir has AA") {
		t.Fatalf("compare after a change = %d\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "", "compare", "--dir", t.TempDir()); code != 1 || !strings.Contains(errOut, "no *.request.xml") {
		t.Errorf("empty folder = %d %s", code, errOut)
	}
	if code, _, _ := runCmd(t, "", "compare"); code != 2 {
		t.Errorf("no --dir = %d, want 2", code)
	}
}
