package sim

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// EPS releases a prescription with each MedicationRequest's status taken
// from its line item's status on Spine (the EPS API's release translation:
// fully dispensed → completed; not dispensed, expired → stopped; cancelled →
// cancelled; partial, owing, to be dispensed, with dispenser → active), so
// that a dispenser sees which items it may dispense.

// requestStatusOf is the MedicationRequest.status EPS releases an item in.
func requestStatusOf(st ItemStatus) string {
	switch st {
	case ItemDispensed:
		return "completed"
	case ItemNotDispensed, ItemExpired:
		return "stopped"
	case ItemCancelled:
		return "cancelled"
	}
	return "active"
}

// releasedOrder is p's prescription-order Bundle as EPS releases it: as
// received, with its people and meta.lastUpdated in the EPS API's release
// shape (epsReleaseShape) and each MedicationRequest's status set from its
// item's.
func releasedOrder(p Prescription) []byte {
	order := epsReleaseShape(p.Order)
	var bundle map[string]json.RawMessage
	var entries []map[string]json.RawMessage
	if json.Unmarshal(order, &bundle) != nil || json.Unmarshal(bundle["entry"], &entries) != nil {
		return order
	}
	changed := false
	for _, e := range entries {
		var head struct {
			ResourceType string            `json:"resourceType"`
			Status       string            `json:"status"`
			Identifier   []fhir.Identifier `json:"identifier"`
		}
		if json.Unmarshal(e["resource"], &head) != nil || head.ResourceType != "MedicationRequest" {
			continue
		}
		it := p.item(strings.ToLower(fhir.FindIdentifier(head.Identifier, fhir.SystemLineItemID)))
		if it == nil || requestStatusOf(it.Status) == head.Status {
			continue
		}
		var res map[string]json.RawMessage
		if json.Unmarshal(e["resource"], &res) != nil {
			return order
		}
		res["status"] = json.RawMessage(`"` + requestStatusOf(it.Status) + `"`)
		raw, ok := encodeJSON(res)
		if !ok {
			return order
		}
		e["resource"], changed = raw, true
	}
	if !changed {
		return order
	}
	raw, ok := encodeJSON(entries)
	if !ok {
		return order
	}
	bundle["entry"] = raw
	if out, ok := encodeJSON(bundle); ok {
		return out
	}
	return order
}

// encodeJSON encodes v as EPS writes JSON (no HTML escaping).
func encodeJSON(v any) (json.RawMessage, bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return nil, false
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), true
}
