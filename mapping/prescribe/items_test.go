package prescribe

import (
	"fmt"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/mapping/core"
)

// TestPrescriptionOfManyItems writes prescriptions of 1 to 9 line items
// (the four-item dental fixture's MedicationRequests repeated with line
// item ids of their own): each item is written once, in order, and named
// in the same order by the care record element category, below and above
// the four items the order keeps room for without allocating.
func TestPrescriptionOfManyItems(t *testing.T) {
	src := fixture(t, "repeat-prescribing-dental-four-items.json")
	for n := 1; n <= 9; n++ {
		var want []string
		body := editBundle(t, src, func(b map[string]any) {
			var mrs, others []any
			for _, e := range entries(b) {
				if e.(map[string]any)["resource"].(map[string]any)["resourceType"] == "MedicationRequest" {
					mrs = append(mrs, e)
				} else {
					others = append(others, e)
				}
			}
			for i := 0; i < n; i++ {
				e := cloneJSON(t, mrs[i%len(mrs)]).(map[string]any)
				id := fmt.Sprintf("a5b9dc81-ccf4-4dab-b887-%012x", i+1)
				e["fullUrl"] = "urn:uuid:" + id
				for _, idf := range e["resource"].(map[string]any)["identifier"].([]any) {
					if m := idf.(map[string]any); strings.HasSuffix(m["system"].(string), "prescription-order-item-number") {
						m["value"] = id
					}
				}
				others = append(others, e)
				want = append(want, strings.ToUpper(id))
			}
			b["entry"] = others
		})
		out, err := PrescribeToV3(body, core.Meta{}, core.FixedEnv())
		if err != nil {
			t.Fatalf("%d items: %v", n, err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(out); err != nil {
			t.Fatal(err)
		}
		var items, refs []string
		for _, li := range doc.FindElements("//pertinentLineItem/id") {
			items = append(items, li.SelectAttrValue("root", ""))
		}
		for _, r := range doc.FindElements("//pertinentCareRecordElementCategory/component/actRef/id") {
			refs = append(refs, r.SelectAttrValue("root", ""))
		}
		if strings.Join(items, " ") != strings.Join(want, " ") || strings.Join(refs, " ") != strings.Join(want, " ") {
			t.Errorf("%d items: line items %v, care record %v, want %v", n, items, refs, want)
		}
	}
}

// cloneJSON copies a value decoded from JSON.
func cloneJSON(t *testing.T, v any) any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneJSON(t, x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = cloneJSON(t, x)
		}
		return s
	}
	return v
}
