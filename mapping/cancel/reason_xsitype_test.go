package cancel

import (
	"errors"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelReasonTextXSIType: the cancellation reason's text is an ST in
// PORX_MT135001UK32, and Spine's schema validator takes an xsi:type naming
// that declared type. Before, the reader refused it as an unexpected
// attribute, so a prescribing system writing the type on the reason text
// had every cancellation refused. Another type is refused by the datatype
// rule, naming the attribute.
func TestCancelReasonTextXSIType(t *testing.T) {
	const (
		xsiNS = "http://www.w3.org/2001/XMLSchema-instance"
		text  = "<text>At the Patient's request</text>"
		path  = "/PORX_IN030101UK32/ControlActEvent/subject/CancellationRequest/pertinentInformation/pertinentCancellationReason/text/@xsi:type"
	)
	good := string(cancelFixture(t, "cancel_request_uk.xml"))
	if !strings.Contains(good, text) {
		t.Fatalf("fixture lacks %s", text)
	}
	typed := func(typ string) []byte {
		return []byte(strings.Replace(good, text, `<text xmlns:xsi="`+xsiNS+`" xsi:type="`+typ+`">At the Patient's request</text>`, 1))
	}
	tests := []struct {
		name     string
		msg      []byte
		wantRule string // "" when taken
	}{
		{"declared type ST", typed("ST"), ""},
		{"declared type with a prefix", []byte(strings.Replace(string(typed("hl7:ST")), `xmlns:xsi=`, `xmlns:hl7="urn:hl7-org:v3" xmlns:xsi=`, 1)), ""},
		{"another type", typed("CV"), v3.RuleDatatype},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := CancelToFHIR(tt.msg, core.FixedEnv())
			if tt.wantRule == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if !strings.Contains(string(body), "At the Patient's request") {
					t.Errorf("reason text lost:\n%.800s", body)
				}
				return
			}
			var ve *v3.Error
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *v3.Error", err)
			}
			if ve.Path != path || ve.Rule != tt.wantRule {
				t.Errorf("refused at %s rule %q, want %s rule %q", ve.Path, ve.Rule, path, tt.wantRule)
			}
		})
	}
}
