package fhir

// CapabilityStatement is a FHIR server's description of itself, the answer
// to GET metadata (the simulator's, for one). DecodeResource does not map
// it to this type: porxgate only writes it.
type CapabilityStatement struct {
	Base
	Name        string                `json:"name,omitempty"`
	Status      string                `json:"status,omitempty"`
	Date        string                `json:"date,omitempty"`
	Publisher   string                `json:"publisher,omitempty"`
	Kind        string                `json:"kind,omitempty"`
	Software    *CapabilitySoftware   `json:"software,omitempty"`
	FHIRVersion string                `json:"fhirVersion,omitempty"`
	Format      []string              `json:"format,omitempty"`
	Rest        []CapabilityRest      `json:"rest,omitempty"`
	Messaging   []CapabilityMessaging `json:"messaging,omitempty"`
}

// GetResourceType implements Resource.
func (*CapabilityStatement) GetResourceType() string { return "CapabilityStatement" }

// CapabilitySoftware names the software a CapabilityStatement describes.
type CapabilitySoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// CapabilityRest is what a server offers over its RESTful interface.
type CapabilityRest struct {
	Mode      string                `json:"mode"`
	Resource  []CapabilityResource  `json:"resource,omitempty"`
	Operation []CapabilityOperation `json:"operation,omitempty"`
}

// CapabilityResource is one resource type a server serves.
type CapabilityResource struct {
	Type string `json:"type"`
}

// CapabilityOperation is one operation ($process-message...) a server
// serves, with its OperationDefinition.
type CapabilityOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

// CapabilityMessaging is what a server offers by FHIR messaging.
type CapabilityMessaging struct {
	SupportedMessage []CapabilitySupportedMessage `json:"supportedMessage,omitempty"`
}

// CapabilitySupportedMessage is one message a server sends or receives,
// named by its MessageDefinition.
type CapabilitySupportedMessage struct {
	Mode       string `json:"mode"`
	Definition string `json:"definition"`
}
