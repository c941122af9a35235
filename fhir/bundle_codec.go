package fhir

import (
	"slices"

	json "github.com/goccy/go-json"
)

// Reading and writing a Bundle in one pass. Entry's own UnmarshalJSON and
// MarshalJSON handle every entry (inline ones too) but go over each
// resource several times: the decoder reads an entry once to find its end,
// again for its fields, once more for the resource's resourceType and then
// into the resource's type; the encoder encodes each entry apart and then
// checks and copies what that gave. For a Bundle without inline entries
// (every message Bundle) decodeBundle and encodable do the same in one
// pass; anything else, an error included, goes the general way, so results
// and errors are those of the general way.

// plainBundle and plainEntry are Bundle and Entry without their methods.
type (
	plainBundle Bundle
	plainEntry  Entry
)

// bundleIn is a Bundle as read, each entry's resource kept as bytes until
// its resourceType is known.
type bundleIn struct {
	*plainBundle
	Entry []entryIn `json:"entry"`
}

// entryIn is an entry as read; a resourceType marks an inline entry.
type entryIn struct {
	ResourceType string          `json:"resourceType"`
	FullURL      string          `json:"fullUrl"`
	Resource     json.RawMessage `json:"resource"`
	Search       *EntrySearch    `json:"search"`
}

// decodeBundle decodes a Bundle in one pass, its entries' resources into
// their Go types; ok is false when an entry is inline or anything does
// not decode.
func decodeBundle(data []byte, ref bool, sp *Space) (b *Bundle, ok bool) {
	if b, ok = splitBundle(data, ref, sp); ok {
		return b, true
	}
	b = &Bundle{}
	in := bundleIn{plainBundle: (*plainBundle)(b)}
	if unmarshal(data, &in, ref) != nil || b.ResourceType != "Bundle" || !decodeEntries(b, in.Entry, ref) {
		return nil, false
	}
	return b, true
}

// decodeEntries fills b.Entry from the entries as read; false when one is
// inline or does not decode. ref is decodeBundle's (each entry's resource
// bytes are a copy of their own, which its strings may refer to).
func decodeEntries(b *Bundle, in []entryIn, ref bool) bool {
	if in == nil {
		return true
	}
	b.Entry = make([]Entry, len(in))
	for i, e := range in {
		if e.ResourceType != "" {
			return false
		}
		b.Entry[i] = Entry{FullURL: e.FullURL, Search: e.Search}
		if len(e.Resource) == 0 {
			continue
		}
		res, err := decodeResourceAs(e.Resource, ref)
		if err != nil {
			return false
		}
		b.Entry[i].Resource = res
	}
	return true
}

// declaredType returns the resourceType element as read.
func (b *Bundle) declaredType() string { return b.ResourceType }

// declaredType returns the resourceType element as read.
func (b *Base) declaredType() string { return b.ResourceType }

// bundleOut is a Bundle whose entries encode as plain structs.
type bundleOut struct {
	*plainBundle
	Entry []plainEntry `json:"entry,omitempty"`
}

// encodable returns what to encode for v: a Bundle without inline
// entries, or Parameters holding one, is encoded in the same pass as the
// Bundles nested in it (see encodableResource); anything else is v.
func encodable(v any) any {
	if r, ok := v.(Resource); ok {
		return encodableResource(r)
	}
	return v
}

// encodableResource returns what to encode for r: for a Bundle without
// inline entries, the Bundle with its entries' resourceTypes stamped (as
// Entry.MarshalJSON stamps them) and its entries, and the Bundles in them,
// encoded in the same pass; for Parameters, a copy whose parameters'
// resources are made encodable so (a $release answer's Bundle of Bundles);
// otherwise r. Without it each nested entry is encoded apart and its bytes
// checked and copied into its parent once for each level it is nested.
func encodableResource(r Resource) Resource {
	switch x := r.(type) {
	case *Bundle:
		if x == nil {
			return r
		}
		for _, e := range x.Entry {
			if e.Inline != nil {
				return r
			}
		}
		out := &bundleOut{plainBundle: (*plainBundle)(x), Entry: make([]plainEntry, len(x.Entry))}
		for i, e := range x.Entry {
			if e.Resource != nil {
				e.Resource = encodableResource(Stamp(e.Resource))
			}
			out.Entry[i] = plainEntry(e)
		}
		return out
	case *Parameters:
		if x == nil || !slices.ContainsFunc(x.Parameter, func(p Parameter) bool { return isBundle(p.Resource) }) {
			return r
		}
		cp := *x
		cp.Parameter = slices.Clone(x.Parameter)
		for i, p := range cp.Parameter {
			if isBundle(p.Resource) {
				cp.Parameter[i].Resource = encodableResource(p.Resource)
			}
		}
		return &cp
	}
	return r
}

// isBundle reports whether r is a (non-nil) *Bundle.
func isBundle(r Resource) bool {
	b, ok := r.(*Bundle)
	return ok && b != nil
}

// GetResourceType implements Resource, so that an encodable Bundle can
// stand where its Bundle stood.
func (*bundleOut) GetResourceType() string { return "Bundle" }

// peekResourceType returns the resourceType of a resource whose first
// member is a plain "resourceType" string, as resources are usually
// written; ok is false for any other shape.
func peekResourceType(data []byte) (string, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return "", false
	}
	i = skipSpace(data, i+1)
	const key = `"resourceType"`
	if len(data)-i < len(key) || string(data[i:i+len(key)]) != key {
		return "", false
	}
	i = skipSpace(data, i+len(key))
	if i >= len(data) || data[i] != ':' {
		return "", false
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return "", false
	}
	start := i + 1
	for i = start; i < len(data) && data[i] != '"'; i++ {
		if c := data[i]; c == '\\' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	if i >= len(data) {
		return "", false
	}
	if t := modelledType(data[start:i]); t != "" {
		return t, true
	}
	return string(data[start:i]), true
}

// modelledType returns name as the constant string of the resource type
// newResource models, or "" for another: the common case without making a
// string of the bytes.
func modelledType(name []byte) string {
	switch string(name) { // compared without a conversion
	case "Bundle":
		return "Bundle"
	case "MessageHeader":
		return "MessageHeader"
	case "MedicationRequest":
		return "MedicationRequest"
	case "MedicationDispense":
		return "MedicationDispense"
	case "Patient":
		return "Patient"
	case "Practitioner":
		return "Practitioner"
	case "PractitionerRole":
		return "PractitionerRole"
	case "Organization":
		return "Organization"
	case "HealthcareService":
		return "HealthcareService"
	case "Location":
		return "Location"
	case "Provenance":
		return "Provenance"
	case "CommunicationRequest":
		return "CommunicationRequest"
	case "List":
		return "List"
	case "Task":
		return "Task"
	case "Claim":
		return "Claim"
	case "Parameters":
		return "Parameters"
	case "OperationOutcome":
		return "OperationOutcome"
	}
	return ""
}
