package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/porxgate/porxgate/fhir"
)

// DecodeBundle decodes a FHIR Bundle into the same fhir.Bundle that
// fhir.ParseBundle gives, in fewer passes over the bytes: each entry's
// resource is decoded once, straight into its Go type, its resourceType
// read from the first key where FHIR JSON puts it. Entries of a shape this
// fast path does not handle (inline resources, unusual key order) go
// through fhir.DecodeResource as before.
func DecodeBundle(data []byte) (*fhir.Bundle, error) {
	var raw struct {
		ResourceType string            `json:"resourceType"`
		ID           string            `json:"id,omitempty"`
		Meta         *fhir.Meta        `json:"meta,omitempty"`
		Identifier   *fhir.Identifier  `json:"identifier,omitempty"`
		Type         string            `json:"type,omitempty"`
		Timestamp    string            `json:"timestamp,omitempty"`
		Total        *int              `json:"total,omitempty"`
		Link         []fhir.BundleLink `json:"link,omitempty"`
		Entry        []struct {
			ResourceType string            `json:"resourceType"`
			FullURL      string            `json:"fullUrl"`
			Resource     json.RawMessage   `json:"resource"`
			Search       *fhir.EntrySearch `json:"search"`
		} `json:"entry,omitempty"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	if raw.ResourceType != "Bundle" {
		if raw.ResourceType == "" {
			return nil, fmt.Errorf("resource: no resourceType")
		}
		return nil, fmt.Errorf("resourceType %s, want Bundle", raw.ResourceType)
	}
	b := &fhir.Bundle{ResourceType: raw.ResourceType, ID: raw.ID, Meta: raw.Meta, Identifier: raw.Identifier,
		Type: raw.Type, Timestamp: raw.Timestamp, Total: raw.Total, Link: raw.Link}
	if len(raw.Entry) > 0 {
		b.Entry = make([]fhir.Entry, len(raw.Entry))
	}
	for i, e := range raw.Entry {
		if e.ResourceType != "" {
			// An inline entry: let the fhir package read it as it does.
			ent, err := inlineEntry(data, i)
			if err != nil {
				return nil, err
			}
			b.Entry[i] = ent
			continue
		}
		b.Entry[i].FullURL, b.Entry[i].Search = e.FullURL, e.Search
		if len(e.Resource) == 0 || bytes.Equal(e.Resource, []byte("null")) {
			continue
		}
		res, err := decodeResourceFast(e.Resource)
		if err != nil {
			return nil, fmt.Errorf("entry %s: %w", e.FullURL, err)
		}
		b.Entry[i].Resource = res
	}
	return b, nil
}

// inlineEntry re-reads entry i through the fhir package.
func inlineEntry(data []byte, i int) (fhir.Entry, error) {
	b, err := fhir.ParseBundle(data)
	if err != nil {
		return fhir.Entry{}, err
	}
	return b.Entry[i], nil
}

// decodeResourceFast decodes one resource into its Go type when its first
// key names a type the prescribing messages use; anything else goes through
// fhir.DecodeResource.
func decodeResourceFast(raw json.RawMessage) (fhir.Resource, error) {
	var res fhir.Resource
	switch firstKeyString(raw, "resourceType") {
	case "MessageHeader":
		res = &fhir.MessageHeader{}
	case "MedicationRequest":
		res = &fhir.MedicationRequest{}
	case "Patient":
		res = &fhir.Patient{}
	case "Practitioner":
		res = &fhir.Practitioner{}
	case "PractitionerRole":
		res = &fhir.PractitionerRole{}
	case "Organization":
		res = &fhir.Organization{}
	case "HealthcareService":
		res = &fhir.HealthcareService{}
	case "Location":
		res = &fhir.Location{}
	case "Provenance":
		res = &fhir.Provenance{}
	case "CommunicationRequest":
		res = &fhir.CommunicationRequest{}
	case "List":
		res = &fhir.List{}
	default:
		return fhir.DecodeResource(raw)
	}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("%s: %w", res.GetResourceType(), err)
	}
	return res, nil
}

// firstKeyString returns the string value of an object's first key when
// that key is key and its value a plain string (no escapes); "" otherwise.
func firstKeyString(raw []byte, key string) string {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return ""
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != '"' || !bytes.HasPrefix(raw[i+1:], []byte(key)) {
		return ""
	}
	i += 1 + len(key)
	if i >= len(raw) || raw[i] != '"' {
		return ""
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != ':' {
		return ""
	}
	i = skipSpace(raw, i+1)
	if i >= len(raw) || raw[i] != '"' {
		return ""
	}
	start := i + 1
	for j := start; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			return string(raw[start:j])
		case '\\':
			return ""
		}
	}
	return ""
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
