package gateway

import (
	"context"
	"net/url"
	"os"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	claimmap "github.com/porxgate/porxgate/mapping/claim"
	v3 "github.com/porxgate/porxgate/v3"
)

// trackerClaimAPI answers tracker searches from a fixed searchset and keeps
// the Claim it is sent.
type trackerClaimAPI struct {
	EPSAPI
	searchset string
	status    int
	queries   []url.Values
	claim     []byte
}

func (a *trackerClaimAPI) TrackerGet(_ context.Context, q url.Values) (*upstream.Response, error) {
	a.queries = append(a.queries, q)
	return &upstream.Response{Status: a.status, Body: []byte(a.searchset)}, nil
}

func (a *trackerClaimAPI) PostClaim(_ context.Context, body []byte) (*upstream.Response, error) {
	a.claim = body
	return &upstream.Response{Status: 200, Body: []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`)}, nil
}

// TestClaimNamesItsPatient: the v3 claim names no patient; the gateway asks
// the EPS tracker by the claim's prescription id and the Claim sent upstream
// carries the patient's NHS number (EPS's Claims do). A prescription the
// tracker does not know leaves the data-absent-reason in place.
func TestClaimNamesItsPatient(t *testing.T) {
	payload, err := os.ReadFile("../testdata/claim/claim-exemption-evidence.xml")
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := claimmap.ClaimToFHIR(payload, mapping.Env{NewID: func() string { return "00000000-0000-4000-8000-000000000001" }})
	if err != nil {
		t.Fatal(err)
	}
	_, shortID, err := claimmap.ClaimPatientAbsent(body)
	if err != nil || shortID == "" {
		t.Fatalf("claim short-form id %q, %v", shortID, err)
	}
	found := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Task","intent":"order","status":"completed",
		"focus":{"identifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"` + shortID + `"}},
		"for":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}}}}]}`
	tests := []struct {
		name, searchset, wantNHS string
	}{
		{"tracker knows the prescription", found, "9449305552"},
		{"tracker does not", `{"resourceType":"Bundle","type":"searchset"}`, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &trackerClaimAPI{searchset: tt.searchset, status: 200}
			p := NewEPSProcessor(mapping.NewRegistry(), api, nil, nil, quietLog())
			in := &Inbound{Transport: TransportEbXML, Interaction: v3.DispenseClaimInformation, Family: v3.FamilyUK,
				MessageID: newID(t, 950+i), Payload: payload}
			if _, err := p.Process(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if len(api.queries) != 1 || api.queries[0].Get("focus:identifier") != shortID {
				t.Fatalf("tracker queries %v, want one for %s", api.queries, shortID)
			}
			res, err := fhir.DecodeResource(api.claim)
			if err != nil {
				t.Fatal(err)
			}
			c := res.(*fhir.Claim)
			got := ""
			if c.Patient != nil && c.Patient.Identifier != nil && c.Patient.Identifier.System == fhir.SystemNHSNumber {
				got = c.Patient.Identifier.Value
			}
			if got != tt.wantNHS {
				t.Errorf("Claim.patient NHS number %q, want %q", got, tt.wantNHS)
			}
		})
	}
}
