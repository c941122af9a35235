package release

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// One prescription that porxgate cannot read or write must not keep the
// others of a $release answer from the dispenser (a nominated release
// answers up to 25): ReleaseAnswerFromEPS writes the release response with
// those it can write and names the others in ReleaseOutcome.Unwritten.
// withoutUndecodable is the reading half: a passedPrescriptions entry that
// does not decode as FHIR is taken out of the answer, so that the rest
// decodes.

// withoutUndecodable returns body with each passedPrescriptions entry that
// does not decode taken out, and those entries; an error when body is not
// a Parameters whose parameters can be told apart.
func withoutUndecodable(body []byte) ([]byte, []UnwrittenPrescription, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, err
	}
	var params []map[string]json.RawMessage
	if err := json.Unmarshal(p["parameter"], &params); err != nil {
		return nil, nil, fmt.Errorf("Parameters.parameter: %w", err)
	}
	var left []UnwrittenPrescription
	for i, prm := range params {
		var name string
		if json.Unmarshal(prm["name"], &name) != nil || name != ParamPassedPrescriptions {
			continue
		}
		var sb map[string]json.RawMessage
		if err := json.Unmarshal(prm["resource"], &sb); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", ParamPassedPrescriptions, err)
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(sb["entry"], &entries); err != nil && sb["entry"] != nil {
			return nil, nil, fmt.Errorf("%s.entry: %w", ParamPassedPrescriptions, err)
		}
		kept := entries[:0:0]
		for j, e := range entries {
			var entry fhir.Entry
			if err := fhir.Unmarshal(e, &entry); err != nil {
				path := core.Indexed(core.Indexed("Parameters.parameter", i)+".resource.entry", j) + ".resource"
				left = append(left, UnwrittenPrescription{ShortFormID: rawShortFormID(e), Err: &core.FHIRError{Path: path, Msg: err.Error()}})
				continue
			}
			kept = append(kept, e)
		}
		if len(kept) == len(entries) {
			continue
		}
		var err error
		if sb["entry"], err = json.Marshal(kept); err != nil {
			return nil, nil, err
		}
		if prm["resource"], err = json.Marshal(sb); err != nil {
			return nil, nil, err
		}
	}
	if len(left) == 0 {
		return nil, nil, errors.New("no passedPrescriptions entry fails to decode alone")
	}
	var err error
	if p["parameter"], err = json.Marshal(params); err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(p)
	return out, left, err
}

// rawShortFormID returns the short-form id of the prescription-order
// Bundle in a passedPrescriptions entry read as plain JSON (the
// groupIdentifier of its first MedicationRequest that has one), or "".
func rawShortFormID(entry json.RawMessage) string {
	var e struct {
		Resource struct {
			Entry []struct {
				Resource struct {
					ResourceType    string `json:"resourceType"`
					GroupIdentifier struct {
						Value string `json:"value"`
					} `json:"groupIdentifier"`
				} `json:"resource"`
			} `json:"entry"`
		} `json:"resource"`
	}
	_ = json.Unmarshal(entry, &e) // what does not decode stays empty
	for _, be := range e.Resource.Entry {
		if be.Resource.ResourceType == "MedicationRequest" && be.Resource.GroupIdentifier.Value != "" {
			return be.Resource.GroupIdentifier.Value
		}
	}
	return ""
}
