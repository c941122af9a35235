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
// decodes; so is a failedPrescriptions entry (a prescription EPS withheld
// and returned to Spine, which porxgate only counts).

// withoutUndecodable returns body with each passedPrescriptions and
// failedPrescriptions entry that does not decode taken out, the passed
// ones among them, and how many withheld prescriptions (Bundles) were
// taken out of failedPrescriptions; an error when body is not a
// Parameters whose parameters can be told apart, or none was taken out.
func withoutUndecodable(body []byte) (out []byte, left []UnwrittenPrescription, withheld int, err error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, 0, err
	}
	var params []map[string]json.RawMessage
	if err := json.Unmarshal(p["parameter"], &params); err != nil {
		return nil, nil, 0, fmt.Errorf("Parameters.parameter: %w", err)
	}
	for i, prm := range params {
		var name string
		if json.Unmarshal(prm["name"], &name) != nil || (name != ParamPassedPrescriptions && name != ParamFailedPrescriptions) {
			continue
		}
		var sb map[string]json.RawMessage
		if err := json.Unmarshal(prm["resource"], &sb); err != nil {
			return nil, nil, 0, fmt.Errorf("%s: %w", name, err)
		}
		var entries []json.RawMessage
		if err := json.Unmarshal(sb["entry"], &entries); err != nil && sb["entry"] != nil {
			return nil, nil, 0, fmt.Errorf("%s.entry: %w", name, err)
		}
		kept := entries[:0:0]
		for j, e := range entries {
			var entry fhir.Entry
			err := fhir.Unmarshal(e, &entry)
			switch {
			case err == nil:
				kept = append(kept, e)
			case name == ParamPassedPrescriptions:
				path := core.Indexed(core.Indexed("Parameters.parameter", i)+".resource.entry", j) + ".resource"
				left = append(left, UnwrittenPrescription{ShortFormID: rawShortFormID(e), Err: &core.FHIRError{Path: path, Msg: err.Error()}})
			case rawIsBundle(e):
				withheld++
			}
		}
		if len(kept) == len(entries) {
			continue
		}
		if sb["entry"], err = json.Marshal(kept); err != nil {
			return nil, nil, 0, err
		}
		if prm["resource"], err = json.Marshal(sb); err != nil {
			return nil, nil, 0, err
		}
	}
	if len(left) == 0 && withheld == 0 {
		return nil, nil, 0, errors.New("no prescription fails to decode alone")
	}
	if p["parameter"], err = json.Marshal(params); err != nil {
		return nil, nil, 0, err
	}
	out, err = json.Marshal(p)
	return out, left, withheld, err
}

// rawIsBundle reports whether a searchset entry read as plain JSON holds a
// Bundle (as its resource, or written inline).
func rawIsBundle(entry json.RawMessage) bool {
	var e struct {
		ResourceType string `json:"resourceType"`
		Resource     struct {
			ResourceType string `json:"resourceType"`
		} `json:"resource"`
	}
	_ = json.Unmarshal(entry, &e) // what does not decode stays empty
	return e.ResourceType == "Bundle" || e.Resource.ResourceType == "Bundle"
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
