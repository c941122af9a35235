package sim

import (
	"net/http"
	"testing"
	"time"
)

// TestCancellationPeopleNeedSDSUserIDs: the EPS API translates a
// prescription-order-update to Spine's cancel with each person's SDS user
// id as the agentPerson id (cancellation.ts, getAgentPersonPersonId), and
// refuses one it cannot: a requester's or responsible party's
// PractitionerRole naming a Practitioner without exactly one sds-user-id
// identifier is answered 400, one fatal issue of code invalid with a
// Spine-ErrorOrWarningCode coding (TOO_FEW_VALUES_SUBMITTED,
// TOO_MANY_VALUES_SUBMITTED, INVALID_VALUE), expression
// Practitioner.identifier, and nothing is cancelled. A role without a
// Practitioner passes. Before, the simulator cancelled the item (200).
func TestCancellationPeopleNeedSDSUserIDs(t *testing.T) {
	s, base := startSim(t, Options{Now: func() time.Time { return t0 }})
	api := base + DefaultBasePath
	p := newRx(t, 1, "FH542")
	do(t, http.MethodPost, api+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).want(t, 200, "informational")

	sds := map[string]any{"system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "555086689106"}
	gmc := map[string]any{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "C6095103"}
	// withPeople returns cancel.json with the requester's role (entry 3)
	// naming a Practitioner of identifiers req and, when rp is not nil, a
	// responsible party's role naming one of identifiers rp.
	withPeople := func(req, rp []any) []byte {
		t.Helper()
		prac := func(url string, ids []any) map[string]any {
			r := map[string]any{"resourceType": "Practitioner"}
			if ids != nil {
				r["identifier"] = ids
			}
			return map[string]any{"fullUrl": url, "resource": r}
		}
		return editedFixture(t, "cancel.json", p.repl(nil), func(entries []any) []any {
			entryResource(entries, 3)["practitioner"] = map[string]any{"reference": "urn:uuid:prac-req"}
			entries = append(entries, prac("urn:uuid:prac-req", req))
			if rp != nil {
				entryResource(entries, 1)["extension"] = []any{map[string]any{"url": extResponsible, "valueReference": map[string]any{"reference": "urn:uuid:role-rp"}}}
				entries = append(entries,
					map[string]any{"fullUrl": "urn:uuid:role-rp", "resource": map[string]any{"resourceType": "PractitionerRole",
						"identifier":   []any{map[string]any{"system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "200102238987"}},
						"practitioner": map[string]any{"reference": "urn:uuid:prac-rp"}}},
					prac("urn:uuid:prac-rp", rp))
			}
			return entries
		})
	}
	tests := []struct {
		name    string
		body    []byte
		code    string // Spine-ErrorOrWarningCode
		display string
		at      string // expression
	}{
		{"requester with a GMC number only", withPeople([]any{gmc}, nil), "TOO_FEW_VALUES_SUBMITTED",
			"Too few values submitted. Expected 1 element where system == 'https://fhir.nhs.uk/Id/sds-user-id'.", "Practitioner.identifier"},
		{"responsible party with a GMC number only", withPeople([]any{sds}, []any{gmc}), "TOO_FEW_VALUES_SUBMITTED",
			"Too few values submitted. Expected 1 element where system == 'https://fhir.nhs.uk/Id/sds-user-id'.", "Practitioner.identifier"},
		// Two are refused by EPS's own checks of every Bundle's
		// PractitionerRoles before its translation (roleIdentifierIssue).
		{"requester with two SDS user ids", withPeople([]any{sds, sds}, nil), "TOO_MANY_VALUES_SUBMITTED",
			"Too many values submitted. Expected 1 element where system == 'https://fhir.nhs.uk/Id/sds-user-id'.", `Bundle.entry("Practitioner").identifier`},
		{"requester without identifiers", withPeople(nil, nil), "INVALID_VALUE", "Required field missing.", "Practitioner.identifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			do(t, http.MethodPost, api+"/$process-message", tt.body, nil).wantTranslationRefusal(t, tt.code, tt.display, tt.at)
		})
	}
	if got, _ := s.State().Get(p.sf); got.Items[0].Status != ItemToBeDispensed {
		t.Fatalf("item %s is %s after refused cancellations, want to be dispensed", got.Items[0].ID, got.Items[0].Status)
	}
	// Both people with an SDS user id: cancelled.
	a := do(t, http.MethodPost, api+"/$process-message", withPeople([]any{sds, gmc}, []any{sds}), nil)
	if got, _ := s.State().Get(p.sf); a.status != http.StatusOK || got.Items[0].Status != ItemCancelled {
		t.Fatalf("cancellation with SDS user ids answered %d, item %s: %s", a.status, got.Items[0].Status, a.body)
	}
}
