package fhir

import (
	"bytes"
	"fmt"

	json "github.com/goccy/go-json"
)

// Resource is any FHIR resource this package models.
type Resource interface {
	// GetResourceType returns the FHIR resourceType.
	GetResourceType() string
}

// RawResource keeps a resource of a type this package does not model,
// byte for byte.
type RawResource struct {
	Type string
	JSON json.RawMessage
}

// GetResourceType implements Resource.
func (r *RawResource) GetResourceType() string { return r.Type }

// MarshalJSON writes the resource as it was read.
func (r *RawResource) MarshalJSON() ([]byte, error) { return r.JSON, nil }

// Bundle is a FHIR Bundle (type message, searchset, collection...).
type Bundle struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Meta         *Meta        `json:"meta,omitempty"`
	Identifier   *Identifier  `json:"identifier,omitempty"`
	Type         string       `json:"type,omitempty"`
	Timestamp    string       `json:"timestamp,omitempty"`
	Total        *int         `json:"total,omitempty"`
	Link         []BundleLink `json:"link,omitempty"`
	Entry        []Entry      `json:"entry,omitempty"`
}

// GetResourceType implements Resource.
func (*Bundle) GetResourceType() string { return "Bundle" }

// BundleLink is a link of a searchset bundle.
type BundleLink struct {
	Relation string `json:"relation,omitempty"`
	URL      string `json:"url,omitempty"`
}

// Entry is one entry of a Bundle.
type Entry struct {
	FullURL  string       `json:"fullUrl,omitempty"`
	Resource Resource     `json:"resource,omitempty"`
	Search   *EntrySearch `json:"search,omitempty"`
	// Inline holds a resource written directly as the entry, without the
	// "resource" wrapper, as the EPS sandbox does inside failedPrescriptions.
	Inline Resource `json:"-"`
}

// MarshalJSON writes the entry, or its inline resource where it had one.
func (e Entry) MarshalJSON() ([]byte, error) {
	if e.Inline != nil {
		return Marshal(Stamp(e.Inline))
	}
	if e.Resource != nil {
		Stamp(e.Resource)
	}
	return Marshal(plainEntry(e))
}

// EntrySearch tells why an entry is in a searchset.
type EntrySearch struct {
	Mode string `json:"mode,omitempty"`
}

// UnmarshalJSON decodes an entry, choosing the resource's Go type by its resourceType.
func (e *Entry) UnmarshalJSON(data []byte) error {
	var raw struct {
		ResourceType string          `json:"resourceType"`
		FullURL      string          `json:"fullUrl"`
		Resource     json.RawMessage `json:"resource"`
		Search       *EntrySearch    `json:"search"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw.ResourceType != "" {
		res, err := DecodeResource(data)
		if err != nil {
			return fmt.Errorf("inline entry: %w", err)
		}
		e.Inline = res
		return nil
	}
	e.FullURL, e.Search = raw.FullURL, raw.Search
	if len(raw.Resource) == 0 {
		return nil
	}
	res, err := DecodeResource(raw.Resource)
	if err != nil {
		return fmt.Errorf("entry %s: %w", raw.FullURL, err)
	}
	e.Resource = res
	return nil
}

// DecodeResource decodes a resource, choosing its Go type by resourceType;
// a type this package does not model comes back as *RawResource.
func DecodeResource(data []byte) (Resource, error) {
	return decodeResourceAs(data, false)
}

// DecodeResourceRef is DecodeResource for a message that is translated and
// dropped: the strings of the resource and of its Bundle entries refer to
// one private copy of data instead of each being a copy of its own, which
// saves an allocation per string. A string kept after the resource keeps
// that whole copy alive, so long-lived state should use DecodeResource.
// data itself is not kept: the caller may reuse it.
func DecodeResourceRef(data []byte) (Resource, error) {
	return decodeResourceAs(bytes.Clone(data), true)
}

// DecodeResourceBorrowed is DecodeResourceRef without the private copy:
// the strings of the resource and of its Bundle entries refer to data
// itself, which saves allocating (and the garbage collector tracing) a
// copy of the message. The caller lends data for as long as it holds the
// resource: it must not change data, nor let it be changed or reused
// (a server's request buffer), until nothing it keeps refers to the
// resource or to a string taken from it. A translation that returns only
// bytes it wrote and errors whose texts it formatted (CancelToV3,
// DispenseToV3, PrescribeToV3) may decode its input so; one whose result
// carries decoded strings must use DecodeResourceRef.
func DecodeResourceBorrowed(data []byte) (Resource, error) {
	return decodeResourceAs(data, true)
}

// decodeResourceAs is DecodeResource; ref (for data no one else holds)
// makes the strings decoded directly refer to data (see DecodeResourceRef).
func decodeResourceAs(data []byte, ref bool) (Resource, error) {
	return decodeResourceIn(data, ref, nil)
}

// decodeResourceIn is decodeResourceAs with a Bundle read the usual way
// taking its structs from sp (ParseBundleIn); nil: fresh memory.
func decodeResourceIn(data []byte, ref bool, sp *Space) (Resource, error) {
	if t, ok := peekResourceType(data); ok {
		if res, ok := decodeAs(t, data, ref, sp); ok {
			return res, nil
		}
	}
	res, err := decodeResource(data, ref)
	if err != nil {
		// Text EPS gives in pieces (text_pieces.go): read it joined.
		if joined, ok := joinTextPieces(data); ok {
			if r, jerr := decodeResource(joined, ref); jerr == nil {
				return r, nil
			}
		}
	}
	return res, err
}

// unmarshal decodes data into v, its strings referring to data when ref.
func unmarshal(data []byte, v any, ref bool) error {
	if ref {
		return json.UnmarshalWithOption(data, v, json.DecodeNoCopyString())
	}
	return json.Unmarshal(data, v)
}

// decodeAs decodes a resource that starts by declaring its resourceType t
// in one pass; ok is false (and DecodeResource reads it the general way)
// when t is not modelled, the data does not decode, or it declares another
// resourceType after all. A Bundle read the usual way takes its structs
// from sp (nil: fresh memory).
func decodeAs(t string, data []byte, ref bool, sp *Space) (res Resource, ok bool) {
	switch t {
	case "Bundle":
		b, ok := decodeBundle(data, ref, sp)
		return b, ok
	case "Parameters":
		p, ok := decodeParameters(data, ref)
		return p, ok
	}
	if res, ok = decodeFast(t, data, ref); !ok {
		// The package's decoder gave up: the codec's way, into a resource
		// of its own.
		if res = newResource(t); res == nil || unmarshal(data, res, ref) != nil {
			return nil, false
		}
	}
	if !declares(res, t) {
		return nil, false
	}
	return res, true
}

// decodeResource is DecodeResource the general way: the resourceType
// first, then the resource.
func decodeResource(data []byte, ref bool) (Resource, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("resource: %w", err)
	}
	if head.ResourceType == "" {
		return nil, fmt.Errorf("resource: no resourceType")
	}
	res := newResource(head.ResourceType)
	if res == nil {
		return &RawResource{Type: head.ResourceType, JSON: append(json.RawMessage(nil), data...)}, nil
	}
	if err := unmarshal(data, res, ref); err != nil {
		return nil, fmt.Errorf("%s: %w", head.ResourceType, err)
	}
	return res, nil
}

// newResource returns a new zero value of the Go type modelling resourceType.
func newResource(resourceType string) Resource {
	switch resourceType {
	case "Bundle":
		return &Bundle{}
	case "MessageHeader":
		return &MessageHeader{}
	case "MedicationRequest":
		return &MedicationRequest{}
	case "MedicationDispense":
		return &MedicationDispense{}
	case "Patient":
		return &Patient{}
	case "Practitioner":
		return &Practitioner{}
	case "PractitionerRole":
		return &PractitionerRole{}
	case "Organization":
		return &Organization{}
	case "HealthcareService":
		return &HealthcareService{}
	case "Location":
		return &Location{}
	case "Provenance":
		return &Provenance{}
	case "CommunicationRequest":
		return &CommunicationRequest{}
	case "List":
		return &List{}
	case "Task":
		return &Task{}
	case "Claim":
		return &Claim{}
	case "Parameters":
		return &Parameters{}
	case "OperationOutcome":
		return &OperationOutcome{}
	}
	return nil
}

// ParseBundle decodes a Bundle from JSON.
func ParseBundle(data []byte) (*Bundle, error) {
	return asBundle(DecodeResource(data))
}

// ParseBundleRef is ParseBundle for a message that is translated and
// dropped (see DecodeResourceRef).
func ParseBundleRef(data []byte) (*Bundle, error) {
	return asBundle(DecodeResourceRef(data))
}

// ParseBundleBorrowed is ParseBundle for a translation that lends it its
// input (see DecodeResourceBorrowed).
func ParseBundleBorrowed(data []byte) (*Bundle, error) {
	return asBundle(DecodeResourceBorrowed(data))
}

// asBundle returns the decoded resource as a Bundle.
func asBundle(res Resource, err error) (*Bundle, error) {
	if err != nil {
		return nil, err
	}
	b, ok := res.(*Bundle)
	if !ok {
		return nil, fmt.Errorf("resourceType %s, want Bundle", res.GetResourceType())
	}
	return b, nil
}

// Resolve returns the entry resource whose fullUrl equals ref (or whose
// "Type/id" matches it), or nil.
func (b *Bundle) Resolve(ref string) Resource {
	if ref == "" {
		return nil
	}
	for _, e := range b.Entry {
		if e.FullURL == ref {
			return e.Resource
		}
	}
	for _, e := range b.Entry {
		if e.Resource != nil {
			if id := resourceID(e.Resource); id != "" && e.Resource.GetResourceType()+"/"+id == ref {
				return e.Resource
			}
		}
	}
	return nil
}

// Add appends an entry with a fullUrl and resource.
func (b *Bundle) Add(fullURL string, r Resource) {
	b.Entry = append(b.Entry, Entry{FullURL: fullURL, Resource: r})
}

// EntriesOf returns the resources of one resourceType, in bundle order.
func EntriesOf[T Resource](b *Bundle) []T {
	var out []T
	for _, e := range b.Entry {
		if r, ok := e.Resource.(T); ok {
			out = append(out, r)
		}
	}
	return out
}
