package fhir

import (
	"fmt"

	json "github.com/goccy/go-json"
)

// Base holds the elements every resource this package models shares.
type Base struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id,omitempty"`
	Meta         *Meta        `json:"meta,omitempty"`
	Contained    ResourceList `json:"contained,omitempty"`
	Extension    []Extension  `json:"extension,omitempty"`
}

// GetID returns the resource's logical id.
func (b *Base) GetID() string { return b.ID }

func (b *Base) stamp(t string) {
	if b.ResourceType == "" {
		b.ResourceType = t
	}
}

// Stamp sets a resource's resourceType element from its Go type when it is
// empty, so resources built in code serialise correctly.
func Stamp(r Resource) Resource {
	if s, ok := r.(interface{ stamp(string) }); ok {
		s.stamp(r.GetResourceType())
	}
	return r
}

// ResourceList is a list of resources of mixed types (e.g. contained).
type ResourceList []Resource

// UnmarshalJSON decodes each resource into its Go type; the strings of
// each refer to its own copy of its bytes (see DecodeResourceRef).
func (l *ResourceList) UnmarshalJSON(data []byte) error {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return err
	}
	out := make(ResourceList, 0, len(raws))
	for i, raw := range raws {
		// raw is a copy of its own that nothing else holds or changes,
		// so the resource's strings may refer to it (see
		// DecodeResourceRef) instead of each being copied again.
		r, err := decodeResourceAs(raw, true)
		if err != nil {
			return fmt.Errorf("contained[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	*l = out
	return nil
}

// FindContained returns the contained resource with the given id (with or
// without the leading '#'), or nil.
func (b *Base) FindContained(ref string) Resource {
	if len(ref) > 0 && ref[0] == '#' {
		ref = ref[1:]
	}
	for _, r := range b.Contained {
		if resourceID(r) == ref {
			return r
		}
	}
	return nil
}
