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
// received, but for each MedicationRequest's status, set from its item's.
// The bytes are the received ones when no status differs (or the Bundle
// cannot be read: it was accepted from these bytes, so that does not
// happen).
func releasedOrder(p Prescription) []byte {
	var bundle map[string]json.RawMessage
	var entries []map[string]json.RawMessage
	if json.Unmarshal(p.Order, &bundle) != nil || json.Unmarshal(bundle["entry"], &entries) != nil {
		return p.Order
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
			return p.Order
		}
		res["status"] = json.RawMessage(`"` + requestStatusOf(it.Status) + `"`)
		raw, ok := encodeJSON(res)
		if !ok {
			return p.Order
		}
		e["resource"], changed = raw, true
	}
	if !changed {
		return p.Order
	}
	raw, ok := encodeJSON(entries)
	if !ok {
		return p.Order
	}
	bundle["entry"] = raw
	if out, ok := encodeJSON(bundle); ok {
		return out
	}
	return p.Order
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
