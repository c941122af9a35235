package cancel_test

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
)

// TestCancelResponseLineEnds: EPS passes Spine's R-5000 text through
// (cancellation-medication-request.ts); a text with CR LF line ends reaches
// the legacy side with line feeds, as any XML receiver reads it.
func TestCancelResponseLineEnds(t *testing.T) {
	oo := &fhir.OperationOutcome{Base: fhir.Base{ResourceType: "OperationOutcome"}, Issue: []fhir.Issue{
		maptest.Issue("error", "processing", fhir.CodeSystemStatusHistory, "R-5000", "Unable to process message. Information missing or invalid - one\r\ntwo\rthree", "")}}
	body, err := fhir.Marshal(oo)
	if err != nil {
		t.Fatal(err)
	}
	req := maptest.Testdata(t, "cancel/cancel_request_uk.xml")
	got, out, err := cancel.CancelResponseFromEPS(req, body, 400, cancel.CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(string(got), '\r') {
		t.Errorf("cancel response holds a carriage return:\n%q", got)
	}
	if want := "Unable to process message. Information missing or invalid - one\ntwo\nthree"; out.Code.Code != "5000" || out.Code.Display != want {
		t.Errorf("code = %+v, want 5000 %q", out.Code, want)
	}
}
