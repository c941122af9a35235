package fhir

import (
	"fmt"

	json "github.com/goccy/go-json"
)

// Parameters is the input or output of a FHIR operation ($release, $prepare).
type Parameters struct {
	Base
	Parameter []Parameter `json:"parameter,omitempty"`
}

// GetResourceType implements Resource.
func (*Parameters) GetResourceType() string { return "Parameters" }

// Parameter is one named parameter, with a value, a resource or parts.
type Parameter struct {
	Name            string      `json:"name"`
	ValueString     *string     `json:"valueString,omitempty"`
	ValueCode       *string     `json:"valueCode,omitempty"`
	ValueIdentifier *Identifier `json:"valueIdentifier,omitempty"`
	ValueReference  *Reference  `json:"valueReference,omitempty"`
	ValueBoolean    *bool       `json:"valueBoolean,omitempty"`
	ValueDateTime   *string     `json:"valueDateTime,omitempty"`
	Resource        Resource    `json:"resource,omitempty"`
	Part            []Parameter `json:"part,omitempty"`
}

// UnmarshalJSON decodes a parameter, choosing the resource's Go type by resourceType.
func (p *Parameter) UnmarshalJSON(data []byte) error {
	type plain Parameter
	var raw struct {
		plain
		Resource json.RawMessage `json:"resource"`
	}
	if err := Unmarshal(data, &raw); err != nil {
		return err
	}
	*p = Parameter(raw.plain)
	p.Resource = nil
	if len(raw.Resource) > 0 {
		r, err := DecodeResource(raw.Resource)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", raw.Name, err)
		}
		p.Resource = r
	}
	return nil
}

// Find returns the first parameter with the given name, or nil.
func (p *Parameters) Find(name string) *Parameter {
	for i := range p.Parameter {
		if p.Parameter[i].Name == name {
			return &p.Parameter[i]
		}
	}
	return nil
}

// OperationOutcome reports errors and warnings.
type OperationOutcome struct {
	Base
	Issue []Issue `json:"issue"`
}

// GetResourceType implements Resource.
func (*OperationOutcome) GetResourceType() string { return "OperationOutcome" }

// Issue is one problem of an OperationOutcome.
type Issue struct {
	Severity    string           `json:"severity"`
	Code        string           `json:"code"`
	Details     *CodeableConcept `json:"details,omitempty"`
	Diagnostics string           `json:"diagnostics,omitempty"`
	Expression  []string         `json:"expression,omitempty"`
}
