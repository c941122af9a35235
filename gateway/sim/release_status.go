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
// shape (epsReleaseShape), each MedicationRequest's status set from its
// item's, its intent as EPS releases it (releasedIntent) and, for a repeat
// prescription, its basedOn naming the issue (releasedBasedOn).
func releasedOrder(p Prescription) []byte {
	text := textOf(p.Order)
	b, ok := decodeOrder(p.Order, text)
	if !ok {
		return p.Order
	}
	changed := epsReleaseShape(b)
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		r, _ := e.(jsonMap)["resource"].(jsonMap)
		if r == nil || r["resourceType"] != "MedicationRequest" {
			continue
		}
		it := p.item(strings.ToLower(lineItemOf(r)))
		if it == nil {
			continue
		}
		if intent := releasedIntent(p); r["intent"] != intent {
			r["intent"], changed = intent, true
		}
		if based := releasedBasedOn(p, it.ID); based != nil {
			r["basedOn"], changed = based, true
		}
		if requestStatusOf(it.Status) != r["status"] {
			r["status"], changed = requestStatusOf(it.Status), true
		}
	}
	if !changed {
		return p.Order
	}
	if out, ok := encodeOrder(b, text); ok {
		return out
	}
	return p.Order
}

// releasedIntent is the MedicationRequest.intent EPS releases p's items
// with: reflex-order for repeat dispensing, order for any other course,
// whatever the prescriber sent (release-medication-request.ts).
func releasedIntent(p Prescription) string {
	if p.CourseOfTherapy == courseRepeatDispensing {
		return "reflex-order"
	}
	return "order"
}

// releasedBasedOn is the basedOn EPS releases line item id of a repeat
// dispensing or repeat prescribing prescription with, nil for any other:
// the line item, and Extension-EPS-RepeatInformation with the issues after
// the first (numberOfRepeatsAllowed) and the issues before the current one
// (numberOfRepeatsIssued), as the EPS API's release translation writes them
// from Spine's repeatNumber high - 1 and low - 1 (response/release/
// release-medication-request.ts, createBasedOn; a repeat prescribing
// prescription is 1 of 1 on Spine). It replaces the prescriber's basedOn.
func releasedBasedOn(p Prescription, id string) []any {
	switch p.CourseOfTherapy {
	case courseRepeatDispensing, courseContinuous:
	default:
		return nil
	}
	return []any{jsonMap{
		"reference": strings.ToLower(id),
		"extension": []any{jsonMap{
			"url": fhir.ExtensionRepeatInformation,
			"extension": []any{
				jsonMap{"url": "numberOfRepeatsAllowed", "valueInteger": max(p.TotalIssues-1, 0)},
				jsonMap{"url": "numberOfRepeatsIssued", "valueInteger": max(p.CurrentIssue-1, 0)},
			},
		}},
	}}
}

// lineItemOf returns a decoded MedicationRequest's line item id.
func lineItemOf(mr jsonMap) string {
	for _, id := range identifiersOf(mr) {
		if id[0] == fhir.SystemLineItemID {
			return id[1]
		}
	}
	return ""
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
