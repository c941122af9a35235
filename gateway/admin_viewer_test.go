package gateway

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/gateway/admin"
)

// TestViewerSeesNoPatientDataInDeadLetters: the viewer role sees live
// state, not patient data (docs/admin.md), and its looks are not
// journalled. The live state listed the newest dead letters with their
// reasons as they were, and a reason quotes what the mapping or EPS found
// wrong — the patient's date of birth, NHS number or name. A viewer now
// gets each reason as the logs have it (quoted values and NHS numbers
// taken out); a reader, whose looks at the page are journalled, the whole
// reason there, and the live state's JSON, which is not journalled, as a
// viewer does.
func TestViewerSeesNoPatientDataInDeadLetters(t *testing.T) {
	const (
		viewerToken = "viewer-token-0123456789"
		readerToken = "reader-token-0123456789"
	)
	cfg := testConfig()
	cfg.Admin.NoAuth = false
	cfg.Admin.TokensFile = writeFile(t, t.TempDir(), "tokens", []byte("vic viewer "+viewerToken+"\nrita reader "+readerToken+"\n"))
	proc := newFakeProcessor()
	proc.answer = func(in *Inbound, n int) (*Outcome, error) {
		return nil, Permanent(errors.New(`/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest/recordTarget/Patient/patientPerson/birthTime: "2001-07-04x" is not a v3 timestamp; patient 9912003071 "JONES"`))
	}
	g := startGateway(t, cfg, newMemoryStore(), false, WithProcessor(proc))
	if code, body := sendEb(t, g.base, newReq(newID(t, 1))); code != http.StatusAccepted {
		t.Fatalf("ebXML POST = %d\n%s", code, body)
	}
	as := func(token, path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, g.adminBase(t)+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	waitFor(t, "the dead letter", func() bool { return strings.Contains(as(readerToken, admin.PathState), "birthTime") })
	for _, path := range []string{admin.PathState, admin.PathPage} {
		seen := as(viewerToken, path)
		if !strings.Contains(seen, "birthTime") {
			t.Errorf("viewer, %s: the dead letter's reason is not shown at all:\n%.2000s", path, seen)
		}
		for _, v := range []string{"2001-07-04x", "9912003071", "JONES"} {
			if strings.Contains(seen, v) {
				t.Errorf("viewer, %s: the dead letter's reason shows the patient's %q", path, v)
			}
		}
	}
	if seen := as(readerToken, admin.PathPage); !strings.Contains(seen, "2001-07-04x") {
		t.Errorf("reader, %s: the dead letter's reason is not whole:\n%.2000s", admin.PathPage, seen)
	}
	// The live state's JSON is the one view not journalled (the page polls
	// it every 5 s): it gave a reader the whole reason, patient data that
	// left no trace in the access journal.
	if seen := as(readerToken, admin.PathState); strings.Contains(seen, "2001-07-04x") || strings.Contains(seen, "9912003071") {
		t.Errorf("reader, %s (not journalled): the dead letter's reason shows patient data:\n%.2000s", admin.PathState, seen)
	}
}
