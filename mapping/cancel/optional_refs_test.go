package cancel

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelOptionalRefsEPSCannotTake: PORX_MT135001UK32 lets a
// CancellationRequest leave out its line item (pertinentInformation1 0..1:
// a cancellation of the whole prescription, which Spine's schematron takes
// and reports as cancellationType Prescription) and its original
// prescription ref (pertinentInformation3 0..1). The EPS FHIR API cancels
// one line item with the prescription's long-form id, so porxgate cannot
// send either; it refuses them as such (a *core.EPSRefusal naming the
// element and no MIM rule), in CancelToFHIR and in ReadCancelRequestInfo
// alike. Before, both were refused as "missing mandatory element [MIM rule:
// cardinality]", which they are not: the operator and the dead letter were
// told the prescriber broke the MIM.
func TestCancelOptionalRefsEPSCannotTake(t *testing.T) {
	good := string(cancelFixture(t, "cancel_request_uk.xml"))
	const cr = "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest"
	cut := func(t *testing.T, tags ...string) []byte {
		t.Helper()
		s := good
		for _, tag := range tags {
			re := regexp.MustCompile(`(?s)\s*<` + tag + ` .*?</` + tag + `>`)
			if !re.MatchString(s) {
				t.Fatalf("test message has no %s", tag)
			}
			s = re.ReplaceAllString(s, "")
		}
		return []byte(s)
	}
	tests := []struct {
		name     string
		cut      []string
		wantPath string
		wantMsg  string
	}{
		{"whole prescription (no line item)", []string{"pertinentInformation1"}, cr + "/pertinentInformation1", "cancellation of the whole prescription"},
		{"no original prescription ref", []string{"pertinentInformation3"}, cr + "/pertinentInformation3", "long-form id"},
		{"neither", []string{"pertinentInformation1", "pertinentInformation3"}, cr + "/pertinentInformation1", "cancellation of the whole prescription"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := cut(t, tt.cut...)
			body, _, err := CancelToFHIR(msg, core.FixedEnv())
			if body != nil {
				t.Errorf("FHIR returned: %.300s", body)
			}
			_, infoErr := ReadCancelRequestInfo(msg)
			for name, err := range map[string]error{"CancelToFHIR": err, "ReadCancelRequestInfo": infoErr} {
				var refusal *core.EPSRefusal
				if !errors.As(err, &refusal) {
					t.Errorf("%s: error %T %v, want a *core.EPSRefusal", name, err, err)
					continue
				}
				var ve *v3.Error
				if !errors.As(err, &ve) || ve.Path != tt.wantPath || !strings.Contains(ve.Msg, tt.wantMsg) {
					t.Errorf("%s: error %q, want path %s and %q", name, err, tt.wantPath, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "MIM rule") || strings.Contains(err.Error(), "mandatory") {
					t.Errorf("%s: error %q says a MIM rule is broken", name, err)
				}
			}
		})
	}
	// What the MIM does not allow is still refused by its rule: two line
	// items ("Only a single line item may be cancelled", 0..1).
	li := regexp.MustCompile(`(?s)\s*<pertinentInformation1 .*?</pertinentInformation1>`).FindString(good)
	twice := strings.Replace(good, li, li+li, 1)
	_, _, err := CancelToFHIR([]byte(twice), core.FixedEnv())
	var refusal *core.EPSRefusal
	if err == nil || errors.As(err, &refusal) || !strings.Contains(err.Error(), cr+"/pertinentInformation1") {
		t.Errorf("two line items: error %v, want a MIM refusal naming the second", err)
	}
}
