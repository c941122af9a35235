package sim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/porxgate/porxgate/fhir"
)

// The EPS API's consistency checks (bundle-validator.ts,
// verifyIdenticalForAllMedicationRequests and ...MedicationDispenses):
// a simple FHIR path applied to every resource of a type in a Bundle,
// read from the JSON as received so that the values it quotes back are
// the sender's, in the sender's key order.

// consistencyIssues are the EPS API's issues for the paths on which the
// Bundle's entries of resourceType (MedicationRequest or
// MedicationDispense) do not all agree: per path, in order, an issue of
// code value, "Expected all <resourceType>s to have the same value for
// <path>. Received <the distinct values, as JSON>."
// (createMedicationRequestInconsistentValueIssue).
//
// Values written alike byte for byte are found so without decoding
// (quicklyConsistent, validate_alike.go); the rest decodes
// (consistencyIssuesDecoded).
func consistencyIssues(m *message, resourceType string, paths []string) []fhir.Issue {
	if quicklyConsistent(m, resourceType, paths) {
		return nil
	}
	return consistencyIssuesDecoded(m, resourceType, paths)
}

// consistencyIssuesDecoded is consistencyIssues the general way: each
// path's values decoded and compared deeply (distinctValues).
func consistencyIssuesDecoded(m *message, resourceType string, paths []string) []fhir.Issue {
	inputs := rawEntriesOf(m, resourceType)
	if len(inputs) < 2 {
		return nil
	}
	var out []fhir.Issue
	tops := objectsOf(inputs)
	for _, path := range paths {
		if is := inconsistentIssue(resourceType, path, fhirPathValuesFrom(inputs, tops, path)); is != nil {
			out = append(out, *is)
		}
	}
	return out
}

// pathIssue is the EPS API's issue for the values of path (field, as EPS
// names it) on the Bundle's entries of resourceType, however many, that
// are not all alike (inconsistentIssue), nil when they are: found without
// decoding when they are written alike (alikeAlong).
func pathIssue(m *message, resourceType, field, path string) *fhir.Issue {
	if alikeAlong(m, resourceType, path) {
		return nil
	}
	return inconsistentIssue(resourceType, field, fhirPathValues(rawEntriesOf(m, resourceType), path))
}

// inconsistentIssue is the EPS API's issue for values (of field, on the
// resourceType entries) that are not all alike, nil when they are.
func inconsistentIssue(resourceType, field string, values []json.RawMessage) *fhir.Issue {
	distinct := distinctValues(values)
	if len(distinct) < 2 {
		return nil
	}
	quoted := make([]string, len(distinct))
	for i, v := range distinct {
		quoted[i] = compactJSON(v)
	}
	is := valueIssue("Expected all "+resourceType+"s to have the same value for "+field+
		". Received ["+strings.Join(quoted, ",")+"].",
		"Bundle.entry.resource.ofType("+resourceType+")."+field)
	return &is
}

// rawEntriesOf returns the resources of m's Bundle entries of
// resourceType, as received. The Bundle is split into its entries once a
// message (m.raw), however many checks ask.
func rawEntriesOf(m *message, resourceType string) []json.RawMessage {
	if m.raw == nil {
		m.raw = rawEntriesByType(m.body)
	}
	return m.raw[resourceType]
}

// rawEntriesByType splits a Bundle as received into its entries'
// resources by resource type, in order (an empty map for a body that
// does not decode).
func rawEntriesByType(body []byte) map[string][]json.RawMessage {
	out := map[string][]json.RawMessage{}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil {
		return out
	}
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal(e.Resource, &head) == nil {
			out[head.ResourceType] = append(out[head.ResourceType], e.Resource)
		}
	}
	return out
}

// fhirPathValues applies a simple FHIR path as the EPS API does
// (fhir-path.ts, applyFhirPath): dot-separated fields, each flattening
// an array into its elements, and extension("url") taking a resource's
// first extension of that url. A value missing is one nil (undefined).
func fhirPathValues(inputs []json.RawMessage, path string) []json.RawMessage {
	return fhirPathValuesFrom(inputs, nil, path)
}

// objectsOf decodes each input's top-level fields once (nil for one that
// is no object), for fhirPathValuesFrom to follow several paths through
// the same resources without decoding each whole resource again a path.
func objectsOf(inputs []json.RawMessage) []map[string]json.RawMessage {
	out := make([]map[string]json.RawMessage, len(inputs))
	for i, v := range inputs {
		if v == nil || json.Unmarshal(v, &out[i]) != nil {
			out[i] = nil
		}
	}
	return out
}

// fhirPathValuesFrom is fhirPathValues with the inputs' top-level fields
// already decoded (tops, objectsOf; nil: decoded here).
func fhirPathValuesFrom(inputs []json.RawMessage, tops []map[string]json.RawMessage, path string) []json.RawMessage {
	values := inputs
	for n, step := range splitFHIRPath(path) {
		var next []json.RawMessage
		for i, v := range values {
			var obj map[string]json.RawMessage
			if n == 0 && tops != nil {
				obj = tops[i]
			} else if v != nil && json.Unmarshal(v, &obj) != nil {
				obj = nil
			}
			if obj == nil {
				next = append(next, nil)
				continue
			}
			if url, ok := strings.CutPrefix(step, `extension("`); ok {
				url = strings.TrimSuffix(url, `")`)
				var exts []json.RawMessage
				_ = json.Unmarshal(obj["extension"], &exts)
				var found json.RawMessage
				for _, x := range exts {
					var head struct {
						URL string `json:"url"`
					}
					if json.Unmarshal(x, &head) == nil && head.URL == url {
						found = x
						break
					}
				}
				next = append(next, found)
				continue
			}
			field, ok := obj[step]
			if !ok {
				next = append(next, nil)
				continue
			}
			var arr []json.RawMessage
			if json.Unmarshal(field, &arr) == nil && bytes.HasPrefix(bytes.TrimSpace(field), []byte("[")) {
				next = append(next, arr...)
				continue
			}
			next = append(next, field)
		}
		values = next
	}
	return values
}

// splitFHIRPath splits a path at the dots outside double quotes.
func splitFHIRPath(path string) []string {
	var out []string
	start, quoted := 0, false
	for i, r := range path {
		switch {
		case r == '"':
			quoted = !quoted
		case r == '.' && !quoted:
			out = append(out, path[start:i])
			start = i + 1
		}
	}
	return append(out, path[start:])
}

// distinctValues keeps the first of each group of deeply equal values
// (getUniqueValues, isDeepStrictEqual: key order does not count; a
// missing value equals only another missing one).
func distinctValues(values []json.RawMessage) []json.RawMessage {
	var out []json.RawMessage
	var decoded []any
	for _, v := range values {
		var d any = missingValue{}
		if v != nil {
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.UseNumber()
			if dec.Decode(&d) != nil {
				d = string(v)
			}
		}
		seen := false
		for _, e := range decoded {
			if reflect.DeepEqual(e, d) {
				seen = true
				break
			}
		}
		if !seen {
			decoded = append(decoded, d)
			out = append(out, v)
		}
	}
	return out
}

// missingValue stands for a value a path does not reach (undefined).
type missingValue struct{}

// compactJSON writes a value as JSON.stringify does in an array: compact,
// a missing value as null.
func compactJSON(v json.RawMessage) string {
	if v == nil {
		return "null"
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return string(v)
	}
	return buf.String()
}
