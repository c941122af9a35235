package mapping

import (
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/claim"
	"github.com/porxgate/porxgate/mapping/dispense"
)

func TestKindOfFHIR(t *testing.T) {
	bundle := func(event string) string {
		return `{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MessageHeader","eventCoding":{"code":"` + event + `"}}}]}`
	}
	tests := []struct {
		body, want, wantErr string
	}{
		{bundle("prescription-order"), "Send", ""},
		{bundle("prescription-order-update"), "Cancel", ""},
		{bundle("dispense-notification"), "Dispense", ""},
		{bundle(dispense.EventRebuildDispenseHistory), "RebuildDispenseHistory", ""},
		{bundle(claim.EventReimbursementClaim), "ReimbursementClaim", ""},
		{bundle(claim.EventDispenseNoClaimNotice), "ReimbursementClaim", ""},
		{bundle("other"), "", "not an EPS message event"},
		{`{"resourceType":"Bundle","type":"message","entry":[]}`, "", "no MessageHeader"},
		{`{"resourceType":"Parameters"}`, "Release", ""},
		{`{"resourceType":"Task","status":"rejected"}`, "Return", ""},
		{`{"resourceType":"Task","status":"in-progress"}`, "Withdraw", ""},
		{`{"resourceType":"Claim"}`, "Claim", ""},
		{`{"resourceType":"Basic"}`, "", "resourceType Basic"},
		{`{}`, "", "no resourceType"},
		{`{`, "", "FHIR body"},
	}
	for _, tt := range tests {
		got, err := KindOfFHIR([]byte(tt.body))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("KindOfFHIR(%s) error = %v, want %q", tt.body, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("KindOfFHIR(%s) = %q, %v; want %q", tt.body, got, err, tt.want)
		}
	}
}
