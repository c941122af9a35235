package fhir

import "encoding/json"

// MessageHeader is the first entry of a FHIR message Bundle.
type MessageHeader struct {
	Base
	EventCoding Coding                 `json:"eventCoding"`
	Destination []MessageDestination   `json:"destination,omitempty"`
	Sender      *Reference             `json:"sender,omitempty"`
	Source      *MessageSource         `json:"source,omitempty"`
	Reason      *CodeableConcept       `json:"reason,omitempty"`
	Response    *MessageHeaderResponse `json:"response,omitempty"`
	Focus       []Reference            `json:"focus,omitempty"`
}

// GetResourceType implements Resource.
func (*MessageHeader) GetResourceType() string { return "MessageHeader" }

// MessageDestination is a MessageHeader destination.
type MessageDestination struct {
	Endpoint string     `json:"endpoint,omitempty"`
	Receiver *Reference `json:"receiver,omitempty"`
}

// MessageSource is a MessageHeader source.
type MessageSource struct {
	Name     string `json:"name,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
}

// MessageHeaderResponse links a response message to its request.
type MessageHeaderResponse struct {
	Identifier string `json:"identifier,omitempty"`
	Code       string `json:"code,omitempty"`
}

// MedicationRequest is one line item of a prescription.
type MedicationRequest struct {
	Base
	Identifier                []Identifier      `json:"identifier,omitempty"`
	Status                    string            `json:"status,omitempty"`
	StatusReason              *CodeableConcept  `json:"statusReason,omitempty"`
	Intent                    string            `json:"intent,omitempty"`
	Category                  []CodeableConcept `json:"category,omitempty"`
	MedicationCodeableConcept *CodeableConcept  `json:"medicationCodeableConcept,omitempty"`
	MedicationReference       *Reference        `json:"medicationReference,omitempty"`
	Subject                   *Reference        `json:"subject,omitempty"`
	AuthoredOn                string            `json:"authoredOn,omitempty"`
	Requester                 *Reference        `json:"requester,omitempty"`
	Performer                 *Reference        `json:"performer,omitempty"`
	Recorder                  *Reference        `json:"recorder,omitempty"`
	BasedOn                   []Reference       `json:"basedOn,omitempty"`
	GroupIdentifier           *Identifier       `json:"groupIdentifier,omitempty"`
	CourseOfTherapyType       *CodeableConcept  `json:"courseOfTherapyType,omitempty"`
	Note                      []Annotation      `json:"note,omitempty"`
	DosageInstruction         []Dosage          `json:"dosageInstruction,omitempty"`
	DispenseRequest           *DispenseRequest  `json:"dispenseRequest,omitempty"`
	Substitution              *Substitution     `json:"substitution,omitempty"`
}

// GetResourceType implements Resource.
func (*MedicationRequest) GetResourceType() string { return "MedicationRequest" }

// DispenseRequest is MedicationRequest.dispenseRequest.
type DispenseRequest struct {
	Extension              []Extension      `json:"extension,omitempty"`
	InitialFill            *json.RawMessage `json:"initialFill,omitempty"`
	DispenseInterval       *Quantity        `json:"dispenseInterval,omitempty"`
	ValidityPeriod         *Period          `json:"validityPeriod,omitempty"`
	NumberOfRepeatsAllowed *json.Number     `json:"numberOfRepeatsAllowed,omitempty"`
	Quantity               *Quantity        `json:"quantity,omitempty"`
	ExpectedSupplyDuration *Quantity        `json:"expectedSupplyDuration,omitempty"`
	Performer              *Reference       `json:"performer,omitempty"`
}

// Substitution is MedicationRequest.substitution.
type Substitution struct {
	AllowedBoolean         *bool            `json:"allowedBoolean,omitempty"`
	AllowedCodeableConcept *CodeableConcept `json:"allowedCodeableConcept,omitempty"`
	Reason                 *CodeableConcept `json:"reason,omitempty"`
}

// Patient is the person the prescription is for.
type Patient struct {
	Base
	Identifier           []Identifier   `json:"identifier,omitempty"`
	Active               *bool          `json:"active,omitempty"`
	Name                 []HumanName    `json:"name,omitempty"`
	Telecom              []ContactPoint `json:"telecom,omitempty"`
	Gender               string         `json:"gender,omitempty"`
	BirthDate            string         `json:"birthDate,omitempty"`
	DeceasedDateTime     string         `json:"deceasedDateTime,omitempty"`
	DeceasedBoolean      *bool          `json:"deceasedBoolean,omitempty"`
	Address              []Address      `json:"address,omitempty"`
	GeneralPractitioner  []Reference    `json:"generalPractitioner,omitempty"`
	ManagingOrganization *Reference     `json:"managingOrganization,omitempty"`
}

// GetResourceType implements Resource.
func (*Patient) GetResourceType() string { return "Patient" }

// Practitioner is a prescriber or dispenser as a person.
type Practitioner struct {
	Base
	Identifier []Identifier   `json:"identifier,omitempty"`
	Active     *bool          `json:"active,omitempty"`
	Name       []HumanName    `json:"name,omitempty"`
	Telecom    []ContactPoint `json:"telecom,omitempty"`
	Address    []Address      `json:"address,omitempty"`
	Gender     string         `json:"gender,omitempty"`
}

// GetResourceType implements Resource.
func (*Practitioner) GetResourceType() string { return "Practitioner" }

// PractitionerRole is a practitioner acting in a role for an organisation.
type PractitionerRole struct {
	Base
	Identifier        []Identifier      `json:"identifier,omitempty"`
	Active            *bool             `json:"active,omitempty"`
	Practitioner      *Reference        `json:"practitioner,omitempty"`
	Organization      *Reference        `json:"organization,omitempty"`
	Code              []CodeableConcept `json:"code,omitempty"`
	Specialty         []CodeableConcept `json:"specialty,omitempty"`
	Location          []Reference       `json:"location,omitempty"`
	HealthcareService []Reference       `json:"healthcareService,omitempty"`
	Telecom           []ContactPoint    `json:"telecom,omitempty"`
}

// GetResourceType implements Resource.
func (*PractitionerRole) GetResourceType() string { return "PractitionerRole" }

// Organization is an ODS organisation.
type Organization struct {
	Base
	Identifier []Identifier      `json:"identifier,omitempty"`
	Active     *bool             `json:"active,omitempty"`
	Type       []CodeableConcept `json:"type,omitempty"`
	Name       string            `json:"name,omitempty"`
	Telecom    []ContactPoint    `json:"telecom,omitempty"`
	Address    []Address         `json:"address,omitempty"`
	PartOf     *Reference        `json:"partOf,omitempty"`
}

// GetResourceType implements Resource.
func (*Organization) GetResourceType() string { return "Organization" }

// HealthcareService is a service (e.g. a ward or clinic) in secondary care.
type HealthcareService struct {
	Base
	Identifier []Identifier      `json:"identifier,omitempty"`
	Active     *bool             `json:"active,omitempty"`
	ProvidedBy *Reference        `json:"providedBy,omitempty"`
	Type       []CodeableConcept `json:"type,omitempty"`
	Location   []Reference       `json:"location,omitempty"`
	Name       string            `json:"name,omitempty"`
	Telecom    []ContactPoint    `json:"telecom,omitempty"`
}

// GetResourceType implements Resource.
func (*HealthcareService) GetResourceType() string { return "HealthcareService" }

// Location is a physical place, used for a HealthcareService's address.
type Location struct {
	Base
	Identifier []Identifier `json:"identifier,omitempty"`
	Status     string       `json:"status,omitempty"`
	Mode       string       `json:"mode,omitempty"`
	Name       string       `json:"name,omitempty"`
	Address    *Address     `json:"address,omitempty"`
}

// GetResourceType implements Resource.
func (*Location) GetResourceType() string { return "Location" }

// Provenance carries the prescriber's signature over a prescription.
type Provenance struct {
	Base
	Target    []Reference       `json:"target,omitempty"`
	Recorded  string            `json:"recorded,omitempty"`
	Agent     []ProvenanceAgent `json:"agent,omitempty"`
	Signature []Signature       `json:"signature,omitempty"`
}

// GetResourceType implements Resource.
func (*Provenance) GetResourceType() string { return "Provenance" }

// ProvenanceAgent is who took part in the provenance activity.
type ProvenanceAgent struct {
	Type *CodeableConcept `json:"type,omitempty"`
	Who  Reference        `json:"who"`
}

// CommunicationRequest carries additional instructions and patient information.
type CommunicationRequest struct {
	Base
	Status    string                 `json:"status,omitempty"`
	Subject   *Reference             `json:"subject,omitempty"`
	Payload   []CommunicationPayload `json:"payload,omitempty"`
	Requester *Reference             `json:"requester,omitempty"`
	Recipient []Reference            `json:"recipient,omitempty"`
}

// GetResourceType implements Resource.
func (*CommunicationRequest) GetResourceType() string { return "CommunicationRequest" }

// CommunicationPayload is one payload of a CommunicationRequest.
type CommunicationPayload struct {
	ContentString    string     `json:"contentString,omitempty"`
	ContentReference *Reference `json:"contentReference,omitempty"`
}

// List is a list of items, e.g. the repeat medications list.
type List struct {
	Base
	Status  string           `json:"status,omitempty"`
	Mode    string           `json:"mode,omitempty"`
	Title   string           `json:"title,omitempty"`
	Code    *CodeableConcept `json:"code,omitempty"`
	Subject *Reference       `json:"subject,omitempty"`
	Entry   []ListEntry      `json:"entry,omitempty"`
}

// GetResourceType implements Resource.
func (*List) GetResourceType() string { return "List" }

// ListEntry is one item of a List.
type ListEntry struct {
	Item Reference `json:"item"`
}
