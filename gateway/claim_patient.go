package gateway

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping/claim"
)

// trackerSearcher is the EPS tracker search (upstream.Client has it).
type trackerSearcher interface {
	TrackerGet(ctx context.Context, query url.Values) (*upstream.Response, error)
}

// withClaimPatient names the patient of a Claim whose v3 did not: it asks
// the EPS tracker (GET Task?focus:identifier=<short-form id>) who the
// prescription is for and writes the NHS number into Claim.patient, as the
// EPS API's Claims carry it. A Claim that already names its patient, an
// upstream without a tracker, or a prescription the tracker does not know
// leave the body as it is (EPS then judges the Claim). An unreachable
// tracker is an upstream failure, returned as such.
func (p *EPSProcessor) withClaimPatient(ctx context.Context, body []byte) ([]byte, error) {
	absent, shortID, err := claim.ClaimPatientAbsent(body)
	if err != nil || !absent || shortID == "" {
		return body, nil
	}
	ts, ok := p.api.(trackerSearcher)
	if !ok {
		return body, nil
	}
	resp, err := ts.TrackerGet(ctx, url.Values{"focus:identifier": {shortID}})
	if err != nil {
		return nil, fmt.Errorf("EPS tracker lookup of the claim's patient (%s): %w", shortID, err)
	}
	nhs := ""
	if resp.Status == 200 {
		nhs = patientOf(resp.Body, shortID)
	}
	if nhs == "" {
		p.log.Warn("claim's patient not found in the EPS tracker; Claim sent without it", "prescription", shortID, "tracker_status", resp.Status)
		return body, nil
	}
	return claim.ClaimWithPatient(body, nhs)
}

// patientOf returns the NHS number of the tracker Task for the prescription
// shortID in a searchset Bundle, "" when none names one.
func patientOf(searchset []byte, shortID string) string {
	b, err := fhir.ParseBundle(searchset)
	if err != nil {
		return ""
	}
	for _, t := range fhir.EntriesOf[*fhir.Task](b) {
		if t.Focus == nil || t.Focus.Identifier == nil || !strings.EqualFold(t.Focus.Identifier.Value, shortID) {
			continue
		}
		if t.For != nil && t.For.Identifier != nil && t.For.Identifier.System == fhir.SystemNHSNumber {
			return t.For.Identifier.Value
		}
	}
	return ""
}
